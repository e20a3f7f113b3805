"""``salesflow demo``: the whole pipeline end to end on this machine, with a summary per stage."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import click

from salesflow.cli_options import environment_option, load_or_fail


@click.command("demo")
@environment_option(
    "Environment whose production statements and exporter settings run locally.",
    default="dev",
    show_default=True,
)
@click.option(
    "--events",
    type=click.IntRange(min=100),
    default=100_000,
    show_default=True,
    help="Kafka records to generate (duplicates and late arrivals included).",
)
@click.option("--seed", type=int, default=42, show_default=True, help="Generator seed: same seed, same run.")
@click.option(
    "--weeks",
    type=click.IntRange(1, 52),
    default=3,
    show_default=True,
    help="Full ISO weeks of orders, ending before the current week.",
)
@click.option(
    "--catalog",
    type=click.Choice(["rest", "sql"]),
    default="rest",
    show_default=True,
    help="rest: read through the Iceberg REST catalog twin (Tableflow's path, table files in local S3); "
    "sql: a SQLite catalog with local files (quicker).",
)
@click.option("--now", "now_text", help="Pretend it is this ISO-8601 time (default: now). Fixes the weeks.")
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".salesflow"),
    show_default=True,
    help="Where the run's files live; cleared at the start of every run.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
    help="Where the exported CSVs and manifest are copied.",
)
def demo_command(
    env: str,
    events: int,
    seed: int,
    weeks: int,
    catalog: str,
    now_text: str | None,
    workdir: Path,
    out_dir: Path,
) -> None:
    """Run the pipeline end to end, offline: generate -> Flink -> Iceberg -> Lambda exporter -> S3.

    The production Flink statements run in a local Apache Flink, the clean lines land in a real
    Iceberg table, and the exporter's Lambda handler runs unchanged against a real S3/SNS endpoint
    (moto server on 127.0.0.1), triggered by a scheduler-shaped event for the last generated week.
    """
    from salesflow.twin.demo import DEMO_DOWNLOAD_URL, DemoOptions, run_demo

    environment = load_or_fail(env)
    options = DemoOptions(
        environment=environment,
        workdir=workdir,
        out_dir=out_dir,
        events=events,
        seed=seed,
        weeks=weeks,
        catalog=catalog,
    )
    if now_text:
        try:
            moment = datetime.fromisoformat(now_text)
        except ValueError:
            raise click.BadParameter(f"{now_text!r} is not an ISO-8601 time", param_hint="--now") from None
        options = replace(options, now=moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    click.echo(f"salesflow demo: environment {env}, {events} events, seed {seed}, work directory {workdir}/")
    result = run_demo(options, echo=click.echo)

    manifest = result.manifest
    rows = {name: report["rows"] for name, report in manifest["reports"].items()}
    window = manifest["window"]
    click.echo("")
    click.echo("Summary")
    click.echo(f"  events in                 {result.events:>9,}")
    click.echo(f"  orders                    {result.orders_in:>9,}")
    click.echo(f"  duplicates removed        {result.duplicates_removed:>9,}")
    click.echo(
        f"  late orders dropped       {result.late_dropped:>9,}  (first emission behind the watermark)"
    )
    click.echo(f"  clean lines out           {result.lines_out:>9,}  in {result.snapshots} Iceberg commits")
    verdict = "PASS" if not result.pii_leaks else "FAIL"
    click.echo(
        f"  PII check                 {verdict}: {len(result.pii_leaks)} of {result.pii_values_checked:,} "
        "generated PII values found in the lines, the Iceberg files, the CSVs, the manifest and "
        + ("the analysts' e-mail" if result.email_html else "the SNS message")
    )
    for leak in result.pii_leaks[:10]:
        click.echo(f"    leak: {leak}")
    click.echo(
        f"  ISO week exported         {result.week}  "
        f"{window['start_utc']} -> {window['end_utc']} "
        f"({manifest['orders']:,} orders, {manifest['lines']:,} lines)"
    )
    click.echo(f"  catalog read through      {result.catalog}")
    click.echo(
        "  rows per report           " + ", ".join(f"{name} {count:,}" for name, count in rows.items())
    )
    click.echo("  S3 objects written")
    for key in result.s3_keys:
        click.echo(f"    s3://{key}")
    click.echo("  manifest.json")
    click.echo("    " + json.dumps(manifest, indent=2).replace("\n", "\n    "))
    click.echo(f"  CSVs copied to            {result.copied_to}/")
    if result.email_html:
        click.echo(
            f"  the analysts' e-mail      {result.copied_to / 'email.html'} (open it in a browser), "
            f"{result.copied_to / 'email.txt'}; links signed for {DEMO_DOWNLOAD_URL} (a placeholder)"
        )
    click.echo(
        "  stage timings             "
        + ", ".join(f"{name} {secs:.1f} s" for name, secs in result.timings.items())
    )
    if result.pii_leaks:
        raise SystemExit(1)
