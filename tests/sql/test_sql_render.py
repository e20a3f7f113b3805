"""Rendering the Flink statements: deterministic, strict, and only config-driven differences."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from salesflow.config import load_environment
from salesflow.sql.render import (
    CONFLUENT_PEPPER,
    STATEMENTS_DIR,
    RenderError,
    render_statements,
    template_context,
)


def _copy_statements(tmp_path: Path) -> Path:
    target = tmp_path / "flink_statements"
    shutil.copytree(STATEMENTS_DIR, target)
    return target


def _edit_spec(statements_dir: Path, edit) -> None:
    path = statements_dir / "statements.yaml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(spec)
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")


def test_rendering_is_deterministic_and_named_by_version() -> None:
    dev = load_environment("dev")
    first, second = render_statements(dev), render_statements(dev)
    assert [s.as_dict() for s in first] == [s.as_dict() for s in second]
    assert [s.name for s in first] == [
        "dev-sales-order-lines-clean-table-v2",
        "dev-sales-orders-raw-watermark-v1",
        "dev-sales-order-lines-v1",
    ]
    assert first[-1].depends_on == (first[0].name, first[1].name)


def test_the_dedup_switch_selects_the_insert_statement() -> None:
    dev = load_environment("dev")
    first_row, window = render_statements(dev), render_statements(dev.with_dedup("window"))
    assert first_row[:2] == window[:2]  # the DDL statements do not depend on the dedup
    assert first_row[-1].name == "dev-sales-order-lines-v1"
    assert window[-1].name == "dev-sales-order-lines-window-v1"
    assert "TUMBLE(" not in first_row[-1].text
    assert "PARTITION BY `r`.`order_id` ORDER BY `r`.`$rowtime` ASC" in first_row[-1].text
    assert (
        "PARTITION BY `r`.`window_start`, `r`.`window_end`, `r`.`order_id`\n"
        "                ORDER BY `r`.`$rowtime` ASC"
    ) in window[-1].text
    assert "DESCRIPTOR(`$rowtime`),\n                INTERVAL '10' MINUTE" in window[-1].text
    assert window[-1].properties == first_row[-1].properties
    assert window[-1].depends_on == first_row[-1].depends_on
    # Everything outside the dedup (flattening, pseudonymisation, output columns) is the same text.
    head, tail = first_row[-1].text.split("ROW_NUMBER()")[0], first_row[-1].text.split(") AS `ranked`")[1]
    assert window[-1].text.startswith(head) and window[-1].text.endswith(tail)


def test_the_window_size_comes_from_the_config(tmp_path: Path) -> None:
    data = yaml.safe_load((STATEMENTS_DIR.parent / "environments" / "dev.yaml").read_text(encoding="utf-8"))
    data["confluent"]["flink"] |= {"dedup": "window", "dedup_window": "2 h"}
    path = tmp_path / "dev.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    insert = render_statements(load_environment(path))[-1]
    assert insert.name == "dev-sales-order-lines-window-v1"
    assert "INTERVAL '2' HOUR" in insert.text


def test_if_not_exists_does_not_change_what_dependents_lock() -> None:
    """The clean-table DDL gained IF NOT EXISTS (a new DDL version), yet the INSERT keeps its hash: the
    guard changes when the CREATE runs, not the table a running statement reads and writes."""
    table = render_statements(load_environment("dev"))[0]
    assert table.text.startswith("CREATE TABLE IF NOT EXISTS `sales_order_lines_clean` (")
    unguarded = replace(table, text=table.text.replace("CREATE TABLE IF NOT EXISTS", "CREATE TABLE", 1))
    assert unguarded.sha256 != table.sha256
    assert unguarded.definition_sha256 == table.definition_sha256 == unguarded.sha256
    renamed = replace(table, text=table.text.replace("`order_id` STRING NOT NULL", "`id` STRING NOT NULL", 1))
    assert renamed.definition_sha256 != table.definition_sha256


def test_a_statement_cannot_depend_on_one_only_some_variants_render(tmp_path: Path) -> None:
    statements_dir = _copy_statements(tmp_path)

    def depend_on_window(spec: dict) -> None:
        spec["statements"].append(
            {
                "id": "downstream",
                "template": "sales_orders_raw.watermark.sql.j2",
                "kind": "ddl",
                "versions": {"dev": 1, "prod": 1},
                "depends_on": ["sales-order-lines-window"],
            }
        )

    _edit_spec(statements_dir, depend_on_window)
    with pytest.raises(RenderError, match="only some dedup variants render"):
        render_statements(load_environment("dev"), statements_dir=statements_dir)


def test_confluent_target_embeds_the_terraform_pepper_reference_only() -> None:
    statements = render_statements(load_environment("prod"))
    insert = statements[-1].text
    assert f"CONCAT('{CONFLUENT_PEPPER}'," in insert
    with pytest.raises(RenderError, match="never takes a pepper"):
        render_statements(load_environment("prod"), "confluent", pepper="x")


def test_local_target_differs_from_confluent_only_in_the_pepper_literal() -> None:
    dev = load_environment("dev")
    confluent = render_statements(dev, "confluent")
    local = render_statements(dev, "local", pepper="it's")
    for remote, here in zip(confluent, local, strict=True):
        assert here.text == remote.text.replace(CONFLUENT_PEPPER, "it''s")
        assert here.properties == remote.properties


def test_dev_and_prod_differ_only_where_their_config_differs() -> None:
    dev, prod = load_environment("dev"), load_environment("prod")
    dev_context, prod_context = template_context(dev, "p"), template_context(prod, "p")
    changed = {
        key: (dev_context[key], prod_context[key])
        for key in dev_context
        if dev_context[key] != prod_context[key]
    }
    # Today: names, partitions and TTL. Each differing value is substituted as a whole token; the
    # prod text must then be exactly the dev text.
    assert {"catalog", "database"} <= set(changed)
    substitutions = [(str(a), str(b)) for key, (a, b) in changed.items() if key != "env"]

    def translate(text: str) -> str:
        for old, new in substitutions:
            text = re.sub(rf"(?<![\w-]){re.escape(old)}(?![\w-])", new, text)
        return text

    for d, p in zip(render_statements(dev), render_statements(prod), strict=True):
        assert p.name == d.name.replace("dev-", "prod-", 1)
        assert translate(d.text) == p.text, f"{d.id}: a difference the config does not explain"
        assert {k: translate(v) for k, v in d.properties.items()} == p.properties


def test_the_rendered_statement_carries_the_state_ttl_and_time_zone() -> None:
    for name in ("dev", "prod"):
        environment = load_environment(name)
        insert = render_statements(environment)[-1]
        assert insert.properties["sql.state-ttl"] == environment.confluent.flink.state_ttl
        assert insert.properties["sql.local-time-zone"] == environment.confluent.flink.time_zone
        assert insert.properties["sql.current-catalog"] == environment.confluent.environment.display_name
        assert insert.properties["sql.current-database"] == environment.confluent.kafka_cluster.display_name


def test_an_undefined_variable_fails_loudly(tmp_path: Path) -> None:
    statements_dir = _copy_statements(tmp_path)
    template = statements_dir / "sales_orders_raw.watermark.sql.j2"
    template.write_text(template.read_text(encoding="utf-8") + "-- {{ no_such_value }}\n", encoding="utf-8")
    with pytest.raises(RenderError, match="no_such_value"):
        render_statements(load_environment("dev"), statements_dir=statements_dir)


def test_a_cutover_version_renders_the_startup_properties(tmp_path: Path) -> None:
    statements_dir = _copy_statements(tmp_path)
    start = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)

    def cutover(spec: dict) -> None:
        insert = next(s for s in spec["statements"] if s["id"] == "sales-order-lines")
        insert["versions"]["prod"] = {"version": 2, "start_from": start.isoformat()}

    _edit_spec(statements_dir, cutover)
    prod = render_statements(load_environment("prod"), statements_dir=statements_dir)[-1]
    assert prod.name == "prod-sales-order-lines-v2"
    assert prod.properties["sql.tables.scan.startup.mode"] == "timestamp"
    assert prod.properties["sql.tables.scan.startup.timestamp-millis"] == str(int(start.timestamp() * 1000))
    dev = render_statements(load_environment("dev"), statements_dir=statements_dir)[-1]
    assert "sql.tables.scan.startup.mode" not in dev.properties


def test_a_cutover_start_on_a_ddl_statement_is_rejected(tmp_path: Path) -> None:
    statements_dir = _copy_statements(tmp_path)

    def cutover(spec: dict) -> None:
        spec["statements"][0]["versions"]["dev"] = {"version": 2, "start_from": "2026-12-07T05:00:00Z"}

    _edit_spec(statements_dir, cutover)
    with pytest.raises(RenderError, match="continuous statements only"):
        render_statements(load_environment("dev"), statements_dir=statements_dir)
