"""The ``salesflow`` command line: one entry point for every offline proof and local run."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from salesflow import __version__
from salesflow.config import ConfigError, environment_names, load_environment


def _fail(message: str) -> None:
    raise click.ClickException(message)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="salesflow")
def main() -> None:
    """salesflow: a streaming sales pipeline (Kafka -> Flink -> Tableflow/Iceberg -> weekly CSVs),
    declared in this repository and proven offline with real engines.

    Environment settings come from environments/<env>.yaml (see `salesflow config --help`).
    """


@main.command("config")
@click.option(
    "--env",
    "env",
    type=click.Choice(environment_names()),
    required=True,
    help="Environment to validate and print (environments/<env>.yaml).",
)
def config_command(env: str) -> None:
    """Validate an environment file and print it as normalised JSON."""
    try:
        environment = load_environment(env)
    except ConfigError as exc:
        _fail(str(exc))
    click.echo(environment.model_dump_json(indent=2, by_alias=True))


def _parse_moment(value: str | None, default: datetime) -> datetime:
    if value is None:
        return default
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        _fail(f"not a date: {value!r}; use YYYY-MM-DD (UTC) or an ISO-8601 timestamp")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@main.command("generate")
@click.option(
    "--events",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="Exact number of Kafka records to write, duplicates included.",
)
@click.option(
    "--start",
    help="First order time, YYYY-MM-DD (UTC) or ISO-8601. Default: 3 ISO weeks before "
    "the current week's Monday.",
)
@click.option(
    "--end",
    help="Order times stay before this, YYYY-MM-DD (UTC) or ISO-8601. Default: the current "
    "week's Monday 00:00 UTC (so every generated order lies in a finished week).",
)
@click.option("--seed", type=int, default=42, show_default=True, help="Random seed: same seed, same output.")
@click.option(
    "--duplicate-share",
    type=click.FloatRange(0, 1, max_open=True),
    default=0.12,
    show_default=True,
    help="Share of orders emitted more than once (producer retry with the same event_id, or a re-send "
    "with a new event_id seconds to hours later).",
)
@click.option(
    "--late-share",
    type=click.FloatRange(0, 1, max_open=True),
    default=0.02,
    show_default=True,
    help="Share of records that arrive late, behind newer records.",
)
@click.option(
    "--max-lateness",
    type=click.IntRange(min=0),
    default=300,
    show_default=True,
    help="Latest arrival of a late record after its timestamp, in seconds. Keep it at or below the "
    "environment's flink.watermark_delay, or Flink's keep-first dedup drops late first emissions.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["jsonl", "avro"]),
    default="jsonl",
    show_default=True,
    help="jsonl: the repo's interchange format, one {key, timestamp, value} per line. avro: an Avro "
    "object container file of the same envelope (value = schemas/sales_order.avsc).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write; '-' or omitted writes JSON lines to stdout.",
)
@click.option(
    "--bootstrap-servers",
    help="Also produce to this Kafka cluster (credentials from KAFKA_API_KEY/"
    "KAFKA_API_SECRET). Needs --schema-registry-url.",
)
@click.option(
    "--schema-registry-url",
    help="Schema Registry for the Avro value serializer (credentials from "
    "SCHEMA_REGISTRY_API_KEY/SCHEMA_REGISTRY_API_SECRET); 'mock://name' for an in-process registry.",
)
@click.option("--topic", default="sales_orders_raw", show_default=True, help="Topic to produce to.")
@click.option(
    "--no-register-schema",
    is_flag=True,
    help="Use the latest registered value schema instead of registering it (production: Terraform "
    "registers schemas).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary on stderr.")
def generate_command(
    events: int,
    start: str | None,
    end: str | None,
    seed: int,
    duplicate_share: float,
    late_share: float,
    max_lateness: int,
    output_format: str,
    output: Path | None,
    bootstrap_servers: str | None,
    schema_registry_url: str | None,
    topic: str,
    no_register_schema: bool,
    quiet: bool,
) -> None:
    """Generate realistic, deterministic sales-order events with duplicates, late arrivals and PII.

    Every PII field is filled (unicode names, e-mails, phones, streets, postal codes) so downstream tests
    can prove none of it leaves the Flink statement. Example:

        salesflow generate --events 100000 --seed 7 -o events.jsonl
    """
    from salesflow.event_files import write_events
    from salesflow.generator import GenerationStats, GeneratorSettings, finished_weeks, generate

    if bool(bootstrap_servers) != bool(schema_registry_url):
        _fail("--bootstrap-servers and --schema-registry-url go together")
    if output_format == "avro" and (output is None or str(output) == "-"):
        _fail("--format avro needs --output <file> (binary output is not written to a terminal)")
    default_start, default_end = finished_weeks(datetime.now(UTC))
    try:
        settings = GeneratorSettings(
            start=_parse_moment(start, default_start),
            end=_parse_moment(end, default_end),
            events=events,
            seed=seed,
            duplicate_share=duplicate_share,
            late_share=late_share,
            max_lateness=timedelta(seconds=max_lateness),
        )
    except ValueError as exc:
        _fail(str(exc))
    stats = GenerationStats()
    records = list(generate(settings, stats)) if bootstrap_servers else generate(settings, stats)
    show_progress = not quiet and events >= 50_000
    with (
        click.progressbar(length=events, label="generating", file=sys.stderr)
        if show_progress
        else _NoBar() as bar
    ):
        written = write_events(records, output, output_format, on_progress=bar.update)
    if bootstrap_servers:
        from salesflow.kafka_io import KafkaTarget, ProduceError, produce

        target = KafkaTarget(bootstrap_servers, schema_registry_url or "", topic, not no_register_schema)
        try:
            sent = produce(records, target)
        except ProduceError as exc:
            _fail(str(exc))
        if not quiet:
            click.echo(f"produced {sent} records to {topic}", err=True)
    if not quiet:
        click.echo(
            f"{written} events: {stats.orders} orders, {stats.duplicates} duplicates "
            f"({stats.retries} retries, {stats.resends} re-sends), {stats.late} late, "
            f"{stats.customers} customers",
            err=True,
        )


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def update(self, _count: int) -> None:
        return None


def _register_subcommands() -> None:
    from salesflow.demo_command import demo_command
    from salesflow.export_command import export_command
    from salesflow.sql.commands import sql_group

    main.add_command(sql_group)
    main.add_command(export_command)
    main.add_command(demo_command)

    from salesflow.pipeline_cli import COMMANDS as PIPELINE_COMMANDS

    for command in PIPELINE_COMMANDS:
        main.add_command(command)

    from salesflow.ops.cost.command import cost_command

    main.add_command(cost_command)


_register_subcommands()

if __name__ == "__main__":
    main()
