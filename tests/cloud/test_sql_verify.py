"""``salesflow sql verify`` against the contract-checking Confluent test server, one scenario per test:
valid, invalid (Confluent's detail), valid but not append-only, 401, 409 name conflict, 429 then
success, a poll that never finishes, first deploy, DDL already applied, and Ctrl-C. Whatever happens,
every throwaway statement the run created is deleted."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cloud_support import (
    COMPUTE_POOL_ID,
    ENVIRONMENT_ID,
    KEY,
    SECRET,
    Confluent,
    Planner,
    contract_schema,
    explain_plan,
)
from confluent_server import Reply

from salesflow.cli import main
from salesflow.config import load_environment
from salesflow.contracts import SALES_ORDER_LINE, load_schema_json
from salesflow.sql.avro_types import Column, record_columns
from salesflow.sql.render import render_statements
from salesflow.sql.verify import statements_to_verify

REPO_ROOT = Path(__file__).resolve().parents[2]
REVISION = "abc1234"
UNNEST_DETAIL = (
    "SQL validation failed. Error from line 47, column 12 to line 47, column 56.\n\n"
    "Caused by: UNNEST with ORDINALITY is not supported yet."
)
MISSING_TABLE_DETAIL = (
    "Table (or view) 'sales_order_lines_clean' does not exist, may be on a private cluster, or you do not "
    "have permission to access it."
)
DEV = load_environment("dev")
STATEMENTS = statements_to_verify(DEV)
DDL = [s for s in STATEMENTS if s.kind == "ddl"]
# dev's continuous statement (first_row dedup), then the fallback variant's (window dedup), verified too.
CONTINUOUS, FALLBACK = (s for s in STATEMENTS if s.kind == "continuous")


def verify(confluent: Confluent, *extra: str, timeout: str = "5") -> tuple[int, str]:
    arguments = [
        "sql",
        "verify",
        "--env",
        "dev",
        "--endpoint",
        confluent.url,
        "--environment-id",
        ENVIRONMENT_ID,
        "--compute-pool-id",
        COMPUTE_POOL_ID,
        "--revision",
        REVISION,
        "--poll-interval",
        "0.01",
        "--timeout",
        timeout,
        *extra,
    ]
    result = CliRunner().invoke(main, arguments, catch_exceptions=False)
    return result.exit_code, result.output


def report(confluent: Confluent, *extra: str, **settings: Any) -> tuple[int, dict[str, Any]]:
    code, output = verify(confluent, "--format", "json", *extra, **settings)
    return code, json.loads(output)


def verdicts(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(check["statement"], check["step"], check["verdict"]) for check in document["checks"]]


def assert_nothing_left(confluent: Confluent) -> None:
    created = confluent.created_names()
    assert created, "the scenario created no statement"
    assert set(confluent.deleted_names()) == set(created)
    assert all(name.startswith(f"dev-verify-{REVISION}-") for name in created)
    assert [name for name in confluent.flink.statements if "-verify-" in name] == []


def test_valid_statements_pass_with_append_only_traits_and_plan(confluent: Confluent) -> None:
    planner = Planner(seen=[])
    confluent.flink.planner = planner
    code, document = report(confluent)
    assert code == 0, document
    assert document["ok"] is True
    assert verdicts(document) == [
        *((s.name, "dry run", "valid") for s in DDL),
        *(
            check
            for statement in (CONTINUOUS, FALLBACK)
            for check in (
                (statement.name, "dry run", "valid"),
                (statement.name, "query dry run", "valid"),
                (statement.name, "EXPLAIN", "append"),
            )
        ),
    ]
    assert render_statements(DEV, "confluent") == STATEMENTS[: len(DDL) + 1], "dev deploys first_row"
    assert "TUMBLE(" in FALLBACK.text and "TUMBLE(" not in CONTINUOUS.text
    explain = document["checks"][len(DDL) + 2]
    assert explain["state_size"] == "high"
    assert explain["operators"] == {
        "StreamTableSourceScan [1]": "low",
        "StreamDeduplicate [4]": "high",
        "StreamSink [7]": "low",
    }
    assert_nothing_left(confluent)
    # What Confluent was asked: dry runs flagged, EXPLAIN not; the statements' own properties kept;
    # the Terraform pepper expression replaced by a 64-hex stand-in, the same in every text.
    by_name = {name: (text, properties) for name, text, properties in planner.seen}
    assert set(by_name) == {
        *(f"dev-verify-{REVISION}-{s.id}" for s in STATEMENTS),
        *(
            f"dev-verify-{REVISION}-{s.id}-{check}"
            for s in (CONTINUOUS, FALLBACK)
            for check in ("query", "explain")
        ),
    }
    for name, (text, properties) in by_name.items():
        assert (properties.get("sql.dry-run") == "true") != name.endswith("-explain"), name
        assert "${" not in text
    _, insert_properties = by_name[f"dev-verify-{REVISION}-{CONTINUOUS.id}"]
    assert {k: v for k, v in insert_properties.items() if k != "sql.dry-run"} == CONTINUOUS.properties
    peppers = {re.search(r"CONCAT\('([^']*)'", text)[1] for text, _ in by_name.values() if "CONCAT('" in text}
    assert len(peppers) == 1 and re.fullmatch(r"[0-9a-f]{64}", peppers.pop())
    assert by_name[f"dev-verify-{REVISION}-{CONTINUOUS.id}-query"][0].lstrip().upper().startswith("SELECT")
    assert by_name[f"dev-verify-{REVISION}-{CONTINUOUS.id}-explain"][0].startswith("EXPLAIN INSERT INTO")


def test_the_table_shows_each_check_and_operator_state(confluent: Confluent) -> None:
    confluent.flink.planner = Planner()
    code, output = verify(confluent)
    assert code == 0, output
    header = next(line for line in output.splitlines() if line.startswith("Statement"))
    assert re.split(r"\s{2,}", header) == [
        "Statement",
        "Check",
        "Verdict",
        "Append-only",
        "State size",
        "Detail",
    ]
    assert "StreamDeduplicate [4] state size high" in output
    assert "verdict: PASS" in output and "throwaway statements: 8 created, 8 deleted" in output


def test_a_statement_that_fails_its_dry_run_fails_with_confluents_detail(confluent: Confluent) -> None:
    confluent.flink.planner = Planner(insert_detail=UNNEST_DETAIL)
    code, output = verify(confluent)
    assert code == 1
    assert "UNNEST with ORDINALITY is not supported yet" in output
    assert re.search(rf"{CONTINUOUS.name}\s+dry run\s+invalid", output)
    assert "verdict: FAIL" in output
    assert_nothing_left(confluent)


def test_a_valid_but_updating_statement_fails(confluent: Confluent) -> None:
    upsert_traits = {
        "sql_kind": "SELECT",
        "is_bounded": False,
        "is_append_only": False,
        "upsert_columns": [0],
    }
    confluent.flink.planner = Planner(query_traits=upsert_traits, explain=explain_plan("upsert", "upsert"))
    code, document = report(confluent)
    assert code == 1
    checks = {(c["step"]): c for c in document["checks"] if c["statement"] == CONTINUOUS.name}
    assert checks["query dry run"]["verdict"] == "not append-only"
    assert "upsert columns [0]" in checks["query dry run"]["detail"]
    assert checks["EXPLAIN"]["verdict"] == "upsert at the sink" and checks["EXPLAIN"]["ok"] is False
    assert_nothing_left(confluent)


def test_result_columns_must_be_the_clean_contracts(confluent: Confluent) -> None:
    columns = record_columns(load_schema_json(SALES_ORDER_LINE))
    columns[1] = Column("line_number", "DECIMAL(10, 2)", False)
    traits = {"sql_kind": "SELECT", "is_append_only": True, "schema": contract_schema(columns)}
    confluent.flink.planner = Planner(query_traits=traits)
    code, document = report(confluent)
    assert code == 1
    query = next(c for c in document["checks"] if c["step"] == "query dry run")
    assert query["verdict"] == "contract mismatch"
    assert "column 'line_number' is DECIMAL(10, 2), contract INT" in query["detail"]
    assert_nothing_left(confluent)


def test_a_refused_key_stops_the_run_without_leaking_it(
    confluent: Confluent, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLINK_API_KEY", "WRONGKEY9")
    monkeypatch.setenv("FLINK_API_SECRET", "wrong+secret/9")
    code, output = verify(confluent)
    assert code == 1
    assert "HTTP 401" in output
    assert "WRONGKEY9" not in output and "wrong+secret/9" not in output
    assert confluent.created_names() == []
    assert len(confluent.operations("getSqlv1Statement")) == 1  # stopped at the first refusal


def test_a_leftover_of_the_same_name_is_replaced(confluent: Confluent) -> None:
    leftover = f"dev-verify-{REVISION}-{DDL[0].id}"
    confluent.flink.preload(leftover, phase="COMPLETED")
    confluent.flink.planner = Planner()
    code, output = verify(confluent)
    assert code == 0, output
    creates = [(e.request["name"], e.status) for e in confluent.operations("createSqlv1Statement")]
    assert creates[:2] == [(leftover, 409), (leftover, 201)]
    assert f"{leftover} existed" in output
    assert_nothing_left(confluent)


def test_a_rate_limited_submission_is_retried_after_retry_after(confluent: Confluent) -> None:
    confluent.flink.planner = Planner()
    confluent.server.inject("createSqlv1Statement", Reply(429, None, {"Retry-After": "1"}))
    code, output = verify(confluent)
    assert code == 0, output
    first, second = confluent.operations("createSqlv1Statement")[:2]
    assert (first.status, second.status) == (429, 201) and second.at - first.at >= 0.95
    assert_nothing_left(confluent)


def test_a_poll_that_never_finishes_times_out_and_deletes_everything(confluent: Confluent) -> None:
    confluent.flink.planner = Planner(phases=("PENDING",))
    started = time.monotonic()
    code, document = report(confluent, timeout="0.4")
    assert code == 1
    assert time.monotonic() - started < 15
    assert {check["verdict"] for check in document["checks"]} == {"timeout"}
    assert all("still PENDING after 0.4 s" in check["detail"] for check in document["checks"])
    assert_nothing_left(confluent)


def test_first_deploy_is_said_plainly_and_needs_the_flag(confluent: Confluent) -> None:
    confluent.flink.planner = Planner(insert_detail=MISSING_TABLE_DETAIL)
    code, output = verify(confluent)
    assert code == 1
    assert "FIRST DEPLOY" in output and "Pass --first-deploy to accept that." in output
    assert re.search(rf"{CONTINUOUS.name}\s+dry run\s+needs the table", output)

    confluent.server.reset()
    code, document = report(confluent, "--first-deploy")
    assert code == 0, document
    assert document["first_deploy"] is True
    assert verdicts(document)[len(DDL) :] == [
        check
        for statement in (CONTINUOUS, FALLBACK)
        for check in (
            (statement.name, "dry run", "needs the table"),
            (statement.name, "query dry run", "valid"),
            (statement.name, "EXPLAIN (query)", "append"),
        )
    ]
    assert_nothing_left(confluent)


def test_a_missing_table_after_its_create_was_applied_is_no_first_deploy(confluent: Confluent) -> None:
    """The clean table's CREATE is applied, yet the INSERT cannot see the table: a permission problem or
    a real error, never excused by --first-deploy."""
    for statement in DDL:
        confluent.flink.preload(statement.name)
    confluent.flink.planner = Planner(insert_detail=MISSING_TABLE_DETAIL)
    code, document = report(confluent, "--first-deploy")
    assert code == 1 and document["first_deploy"] is False
    assert verdicts(document)[: len(DDL)] == [(s.name, "applied", "already applied") for s in DDL]
    assert (CONTINUOUS.name, "dry run", "invalid") in verdicts(document)
    assert_nothing_left(confluent)


def test_ctrl_c_deletes_every_throwaway_statement(confluent: Confluent, tmp_path: Path) -> None:
    confluent.flink.planner = Planner(phases=("PENDING",))
    environment = {
        **os.environ,
        "FLINK_API_KEY": KEY,
        "FLINK_API_SECRET": SECRET,
        "PYTHONUNBUFFERED": "1",
    }
    arguments = [
        sys.executable, "-m", "salesflow.cli", "sql", "verify", "--env", "dev", "--endpoint", confluent.url,
        "--environment-id", ENVIRONMENT_ID, "--compute-pool-id", COMPUTE_POOL_ID, "--revision", REVISION,
        "--poll-interval", "0.05", "--timeout", "60",
    ]  # fmt: skip
    process = subprocess.Popen(arguments, cwd=REPO_ROOT, env=environment, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not confluent.created_names() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert confluent.created_names(), "the verify run never submitted a statement"
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 130, output
    assert "interrupted by SIGINT" in output
    assert_nothing_left(confluent)


def test_an_unfinished_delete_is_reported_and_fails_the_run(confluent: Confluent) -> None:
    confluent.flink.planner = Planner()
    confluent.server.inject(
        "deleteSqlv1Statement", *[Reply(403, {"errors": [{"status": "403", "title": "Forbidden"}]})]
    )
    code, output = verify(confluent)
    assert code == 1
    assert "NOT DELETED: dev-verify-abc1234-" in output and "HTTP 403" in output
    # Everything else was still deleted.
    assert len(confluent.deleted_names()) == len(set(confluent.created_names())) - 1


def test_statements_are_never_submitted_with_the_terraform_expression(confluent: Confluent) -> None:
    """Every rendered text carries the Terraform pepper expression, and no submitted one does."""
    assert "${replace(data.aws_secretsmanager_secret_version.pii_pepper" in CONTINUOUS.text
    planner = Planner(seen=[])
    confluent.flink.planner = planner
    verify(confluent)
    assert planner.seen and not [name for name, text, _ in planner.seen if "aws_secretsmanager" in text]
