"""`salesflow sql run` from the main environment hands over to .venv-flink (or says how to get it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from salesflow.cli import main
from salesflow.events.files import write_events
from salesflow.sql.commands import FLINK_PYTHON_VARIABLE, flink_python

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_missing_flink_environment_says_run_make_setup(tmp_path: Path, monkeypatch, small_events) -> None:
    events = tmp_path / "events.jsonl"
    write_events(small_events[0][:10], events)
    monkeypatch.setenv(FLINK_PYTHON_VARIABLE, str(tmp_path / "no-venv" / "python"))
    result = CliRunner().invoke(main, ["sql", "run", "--env", "dev", "--input", str(events)])
    assert result.exit_code == 1
    assert "run `make setup`" in result.output
    assert not (tmp_path / "lines.jsonl").exists()


@pytest.mark.slow
def test_sql_run_from_the_main_environment_runs_in_the_flink_one(tmp_path: Path, small_events) -> None:
    if not flink_python().is_file():
        pytest.fail(f"{flink_python()} is missing: run `make setup`")
    records, _stats = small_events
    events, lines = tmp_path / "events.avro", tmp_path / "lines.jsonl"
    write_events(records[:200], events, "avro")  # the Avro container form of the input
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "salesflow.cli",
            "sql",
            "run",
            "--env",
            "dev",
            "--input",
            str(events),
            "--output",
            str(lines),
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "200 records in" in completed.stderr
    rows = [orjson.loads(line) for line in lines.read_text(encoding="utf-8").splitlines()]
    assert {row["order_id"] for row in rows} == {r.value["order_id"] for r in records[:200]}
