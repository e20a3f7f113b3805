"""statements.lock.json: a released statement version never changes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from salesflow.config import environment_names, load_environment
from salesflow.sql.lock import LOCK_FILE, LockError, check_lock, load_lock, rendered_for_lock, update_lock
from salesflow.sql.render import STATEMENTS_DIR


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
    assert len(problems) == 2  # the INSERT of dev and of prod
    assert all("bump its version for that environment" in p and "salesflow sql lock" in p for p in problems)
    assert {p.split(":")[0] for p in problems} == {"dev-sales-order-lines-v1", "prod-sales-order-lines-v1"}


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
        for id_ in ("sales-orders-raw-watermark", "sales-order-lines")
    }


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
