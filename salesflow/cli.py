"""The ``salesflow`` command line: a table of commands. Each command's body lives in its subpackage.

The table names each command's module, imported only when the command runs (``salesflow stacks`` does not
load the cost model or the SQL renderer): the pipelines and the tests start the CLI many times.
"""

from __future__ import annotations

import importlib

import click

from salesflow import __version__

DELIVERY = "salesflow.delivery.commands"
# name -> "module:attribute", in the order `salesflow --help` lists them.
COMMANDS: dict[str, str] = {
    "config": "salesflow.cli_options:config_command",  # salesflow/config.py: environments/<env>.yaml
    "generate": "salesflow.events.commands:generate_command",  # events/: events to a file or Kafka
    "sql": "salesflow.sql.commands:sql_group",  # sql/: render, lint, lock, run, explain, verify (dry run)
    "demo": "salesflow.twin.commands:demo_command",  # twin/: the whole pipeline on this machine
    "export": "salesflow.ops.export:export_command",  # ops/: one week's reports (backfill)
    "cost": "salesflow.ops.cost.command:cost_command",  # ops/cost/: what an environment costs a month
    "status": "salesflow.ops.status:status_command",  # ops/status.py: the monitor's checks, from anywhere
    # delivery/: what the pipelines run, and day 0 (bootstrap, doctor)
    "guard": f"{DELIVERY}:guard_command",
    "plan-compare": f"{DELIVERY}:plan_compare_command",
    "stacks": f"{DELIVERY}:stacks_command",
    "publish-artifact": f"{DELIVERY}:publish_artifact_command",
    "smoke": f"{DELIVERY}:smoke_command",
    "schema": f"{DELIVERY}:schema_group",
    "bootstrap": f"{DELIVERY}:bootstrap_command",
    "doctor": f"{DELIVERY}:doctor_command",
}


class CommandTable(click.Group):
    """A click group whose commands are imported from :data:`COMMANDS` when first used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attribute = target.split(":")
        command = getattr(importlib.import_module(module), attribute)
        if command.name != cmd_name:
            raise RuntimeError(
                f"salesflow/cli.py: {target} is the command {command.name!r}, not {cmd_name!r}"
            )
        return command


@click.group(
    cls=CommandTable, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110}
)
@click.version_option(__version__, prog_name="salesflow")
def main() -> None:
    """salesflow: a streaming sales pipeline (Kafka -> Flink -> Tableflow/Iceberg -> weekly CSVs),
    declared in this repository and proven offline with real engines.

    Environment settings come from environments/<env>.yaml (see `salesflow config --help`).
    """


if __name__ == "__main__":
    main()
