"""``salesflow sql``: render, lint, lock, run and explain the pipeline's Flink statements.

``run`` and ``explain`` need PyFlink; from the main environment they hand over to .venv-flink.
"""

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
    """Render, lint, lock, run and explain the Flink statements of flink_statements/."""


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


@sql_group.command("lint")
@click.option(
    "--env",
    "envs",
    type=click.Choice(environment_names()),
    multiple=True,
    help="Environment(s) whose config renders the templates; default: every environment.",
)
def lint_command(envs: tuple[str, ...]) -> None:
    """sqlfluff (flink dialect) over flink_statements/, rendered with each environment's config."""
    from salesflow.sql.lint import lint_statements

    try:
        problems = lint_statements([load_environment(name) for name in envs or environment_names()])
    except (ConfigError, RenderError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from None
    for problem in problems:
        click.echo(str(problem))
    if problems:
        raise click.ClickException(f"{len(problems)} sqlfluff problem(s) in flink_statements/")
    click.echo("flink_statements: sqlfluff clean", err=True)


@sql_group.command("lock")
@click.option("--check", is_flag=True, help="Only check; change nothing (exit 1 on a problem).")
def lock_command(check: bool) -> None:
    """Record the hash of every new statement version in flink_statements/statements.lock.json.

    A locked version never changes: if its rendering differs, bump its version in statements.yaml.
    """
    from salesflow.sql.lock import LOCK_FILE, LockError, check_lock, load_lock, rendered_for_lock, update_lock

    try:
        statements = rendered_for_lock([load_environment(name) for name in environment_names()])
        if check:
            problems = check_lock(statements, load_lock()).problems()
            if problems:
                raise click.ClickException("\n".join(problems))
            click.echo(f"{LOCK_FILE.name}: all {len(statements)} statements match", err=True)
            return
        added = update_lock(statements)
    except (ConfigError, RenderError, LockError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"{LOCK_FILE.name}: added {', '.join(added)}" if added else f"{LOCK_FILE.name}: up to date", err=True
    )
