"""Lint the statement templates with sqlfluff (flink dialect), rendered with each environment's config.

Each template is linted once per environment with the Jinja context the renderer uses, so a value that
only one environment produces is linted too. sqlfluff also renders and lints the branches the context
does not take (its Jinja templater's unreached-code variants), so the ``{% if dedup == 'window' %}``
branch of the INSERT is linted in every environment whichever dedup it selects (a test proves it). The
pepper is a placeholder literal: the real one is a secret, and the confluent target's Terraform
expression is only valid SQL after Terraform resolved it.

sqlfluff's flink dialect (4.5) lacks four things the statements need. ``flink_statements_dialect``
adds them to a copy of it, as grammar, not as ignores:

* ``ALTER TABLE t {ADD|MODIFY} WATERMARK FOR c AS expr`` and ``DROP WATERMARK`` (Flink/Confluent DDL);
* ``UNNEST(...) WITH ORDINALITY`` in a FROM clause (Flink >= 2.1);
* ROW field access ``alias.column.field``: sqlfluff reads every dot as a qualifier and then reports
  the column as an unknown table. Here a column reference is ``[alias.]column`` and further dots
  access fields of a ROW, which is what Flink does;
* ``DESCRIPTOR(column)`` in a windowing TVF (``TUMBLE(TABLE t, DESCRIPTOR(`$rowtime`), ...)``) is a
  function naming a column of the TVF's table argument: sqlfluff parses it as a keyword followed by a
  column reference, so it asks for a space before the bracket and for a table qualifier the TVF does
  not allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from salesflow.config import Environment
from salesflow.sql.render import STATEMENTS_DIR, load_specs, sql_string_content, template_context

if TYPE_CHECKING:
    from sqlfluff.core.dialects import Dialect

LINT_PEPPER = "lint-placeholder-pepper"


@dataclass(frozen=True, order=True)
class LintProblem:
    path: str
    line: int
    position: int
    code: str
    description: str
    environments: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f" [{', '.join(self.environments)}]" if self.environments else ""
        return f"{self.path}:{self.line}:{self.position}: {self.code} {self.description}{where}"


@cache
def flink_statements_dialect() -> Dialect:
    from sqlfluff.core.dialects import load_raw_dialect
    from sqlfluff.core.parser import (
        AnyNumberOf,
        BaseSegment,
        Bracketed,
        Delimited,
        OneOf,
        Ref,
        Sequence,
        StringParser,
        WordSegment,
    )
    from sqlfluff.dialects import dialect_ansi as ansi

    class AlterTableStatementSegment(ansi.AlterTableStatementSegment):
        """ALTER TABLE with Flink's watermark clauses (and ANSI's options otherwise)."""

        match_grammar = Sequence(
            "ALTER",
            "TABLE",
            Ref("IfExistsGrammar", optional=True),
            Ref("TableReferenceSegment"),
            OneOf(
                Sequence(OneOf("ADD", "MODIFY"), Ref("WatermarkDefinitionSegment")),
                Sequence("DROP", "WATERMARK"),
                Delimited(Ref("AlterTableOptionsGrammar")),
            ),
        )

    class TableExpressionSegment(ansi.TableExpressionSegment):
        """A FROM item; a table function may carry WITH ORDINALITY."""

        match_grammar = OneOf(
            Ref("ValuesClauseSegment"),
            Ref("BareFunctionSegment"),
            Sequence(Ref("FunctionSegment"), Sequence("WITH", "ORDINALITY", optional=True)),
            Ref("TableReferenceSegment"),
            Bracketed(Ref("SelectableGrammar")),
            Bracketed(Ref("MergeStatementSegment")),
        )

    class ColumnReferenceSegment(ansi.ColumnReferenceSegment):
        """``column`` or ``alias.column``; more dots are ROW field access (RowFieldAccessorSegment)."""

        match_grammar = Sequence(
            Ref("SingleIdentifierGrammar"),
            Sequence(Ref("DotSegment"), Ref("SingleIdentifierGrammar"), optional=True),
            allow_gaps=False,
        )

    class DescriptorNameSegment(BaseSegment):
        """The DESCRIPTOR keyword in function position (laid out like a function name)."""

        type = "function_name"
        match_grammar = StringParser("DESCRIPTOR", WordSegment, type="function_name_identifier")

    class DescriptorSegment(BaseSegment):
        """``DESCRIPTOR(col[, ...])``: names columns of a TVF's table argument, not table references."""

        type = "function"
        match_grammar = Sequence(
            Ref("DescriptorNameSegment"),
            Ref("DescriptorContentsSegment"),
            allow_gaps=False,
        )

    class DescriptorContentsSegment(BaseSegment):
        type = "function_contents"
        match_grammar = Bracketed(Delimited(Ref("SingleIdentifierGrammar")))

    class RowFieldAccessorSegment(BaseSegment):
        """``.field`` after a ROW-typed expression."""

        type = "row_field_accessor"
        match_grammar = Sequence(Ref("DotSegment"), Ref("SingleIdentifierGrammar"), allow_gaps=False)

    dialect = load_raw_dialect("flink").copy_as("flink")
    dialect.replace(
        AlterTableStatementSegment=AlterTableStatementSegment,
        TableExpressionSegment=TableExpressionSegment,
        ColumnReferenceSegment=ColumnReferenceSegment,
        AccessorGrammar=AnyNumberOf(OneOf(Ref("ArrayAccessorSegment"), Ref("RowFieldAccessorSegment"))),
    )
    dialect.replace(DescriptorSegment=DescriptorSegment)
    dialect.add(
        RowFieldAccessorSegment=RowFieldAccessorSegment,
        DescriptorNameSegment=DescriptorNameSegment,
        DescriptorContentsSegment=DescriptorContentsSegment,
    )
    return dialect.expand()


