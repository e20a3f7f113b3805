"""``salesflow sql``: render (and, in the Flink environment, run) the pipeline's Flink statements."""

from __future__ import annotations

import json
from pathlib import Path

import click

from salesflow.config import ConfigError, environment_names, load_environment
from salesflow.sql.render import LOCAL_PEPPER_VARIABLE, RenderError, local_pepper, render_statements

ENV_OPTION = click.option(
    "--env",
    "env",
    type=click.Choice(environment_names()),
    required=True,
    help="Environment whose config renders the statements (environments/<env>.yaml).",
)


@click.group("sql")
def sql_group() -> None:
    """Render and run the Flink statements of flink_statements/."""


@sql_group.command("render")
@ENV_OPTION
@click.option(
    "--target",
    type=click.Choice(["confluent", "local"]),
    default="confluent",
    show_default=True,
    help="confluent: the text Terraform submits (pepper read from Secrets Manager by Terraform). "
    f"local: the text the local harness runs (pepper from ${LOCAL_PEPPER_VARIABLE}, or a local-only "
    "default).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["sql", "json"]),
    default="sql",
    show_default=True,
    help="sql: statements with a comment header each; json: a list of {name, kind, properties, "
    "depends_on, sha256, text}.",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write one <name>.sql (or <name>.json) per statement here instead of printing.",
)
def render_command(env: str, target: str, output_format: str, output_dir: Path | None) -> None:
    """Render every statement for an environment, in submission order (deterministic)."""
    try:
        statements = render_statements(
            load_environment(env),
            target,
            pepper=local_pepper() if target == "local" else None,
        )
    except (ConfigError, RenderError) as exc:
        raise click.ClickException(str(exc)) from None
    documents = []
    for statement in statements:
        if output_format == "json":
            documents.append(json.dumps(statement.as_dict(), indent=2, ensure_ascii=False) + "\n")
        else:
            header = [f"-- statement: {statement.name} ({statement.kind})", f"-- sha256: {statement.sha256}"]
            header += [f"-- property {key} = {value}" for key, value in statement.properties.items()]
            documents.append("\n".join(header) + "\n" + statement.text)
    if output_dir is None:
        if output_format == "json":
            click.echo(json.dumps([s.as_dict() for s in statements], indent=2, ensure_ascii=False))
        else:
            click.echo("\n".join(documents), nl=False)
        return
    output_dir.mkdir(parents=True, exist_ok=True)
    for statement, document in zip(statements, documents, strict=True):
        (output_dir / f"{statement.name}.{output_format}").write_text(document, encoding="utf-8")
    click.echo(f"wrote {len(statements)} statements to {output_dir}", err=True)
