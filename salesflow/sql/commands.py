"""``salesflow sql``: render, lint, lock, run and explain the pipeline's Flink statements.

``run`` and ``explain`` need PyFlink; from the main environment they hand over to .venv-flink.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import time
from pathlib import Path

import click

from salesflow.cli_options import environment_option, fail, load_or_fail, report_options
from salesflow.config import REPO_ROOT, ConfigError, environment_names, load_environment
from salesflow.sql.render import LOCAL_PEPPER_VARIABLE, RenderError, local_pepper, render_statements

ENV_OPTION = environment_option("Environment whose config renders the statements (environments/<env>.yaml).")


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


# -- local Flink ------------------------------------------------------------------------------------

FLINK_PYTHON_VARIABLE = "SALESFLOW_FLINK_PYTHON"  # overrides .venv-flink/bin/python (tests, CI images)
_REEXEC_MARK = "SALESFLOW_FLINK_REEXEC"


def flink_python() -> Path:
    return Path(os.environ.get(FLINK_PYTHON_VARIABLE, REPO_ROOT / ".venv-flink" / "bin" / "python"))


def _run_in_flink_environment(arguments: list[str]) -> bool:
    """If PyFlink is missing here, run ``salesflow <arguments>`` with the Flink environment's Python.

    Returns False when PyFlink is importable (the caller runs in-process). PyFlink pins pyarrow<17,
    so it lives in its own environment (.venv-flink) and the main one hands Flink work over to it.
    """
    if importlib.util.find_spec("pyflink") is not None:
        return False
    python = flink_python()
    if os.environ.get(_REEXEC_MARK) or not python.is_file():
        raise click.ClickException(
            f"PyFlink is not installed here and the Flink environment ({python}) is missing or broken; "
            "run `make setup` (it creates .venv-flink)"
        )
    completed = subprocess.run(
        [str(python), "-m", "salesflow.cli", *arguments],
        env={**os.environ, _REEXEC_MARK: "1"},
        check=False,
    )
    if completed.returncode:
        raise SystemExit(completed.returncode)
    return True


@sql_group.command("run")
@ENV_OPTION
@click.option(
    "--input",
    "input_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Kafka records as JSON lines ({key, timestamp, value}, as `salesflow generate` writes them) "
    "or an Avro container of the same envelope. `timestamp` becomes $rowtime.",
)
@click.option(
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default="-",
    show_default=True,
    help="Where to write the clean lines, one JSON object per line (schemas/sales_order_line.avsc "
    "field names, ISO-8601 UTC timestamps, decimals as strings). '-' writes to stdout.",
)
def run_command(env: str, input_path: Path, output_path: Path) -> None:
    """Run the environment's statements on a local Apache Flink over an input file.

    The production text runs unchanged (pepper from $SALESFLOW_PII_PEPPER or a local-only default);
    see flink_statements/README.md for what is local. Example:

        salesflow sql run --env dev --input events.jsonl --output lines.jsonl
    """
    arguments = ["sql", "run", "--env", env, "--input", str(input_path), "--output", str(output_path)]
    if _run_in_flink_environment(arguments):
        return
    import orjson

    from salesflow.events.files import atomic_output, read_events
    from salesflow.events.records import RecordError
    from salesflow.sql.harness import FlinkHarness, HarnessError
    from salesflow.sql.properties import PropertyError

    started = time.monotonic()
    try:
        run = FlinkHarness().run(
            load_environment(env), read_events(input_path), pepper=local_pepper(), source=str(input_path)
        )
    except (ConfigError, RenderError, RecordError, PropertyError, HarnessError) as exc:
        raise click.ClickException(str(exc)) from None
    with atomic_output(None if str(output_path) == "-" else output_path) as handle:
        for row in run.rows:
            handle.write(orjson.dumps(row) + b"\n")
    summary = run.input
    click.echo(
        f"{summary.records} records in ({summary.before_start} before the startup timestamp), "
        f"{len(run.orders_in)} orders; {len(run.rows)} lines out for {len(run.orders_out)} orders; "
        f"{summary.fed - len(run.orders_in)} duplicate emissions dropped; "
        f"{len(run.dropped_orders)} orders dropped as late (first emission behind the watermark); "
        + (f"{len(summary.itemless)} orders without items; " if summary.itemless else "")
        + f"{time.monotonic() - started:.1f} s",
        err=True,
    )
    if run.dropped_orders:
        shown = ", ".join(sorted(run.dropped_orders)[:10])
        click.echo(f"late orders: {shown}{' ...' if len(run.dropped_orders) > 10 else ''}", err=True)


@sql_group.command("explain")
@ENV_OPTION
@click.option(
    "--sink",
    type=click.Choice(["append", "any"]),
    default="any",
    show_default=True,
    help="any: plan against a sink that accepts every change and show what the statement emits; "
    "append: plan against an append-only sink like the clean topic.",
)
def explain_command(env: str, sink: str) -> None:
    """Print EXPLAIN CHANGELOG_MODE of each continuous statement and check it is insert-only."""
    if _run_in_flink_environment(["sql", "explain", "--env", env, "--sink", sink]):
        return
    from salesflow.sql.harness import FlinkHarness, HarnessError
    from salesflow.sql.plans import NotInsertOnlyError, insert_only_problems

    try:
        plans = FlinkHarness().explain(load_environment(env), pepper=local_pepper(), sink=sink)
    except (ConfigError, RenderError, HarnessError, NotInsertOnlyError) as exc:
        raise click.ClickException(str(exc)) from None
    failures = []
    for name, plan in plans.items():
        click.echo(f"-- {name}\n{plan}")
        failures += [f"{name}: {problem}" for problem in insert_only_problems(plan)]
    if failures:
        raise click.ClickException("not insert-only:\n" + "\n".join(failures))
    click.echo(f"insert-only: {', '.join(plans)}", err=True)


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


# -- Confluent Cloud's own planner ------------------------------------------------------------------


def _revision() -> str:
    """Short commit of the run: $GITHUB_SHA (CI), else `git rev-parse --short HEAD`, else "local"."""
    if os.environ.get("GITHUB_SHA"):
        return os.environ["GITHUB_SHA"][:7].lower()
    completed = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    return completed.stdout.strip() or "local"


@sql_group.command("verify")
@ENV_OPTION
@click.option(
    "--endpoint",
    metavar="URL",
    help="Flink REST endpoint. Default: https://flink.<region>.<cloud>.confluent.cloud of the environment's "
    "Kafka cluster.",
)
@click.option("--organization-id", help="Confluent organization (UUID). Default: the environment file's.")
@click.option(
    "--environment-id",
    help="Confluent environment (env-...). Default: the environment file's when it adopts one; otherwise "
    "pass the Confluent stack's output environment_id.",
)
@click.option(
    "--compute-pool-id",
    help="Compute pool (lfcp-...) that plans the statements: the Confluent stack's output "
    "flink_compute_pool_id.",
)
@click.option("--revision", help="Short commit in the throwaway names. Default: $GITHUB_SHA or git HEAD.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=300,
    show_default=True,
    help="Seconds each statement may take.",
)
@click.option(
    "--poll-interval", type=click.FloatRange(min=0.01), default=2.0, show_default=True, help="Seconds."
)
@click.option(
    "--first-deploy",
    is_flag=True,
    help="Accept that the INSERT cannot be validated because its table does not exist yet (the first "
    "deploy of an environment); its query, traits and plan must still pass.",
)
@report_options
def verify_command(
    env: str,
    endpoint: str | None,
    organization_id: str | None,
    environment_id: str | None,
    compute_pool_id: str | None,
    revision: str | None,
    timeout: float,
    poll_interval: float,
    first_deploy: bool,
    output_format: str,
    markdown_path: Path | None,
) -> None:
    """Ask Confluent Cloud's planner: dry-run every statement, prove the continuous one append-only.

    Each rendered statement is submitted under a throwaway name (<env>-verify-<revision>-<id>) with
    sql.dry-run = true, with a random stand-in for the pepper; the continuous statement's query must be
    append-only with the clean contract's columns, and its EXPLAIN must show `Changelog mode: append` at
    the sink. Every throwaway statement is deleted, also on failure, timeout and Ctrl-C. Credentials:
    FLINK_API_KEY / FLINK_API_SECRET. Exit 0 only when everything validated.
    """
    from salesflow.cloud.confluent_http import ConfluentApiError
    from salesflow.cloud.flink_statements import FlinkStatements, flink_endpoint
    from salesflow.sql.verify import Check, Interrupted, Interrupts, Verifier, render_markdown, render_text

    environment = load_or_fail(env)
    confluent = environment.confluent
    environment_id = environment_id or confluent.environment.id
    if not environment_id:
        fail(
            f"--environment-id: environments/{env}.yaml creates its Confluent environment, so its id is not "
            "known here; pass the Confluent stack's output environment_id"
        )
    if not compute_pool_id:
        fail("--compute-pool-id: pass the Confluent stack's output flink_compute_pool_id (lfcp-...)")
    cluster = confluent.kafka_cluster
    try:
        client = FlinkStatements.connect(
            endpoint or flink_endpoint(cluster.cloud, cluster.region),
            organization_id or confluent.organization_id,
            environment_id,
        )
        verifier = Verifier(
            environment,
            client,
            compute_pool_id=compute_pool_id,
            revision=revision or _revision(),
            timeout=timeout,
            poll_interval=poll_interval,
            first_deploy_allowed=first_deploy,
        )
    except (ConfluentApiError, RenderError) as exc:
        fail(str(exc))
    with Interrupts() as interrupts:
        verifier.shield = interrupts.shield
        try:
            report = verifier.run()
        except Interrupted as exc:
            report = verifier.report
            report.interrupted = str(exc)
        except ConfluentApiError as exc:
            report = verifier.report
            report.notes.append(f"stopped: {exc}")
            report.checks.append(Check("(run)", "-", "error", False, detail=str(exc)))
    if markdown_path is not None:
        markdown_path.write_text(render_markdown(report), encoding="utf-8")
    if output_format == "json":
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        click.echo(render_markdown(report) if output_format == "markdown" else render_text(report))
    if report.interrupted:
        raise SystemExit(130)
    if not report.ok:
        raise SystemExit(1)
