"""statements.lock.json: a released statement version never changes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from salesflow.config import DEDUP_VARIANTS, environment_names, load_environment
from salesflow.sql.lock import LOCK_FILE, LockError, check_lock, load_lock, rendered_for_lock, update_lock
from salesflow.sql.render import STATEMENTS_DIR, render_statements


def _environments():
    return [load_environment(name) for name in environment_names()]


def test_every_rendered_statement_matches_its_locked_hash() -> None:
    problems = check_lock(rendered_for_lock(_environments()), load_lock()).problems()
    assert problems == [], "\n".join(problems)


def _changed_copy(tmp_path: Path) -> Path:
    statements_dir = tmp_path / "flink_statements"
    shutil.copytree(STATEMENTS_DIR, statements_dir)
    template = statements_dir / "sales_order_lines.insert.sql.j2"
    template.write_text(
        template.read_text(encoding="utf-8").replace(
            "DECIMAL(12, 2)) AS `line_amount`", "DECIMAL(12, 2)) AS `line_amount` "
        ),
        encoding="utf-8",
    )
    return statements_dir


def test_a_changed_text_without_a_new_version_fails_with_the_fix(tmp_path: Path) -> None:
    statements = rendered_for_lock(_environments(), _changed_copy(tmp_path))
    problems = check_lock(statements, load_lock()).problems()
    assert len(problems) == 4  # the INSERT of dev and of prod, under each dedup variant
    assert all("bump its version for that environment" in p and "salesflow sql lock" in p for p in problems)
    assert {p.split(":")[0] for p in problems} == {
        f"{env}-{id_}-v1"
        for env in ("dev", "prod")
        for id_ in ("sales-order-lines", "sales-order-lines-window")
    }


def test_a_dependency_change_changes_the_dependent_hash(tmp_path: Path) -> None:
    statements_dir = tmp_path / "flink_statements"
    shutil.copytree(STATEMENTS_DIR, statements_dir)
    template = statements_dir / "sales_orders_raw.watermark.sql.j2"
    template.write_text(
        template.read_text(encoding="utf-8").replace("AS `$rowtime` -", "AS `$rowtime`  -"), "utf-8"
    )
    changed = check_lock(rendered_for_lock(_environments(), statements_dir), load_lock()).changed
    assert set(changed) == {
        f"{env}-{id_}-v1"
        for env in ("dev", "prod")
        for id_ in ("sales-orders-raw-watermark", "sales-order-lines", "sales-order-lines-window")
    }


def test_both_dedup_variants_are_locked_for_every_environment() -> None:
    """The variant no environment selects is locked too; switching an environment selects another
    statement (a new name, so a new Terraform resource), never new text under a running name."""
    lock = load_lock()
    for environment in _environments():
        names = {
            variant: render_statements(environment.with_dedup(variant))[-1].name for variant in DEDUP_VARIANTS
        }
        assert names["first_row"] != names["window"]
        assert set(names.values()) <= set(lock), names


def test_switching_a_running_environment_with_a_start_needs_a_new_locked_version(tmp_path: Path) -> None:
    statements_dir = tmp_path / "flink_statements"
    shutil.copytree(STATEMENTS_DIR, statements_dir)
    spec_path = statements_dir / "statements.yaml"
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    window = next(s for s in spec["statements"] if s["id"] == "sales-order-lines-window")
    window["versions"]["dev"] = {"version": 1, "start_from": "2026-12-07T05:00:00Z"}
    spec_path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    check = check_lock(rendered_for_lock(_environments(), statements_dir), load_lock())
    assert check.changed == ["dev-sales-order-lines-window-v1"]  # v1 is locked without a start
    window["versions"]["dev"] = {"version": 2, "start_from": "2026-12-07T05:00:00Z"}
    spec_path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    check = check_lock(rendered_for_lock(_environments(), statements_dir), load_lock())
    assert (check.changed, check.missing) == ([], ["dev-sales-order-lines-window-v2"])


def test_lock_adds_new_names_and_refuses_to_change_a_locked_one(tmp_path: Path) -> None:
    lock = tmp_path / "statements.lock.json"
    shutil.copy(LOCK_FILE, lock)
    current = rendered_for_lock(_environments())
    assert update_lock(current, lock) == []
    with pytest.raises(LockError, match="bump its version"):
        update_lock(rendered_for_lock(_environments(), _changed_copy(tmp_path)), lock)
    assert json.loads(lock.read_text(encoding="utf-8")) == json.loads(LOCK_FILE.read_text(encoding="utf-8"))
    document = json.loads(lock.read_text(encoding="utf-8"))
    removed = document["statements"].pop("dev-sales-order-lines-v1")
    lock.write_text(json.dumps(document), encoding="utf-8")
    assert update_lock(current, lock) == ["dev-sales-order-lines-v1"]
    assert load_lock(lock)["dev-sales-order-lines-v1"] == removed


def test_a_broken_lock_file_is_a_clear_error(tmp_path: Path) -> None:
    lock = tmp_path / "statements.lock.json"
    lock.write_text("{not json", encoding="utf-8")
    with pytest.raises(LockError, match="restore it from git"):
        load_lock(lock)
