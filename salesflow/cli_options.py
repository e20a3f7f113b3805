"""What every subpackage's commands share: the ``--env`` option, loading an environment or failing, and
report tables (terminal and Markdown); and the top level's own command, ``salesflow config``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from salesflow.config import ConfigError, Environment, environment_names, load_environment


def fail(message: str) -> NoReturn:
    """Stop the command with ``message`` (click prints ``Error: <message>`` and exits 1)."""
    raise click.ClickException(message)


def environment_option(help_text: str, **settings: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--env NAME``, one of ``environments/*.yaml`` (required unless ``default`` is given)."""
    settings.setdefault("required", "default" not in settings)
    return click.option("--env", "env", type=click.Choice(environment_names()), help=help_text, **settings)


def report_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--format table|markdown|json`` (stdout) and ``--markdown FILE`` (a copy for a PR comment)."""
    function = click.option(
        "--markdown",
        "markdown_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Also write the report as Markdown here (for a PR comment).",
    )(function)
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["table", "markdown", "json"]),
        default="table",
        show_default=True,
    )(function)


def load_or_fail(name: str) -> Environment:
    """The validated environment, or a command error naming the file, the field and the fix."""
    try:
        return load_environment(name)
    except ConfigError as exc:
        fail(str(exc))


def text_table(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """Rows aligned in columns for a terminal; the last column (free text) is not padded."""
    table = [tuple(columns), *(tuple(row) for row in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(columns) - 1)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)) + "  " + row[-1]
        for row in table
    ]


def markdown_table(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A GitHub Markdown table (pipes escaped, one line per row)."""

    def escape(cell: str) -> str:
        return cell.replace("|", "\\|").replace("\n", " ")

    return [
        "| " + " | ".join(columns) + " |",
        "|" + " --- |" * len(columns),
        *("| " + " | ".join(escape(cell) for cell in row) + " |" for row in rows),
    ]


@click.command("config")
@environment_option("Environment to validate and print (environments/<env>.yaml).")
def config_command(env: str) -> None:
    """Validate an environment file and print it as normalised JSON."""
    click.echo(load_or_fail(env).model_dump_json(indent=2, by_alias=True))
