"""The ``salesflow`` command line: a table of commands. Each command's body lives in its subpackage."""

from __future__ import annotations

import click

from salesflow import __version__
from salesflow.cli_options import environment_option, load_or_fail
from salesflow.delivery.commands import COMMANDS as DELIVERY_COMMANDS
from salesflow.events.commands import generate_command
from salesflow.ops.cost.command import cost_command
from salesflow.ops.export import export_command
from salesflow.ops.status import status_command
from salesflow.sql.commands import sql_group
from salesflow.twin.commands import demo_command


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="salesflow")
def main() -> None:
    """salesflow: a streaming sales pipeline (Kafka -> Flink -> Tableflow/Iceberg -> weekly CSVs),
    declared in this repository and proven offline with real engines.

    Environment settings come from environments/<env>.yaml (see `salesflow config --help`).
    """


@click.command("config")
@environment_option("Environment to validate and print (environments/<env>.yaml).")
def config_command(env: str) -> None:
    """Validate an environment file and print it as normalised JSON."""
    click.echo(load_or_fail(env).model_dump_json(indent=2, by_alias=True))


COMMANDS: tuple[click.Command, ...] = (
    config_command,  # salesflow/config.py: environments/<env>.yaml
    generate_command,  # events/: sales-order events to a file or Kafka
    sql_group,  # sql/: render, lint, lock, run, explain and verify (Confluent dry run) the statements
    demo_command,  # twin/: the whole pipeline on this machine
    export_command,  # ops/: one week's reports (backfill), the Lambda's code run here
    cost_command,  # ops/cost/: what an environment costs a month, and a change's delta
    status_command,  # ops/status.py: the monitor's checks (monitor/) from a laptop or CI
    *DELIVERY_COMMANDS,  # delivery/: guard, plan-compare, stacks, publish-artifact, smoke, schema verify
)
for _command in COMMANDS:
    main.add_command(_command)

if __name__ == "__main__":
    main()
