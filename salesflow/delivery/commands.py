"""Commands the delivery pipelines run (.github/workflows/): guard, plan-compare, stacks,
publish-artifact, smoke and schema verify; and what an administrator runs before the first deploy:
bootstrap and doctor. Each works the same on a laptop, given the same inputs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from salesflow.cli_options import environment_option, fail, load_or_fail, report_options
from salesflow.cloud.aws import aws_client

GUARD_LABELS_VARIABLE = "SALESFLOW_GUARD_LABELS"
SYNTH_DIR_OPTION = click.option(
    "--synth-dir",
    envvar="SALESFLOW_SYNTH_DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="cdktf output directory [env: SALESFLOW_SYNTH_DIR; default: terraform/cdktf.out].",
)


def _plan_label(path: Path) -> str:
    name = path.name
    for suffix in (".json", ".plan"):
        name = name.removesuffix(suffix)
    return name


@click.command("guard")
@click.option(
    "--plan",
    "plans",
    type=click.Path(dir_okay=False, path_type=Path),
    multiple=True,
    required=True,
    help="`terraform show -json` output; repeat for several stacks (label = file name without .plan.json).",
)
@click.option(
    "--allow",
    "allow_flags",
    multiple=True,
    metavar="CLASS",
    help="Let findings of this class pass (repeatable). Classes: flink-statement-replace, "
    "flink-statement-in-place, topic-recreate, schema-subject-change, tableflow-disable, bucket-replace, "
    "lambda-artifact-missing, flink-ddl-recreate-fails (flink-ddl-recreate is a notice).",
)
@click.option(
    "--allow-label",
    "allow_labels",
    multiple=True,
    metavar="LABEL",
    help="A pull-request label (repeatable): allow-<class> allows that class, allow-state-loss every "
    f"class that loses state or data. ${GUARD_LABELS_VARIABLE} adds labels as a JSON list or a "
    "comma-separated string.",
)
@click.option(
    "--built-artifacts",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory of artifact-<arch>.json files this pipeline builds and publishes before applying "
    "(their keys count as present).",
)
@click.option(
    "--check-artifacts/--no-check-artifacts",
    default=False,
    show_default=True,
    help="Look up each changed Lambda's S3 artifact (AWS credentials from the environment).",
)
@click.option(
    "--markdown",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the full Markdown report (for a job summary).",
)
@click.option(
    "--comment",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the Markdown report shortened to --comment-limit characters (for a PR comment).",
)
@click.option(
    "--comment-limit",
    type=click.IntRange(min=1000),
    default=60_000,
    show_default=True,
    help="Longest --comment report, in characters (a GitHub comment holds 65,536).",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a JSON report (blocking, only_notices, plans, findings).",
)
@click.option("--title", default="Terraform plan", show_default=True, help="Heading of the Markdown report.")
@click.option(
    "--report-only",
    is_flag=True,
    help="Exit 0 even on blocking findings (drift reports).",
)
def guard_command(
    plans: tuple[Path, ...],
    allow_flags: tuple[str, ...],
    allow_labels: tuple[str, ...],
    built_artifacts: Path | None,
    check_artifacts: bool,
    markdown: Path | None,
    comment: Path | None,
    comment_limit: int,
    json_path: Path | None,
    title: str,
    report_only: bool,
) -> None:
    """Classify a Terraform plan's changes that lose state or fail at apply; exit 1 on a blocking one.

    Prints a table (class, address, action, why, blocking?). Attribute values are never printed: a
    plan JSON holds sensitive values in clear text. Exit codes: 0 clear or allowed, 1 blocking
    findings, 2 unreadable input.
    """
    from salesflow.delivery import guard, guard_report

    try:
        labels = [*allow_labels, *guard.parse_labels(os.environ.get(GUARD_LABELS_VARIABLE))]
        allowed, warnings = guard.allowances(allow_flags, labels)
        keys: list[str] = []
        if built_artifacts is not None:
            from salesflow.delivery.artifacts import ArtifactError, built_keys

            try:
                keys = built_keys(built_artifacts)
            except ArtifactError as exc:
                raise guard.GuardError(str(exc)) from None
        exists = None
        if check_artifacts:
            from salesflow.delivery.artifacts import s3_artifact_exists

            exists = s3_artifact_exists(aws_client("s3", os.environ.get("AWS_REGION")))
        reports = [
            guard.classify(
                guard.load_plan(path), label=_plan_label(path), artifact_exists=exists, built_keys=keys
            )
            for path in plans
        ]
    except (guard.GuardError, ValueError) as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    findings = guard.apply_allowances([f for report in reports for f in report.findings], allowed)
    for report in reports:
        counts = report.counts
        click.echo(
            f"{report.label}: {counts['create']} to create, {counts['update']} to update, "
            f"{counts['replace']} to replace, {counts['delete']} to delete"
        )
    click.echo(guard_report.render_table(findings))
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    for path, limit in ((markdown, None), (comment, comment_limit)):
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            text = guard_report.render_markdown(
                reports, findings, title=title, warnings=warnings, limit=limit
            )
            path.write_text(text, encoding="utf-8")
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(guard_report.report_json(reports, findings, warnings) + "\n", encoding="utf-8")
    blocking = [finding for finding in findings if finding.blocks]
    if blocking and not report_only:
        click.echo(
            f"{len(blocking)} blocking finding(s). Fix the change, or allow it deliberately "
            "(label allow-<class> / allow-state-loss, or --allow <class>) after reading docs/runbook.md.",
            err=True,
        )
        sys.exit(1)


@click.command("plan-compare")
@click.option(
    "--shown",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Plan JSON that was reviewed.",
)
@click.option(
    "--fresh", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Plan JSON made just now."
)
def plan_compare_command(shown: Path, fresh: Path) -> None:
    """Exit 1 unless a fresh plan makes the same changes as the plan that was shown (sensitive values
    compared as Terraform displays them: masked). Run before applying a saved plan whose inputs (another
    stack's outputs) may have changed since it was reviewed."""
    from salesflow.delivery import guard, plan_compare

    try:
        differences = plan_compare.compare_plans(guard.load_plan(shown), guard.load_plan(fresh))
    except guard.GuardError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    if differences:
        click.echo(f"The plan changed since it was shown ({len(differences)} difference(s)):")
        for difference in differences:
            click.echo(f"  {difference}")
        click.echo("Re-run the workflow and review the new plan before applying.")
        sys.exit(1)
    click.echo("The fresh plan makes exactly the changes that were shown.")


@click.command("stacks")
@environment_option("Environment whose synthesized stacks to list.")
@SYNTH_DIR_OPTION
def stacks_command(env: str, synth_dir: Path | None) -> None:
    """Print `<stack>\\t<directory>` for each stack of an environment, in apply order.

    A stack belongs to the environment whose state bucket and key prefix its S3 backend uses."""
    from salesflow.delivery.stacks import SYNTH_DIR, StackError, stacks_for_environment

    try:
        stacks = stacks_for_environment(load_or_fail(env), synth_dir or SYNTH_DIR)
    except StackError as exc:
        raise click.ClickException(str(exc)) from None
    for stack in stacks:
        directory = stack.directory.resolve()
        if directory.is_relative_to(Path.cwd()):
            directory = directory.relative_to(Path.cwd())
        click.echo(f"{stack.name}\t{directory}")


@click.command("publish-artifact")
@environment_option("Environment whose artifact bucket and Lambda architectures to use.")
@click.option(
    "--build-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where `make package` wrote <deployable>/artifact-<arch>.json (default: build).",
)
def publish_artifact_command(env: str, build_dir: Path | None) -> None:
    """Upload each Lambda zip (the exporter's, the monitor's) to the environment's artifact bucket under
    its content-addressed key (a no-op when the same bytes are there; an error when other bytes are). AWS
    credentials come from the environment."""
    from salesflow.delivery.artifacts import (
        BUILD_ROOT,
        DEPLOYABLES,
        ArtifactError,
        manifest_path,
        publish,
        read_artifact,
    )

    environment = load_or_fail(env)
    architectures = {
        "exporter": environment.exporter.lambda_.architecture,
        "monitor": environment.monitor.lambda_.architecture,
    }
    root = build_dir or BUILD_ROOT
    s3 = aws_client("s3", environment.aws.region)
    try:
        # Every manifest first: a missing one uploads nothing.
        artifacts = [
            read_artifact(manifest_path(root / deployable, architectures[deployable]))
            for deployable in DEPLOYABLES
        ]
        for artifact in artifacts:
            published = publish(artifact, environment.aws.artifact_bucket, s3)
            state = "uploaded" if published.uploaded else "already present"
            click.echo(f"s3://{published.bucket}/{published.key}: {state}")
    except ArtifactError as exc:
        raise click.ClickException(str(exc)) from None


@click.command("smoke")
@environment_option("Environment to smoke-test (topic names and the time bound come from its config).")
@click.option(
    "--bootstrap-servers",
    envvar="KAFKA_BOOTSTRAP_SERVERS",
    help="Kafka bootstrap servers [env: KAFKA_BOOTSTRAP_SERVERS]. Credentials: KAFKA_API_KEY/"
    "KAFKA_API_SECRET.",
)
@click.option(
    "--schema-registry-url",
    envvar="SCHEMA_REGISTRY_URL",
    help="Schema Registry URL [env: SCHEMA_REGISTRY_URL]. Credentials: SCHEMA_REGISTRY_API_KEY/"
    "SCHEMA_REGISTRY_API_SECRET.",
)
@click.option(
    "--events",
    type=click.IntRange(2, 500),
    default=12,
    show_default=True,
    help="Records to send, duplicates included.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    help="Give up after this many seconds. Default: the environment's output latency + 600 s (keep-first "
    "dedup releases a row once the watermark passes it, window dedup once it passes the window's end).",
)
@click.option(
    "--settle",
    type=click.FloatRange(min=0),
    default=20.0,
    show_default=True,
    help="Keep reading this long after the last expected line, to catch duplicates.",
)
@click.option(
    "--tick-interval",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Send one small smoke order this often while waiting, so the watermark moves.",
)
@click.option(
    "--register-schema", is_flag=True, help="Register the raw value schema (production: Terraform does)."
)
@click.option(
    "--credentials-secret",
    envvar="SMOKE_CREDENTIALS_SECRET",
    metavar="NAME",
    help="Secrets Manager secret with the endpoints and keys (the Confluent stack writes "
    "salesflow/<env>/confluent/smoke-credentials; the smoke role may read it) "
    "[env: SMOKE_CREDENTIALS_SECRET].",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the result as JSON.",
)
def smoke_command(
    env: str,
    bootstrap_servers: str | None,
    schema_registry_url: str | None,
    events: int,
    timeout: float | None,
    settle: float,
    tick_interval: float,
    register_schema: bool,
    credentials_secret: str | None,
    json_path: Path | None,
) -> None:
    """Send generated orders with duplicates to the raw topic and check the clean topic: every line
    arrives once, none carries PII, within a time bound. Exit 1 on failure."""
    from salesflow.delivery.smoke import (
        SmokeError,
        SmokeSettings,
        SmokeTarget,
        credentials_from_secret,
        result_json,
        run_smoke,
    )

    environment = load_or_fail(env)
    environ = dict(os.environ)
    if credentials_secret:
        try:
            found = credentials_from_secret(
                aws_client("secretsmanager", environment.aws.region), credentials_secret
            )
        except SmokeError as exc:
            raise click.ClickException(str(exc)) from None
        bootstrap_servers = bootstrap_servers or found.bootstrap_servers
        schema_registry_url = schema_registry_url or found.schema_registry_url
        environ |= found.environ
    if not bootstrap_servers or not schema_registry_url:
        raise click.ClickException(
            "set --credentials-secret, or --bootstrap-servers and --schema-registry-url (or "
            "KAFKA_BOOTSTRAP_SERVERS and SCHEMA_REGISTRY_URL) with credentials in KAFKA_API_KEY/"
            "KAFKA_API_SECRET and SCHEMA_REGISTRY_API_KEY/SCHEMA_REGISTRY_API_SECRET"
        )
    topics = environment.confluent.topics
    target = SmokeTarget(
        bootstrap_servers, schema_registry_url, topics.raw.name, topics.clean.name, register_schema
    )
    settings = SmokeSettings(
        events=events,
        timeout=timeout if timeout is not None else environment.confluent.flink.output_latency_seconds + 600,
        settle=settle,
        tick_interval=tick_interval,
    )
    click.echo(f"smoke-testing {env}: up to {settings.timeout:.0f} s", err=True)
    try:
        result = run_smoke(
            target, settings, environ=environ, log=lambda message: click.echo(message, err=True)
        )
    except SmokeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(result.summary())
    if json_path:
        json_path.write_text(result_json(result) + "\n", encoding="utf-8")
    if not result.ok:
        sys.exit(1)


@click.group("schema")
def schema_group() -> None:
    """Check the Avro contracts of schemas/ against the environment's Schema Registry."""


@schema_group.command("verify")
@environment_option("Environment whose subjects are checked (environments/<env>.yaml names the topics).")
@click.option(
    "--url",
    envvar="SCHEMA_REGISTRY_URL",
    required=True,
    help="Schema Registry endpoint (https://psrc-...); default $SCHEMA_REGISTRY_URL.",
)
@report_options
def schema_verify_command(env: str, url: str, output_format: str, markdown_path: Path | None) -> None:
    """Ask the registry whether each local schema is compatible with its subject's latest version
    (verbose: the registry's own messages), and compare the clean subject Flink registered with the
    contract. Credentials: SCHEMA_REGISTRY_API_KEY / SCHEMA_REGISTRY_API_SECRET. Exit 0 only when all
    pass; a subject without a version is a first version (pass)."""
    from salesflow.cloud.confluent_http import ConfluentApiError
    from salesflow.cloud.schema_registry import SchemaRegistry
    from salesflow.delivery.schema_verify import render, verify_schemas

    environment = load_or_fail(env)
    try:
        registry = SchemaRegistry.connect(url)
        with registry.http:
            checks = verify_schemas(environment, registry)
    except ConfluentApiError as exc:
        fail(str(exc))
    if markdown_path is not None:
        markdown_path.write_text(render(checks, "markdown", env), encoding="utf-8")
    click.echo(render(checks, output_format, env))
    if not all(check.ok for check in checks):
        raise SystemExit(1)


@click.command("bootstrap")
@environment_option("Environment to bootstrap (its <env>-bootstrap stack).")
@SYNTH_DIR_OPTION
@click.option(
    "--local-state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the first run keeps its state until it moves into the bucket (default: .bootstrap/).",
)
@click.option(
    "--yes",
    "approve",
    is_flag=True,
    envvar="SALESFLOW_BOOTSTRAP_APPROVE",
    help="Apply the plan without asking [env: SALESFLOW_BOOTSTRAP_APPROVE=yes].",
)
def bootstrap_command(env: str, synth_dir: Path | None, local_state_dir: Path | None, approve: bool) -> None:
    """Apply the <env>-bootstrap stack as an administrator: plan, confirm, apply, and on the first run move
    its state into the state bucket it created. Safe to re-run (docs/runbook.md, "From zero").

    Credentials: AWS administrator (usual chain), CONFLUENT_CLOUD_API_KEY/SECRET of an OrganizationAdmin,
    GITHUB_TOKEN (unless bootstrap.manage_github is false)."""
    from salesflow.delivery.bootstrap import DEFAULT_LOCAL_DIR, Bootstrap, BootstrapError
    from salesflow.delivery.stacks import SYNTH_DIR, StackError

    environment = load_or_fail(env)
    try:
        result = Bootstrap(
            environment,
            aws_client("s3", environment.aws.state_backend.region),
            synth_dir=synth_dir or SYNTH_DIR,
            local_dir=local_state_dir or DEFAULT_LOCAL_DIR,
            approve=approve,
            interactive=sys.stdin.isatty(),
            log=lambda message: click.echo(message, err=True),
        ).run()
    except (BootstrapError, StackError) as exc:
        raise click.ClickException(str(exc)) from None
    what = "applied" if result.applied else "unchanged"
    moved = ", state moved into the bucket" if result.migrated else ""
    click.echo(f"{env}-bootstrap {what}{moved}; state: {result.state}")
    click.echo(f"Next: `salesflow doctor --env {env}`, then the first pull request (docs/runbook.md).")


@click.command("doctor")
@environment_option("Environment whose first-deploy prerequisites to check.")
def doctor_command(env: str) -> None:
    """Check that everything the first deploy of an environment needs exists: buckets, OIDC provider,
    roles and their trust, boundary, pepper (never its value), GitHub environments (with GITHUB_TOKEN),
    Confluent environment and service accounts (with CONFLUENT_CLOUD_API_KEY/SECRET). Each item is OK,
    MISSING (with the fix) or CANNOT CHECK. Exit 1 when something is missing."""
    from salesflow.cloud.confluent import ConfluentReader
    from salesflow.cloud.github import GitHubReader
    from salesflow.delivery.doctor import Doctor, Status, render

    environment = load_or_fail(env)
    region = environment.aws.region
    checks = Doctor(
        environment,
        aws=lambda service: aws_client(service, region),
        github=GitHubReader.from_environment(),
        confluent=ConfluentReader.from_environment(),
    ).run()
    click.echo(render(checks))
    if any(check.status is Status.MISSING for check in checks):
        sys.exit(1)


COMMANDS = (
    guard_command,
    plan_compare_command,
    stacks_command,
    publish_artifact_command,
    smoke_command,
    schema_group,
    bootstrap_command,
    doctor_command,
)