def template_paths(statements_dir: Path = STATEMENTS_DIR) -> list[Path]:
    """Every template statements.yaml lists, and any other *.sql.j2 file (so none escapes lint)."""
    listed = [statements_dir / spec.template for spec in load_specs(statements_dir / "statements.yaml")]
    others = sorted(set(statements_dir.glob("*.sql.j2")) - set(listed))
    return listed + others


def lint_statements(
    environments: list[Environment], statements_dir: Path = STATEMENTS_DIR
) -> list[LintProblem]:
    """sqlfluff violations of every template, for every environment's context."""
    try:
        from sqlfluff.core import FluffConfig, Linter
    except ImportError:
        raise RuntimeError(
            "sqlfluff is not installed in this environment; run `salesflow sql lint` from .venv"
        ) from None

    found: dict[tuple[str, int, int, str, str], list[str]] = {}
    for environment in environments:
        config = FluffConfig.from_path(
            str(statements_dir), overrides={"dialect": "flink", "templater": "jinja"}
        )
        # The extended dialect and the environment's context replace what .sqlfluff named (sqlfluff
        # has no public setter for either); the Python parser is forced because the Rust one, when
        # installed, would ignore the extended grammar.
        config._configs["core"]["dialect_obj"] = flink_statements_dialect()
        config._configs["core"]["use_rust_parser"] = False
        config._configs.setdefault("templater", {}).setdefault("jinja", {})["context"] = template_context(
            environment, sql_string_content(LINT_PEPPER)
        )
        linter = Linter(config=config)
        for path in template_paths(statements_dir):
            result = linter.lint_string(path.read_text(encoding="utf-8"), fname=str(path))
            for violation in result.get_violations():
                key = (
                    _display(path),
                    violation.line_no,
                    violation.line_pos,
                    violation.rule_code(),
                    violation.desc(),
                )
                found.setdefault(key, []).append(environment.name)
    return sorted(LintProblem(*key, environments=tuple(dict.fromkeys(envs))) for key, envs in found.items())


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
