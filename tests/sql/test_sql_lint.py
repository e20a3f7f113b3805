"""sqlfluff (flink dialect) over the statement templates, with each environment's context."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from salesflow.cli import main
from salesflow.config import load_environment
from salesflow.sql.lint import lint_statements
from salesflow.sql.render import STATEMENTS_DIR


def _environments():
    return [load_environment("dev"), load_environment("prod")]


def test_the_statements_lint_clean_without_noqa() -> None:
    """`salesflow sql lint` (every environment, as `make lint` runs it) is clean, nothing is excused."""
    result = CliRunner().invoke(main, ["sql", "lint"])
    assert result.exit_code == 0, result.output
    assert "flink_statements: sqlfluff clean" in result.stderr
    for template in STATEMENTS_DIR.glob("*.sql.j2"):
        assert "noqa" not in template.read_text(encoding="utf-8")


def test_lint_reports_style_and_syntax_problems(tmp_path: Path) -> None:
    statements_dir = tmp_path / "flink_statements"
    shutil.copytree(STATEMENTS_DIR, statements_dir)
    shutil.copy(STATEMENTS_DIR.parent / ".sqlfluff", tmp_path / ".sqlfluff")
    insert = statements_dir / "sales_order_lines.insert.sql.j2"
    insert.write_text(
        insert.read_text(encoding="utf-8").replace("CROSS JOIN", "cross join"), encoding="utf-8"
    )
    watermark = statements_dir / "sales_orders_raw.watermark.sql.j2"
    watermark.write_text(
        watermark.read_text(encoding="utf-8").replace("MODIFY WATERMARK", "MODIFY WATERMARKS"), "utf-8"
    )
    problems = lint_statements(_environments(), statements_dir)
    codes = {(Path(p.path).name, p.code) for p in problems}
    assert ("sales_order_lines.insert.sql.j2", "CP01") in codes  # keyword capitalisation
    assert ("sales_orders_raw.watermark.sql.j2", "PRS") in codes  # not Flink's ALTER TABLE syntax
    assert all(p.environments == ("dev", "prod") for p in problems)


def test_the_dedup_branch_an_environment_does_not_select_is_linted_too(tmp_path: Path) -> None:
    statements_dir = tmp_path / "flink_statements"
    shutil.copytree(STATEMENTS_DIR, statements_dir)
    shutil.copy(STATEMENTS_DIR.parent / ".sqlfluff", tmp_path / ".sqlfluff")
    insert = statements_dir / "sales_order_lines.insert.sql.j2"
    text = insert.read_text(encoding="utf-8")
    assert "DESCRIPTOR(`$rowtime`)" in text
    insert.write_text(text.replace("DESCRIPTOR(`$rowtime`)", "descriptor(`$rowtime`)"), encoding="utf-8")
    dev = load_environment("dev")
    assert dev.confluent.flink.dedup == "first_row"  # dev selects the other branch
    problems = lint_statements([dev], statements_dir)
    assert [(p.code, p.line, p.environments) for p in problems] == [("CP03", 52, ("dev",))]
