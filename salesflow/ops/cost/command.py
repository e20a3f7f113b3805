"""``salesflow cost``: the monthly estimate of an environment, its delta against another git ref, and the
what-ifs, as a table, Markdown (the pull-request comment) or JSON."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import click

from salesflow.cli_options import environment_option
from salesflow.config import REPO_ROOT, ConfigError, Environment, load_environment
from salesflow.delivery.stacks import SYNTH_DIR, StackError, bootstrap_stack, stacks_for_environment
from salesflow.ops.cost.baseline import BaselineError, baseline, read_stack, synthesize
from salesflow.ops.cost.estimate import estimate
from salesflow.ops.cost.inventory import InventoryError
from salesflow.ops.cost.prices import OrganisationPrices, PriceBook, PriceError, Prices
from salesflow.ops.cost.render import Report, markdown, table, to_json
from salesflow.ops.cost.whatif import what_ifs


def _head_stacks(environment: Environment, synth_dir: Path | None, fresh: bool) -> dict[str, dict[str, Any]]:
    """The environment's stacks, its bootstrap stack included (its buckets, key and secrets cost money too):
    synthesized now (``--synth``) or read from the cdktf output."""
    if fresh:
        with tempfile.TemporaryDirectory(prefix="salesflow-cost-") as temporary:
            return synthesize(REPO_ROOT, environment.name, Path(temporary) / "out", None)
    directory = synth_dir or SYNTH_DIR
    stacks = [*stacks_for_environment(environment, directory), bootstrap_stack(environment, directory)]
    return {stack.name: read_stack(stack.directory / "cdk.tf.json") for stack in stacks}


@click.command("cost")
@environment_option("Environment to estimate.")
@click.option(
    "--base-ref",
    help="Also estimate this git ref (synthesized in a temporary worktree) and show the delta, e.g. "
    "origin/main or a commit SHA.",
)
@click.option(
    "--prices",
    "prices_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The organisation's Confluent price list (`confluent billing price list --cloud aws --region "
    "<region> -o json`), laid over the list prices of pricing/prices.yaml.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json", "markdown"]),
    default="table",
    show_default=True,
    help="table for a terminal, markdown for a pull-request comment, json for machines.",
)
@click.option(
    "--synth-dir",
    envvar="SALESFLOW_SYNTH_DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="cdktf output to read [env: SALESFLOW_SYNTH_DIR; default: terraform/cdktf.out].",
)
@click.option(
    "--synth", "fresh", is_flag=True, help="Synthesize the working tree now instead of reading --synth-dir."
)
def cost_command(
    env: str,
    base_ref: str | None,
    prices_path: Path | None,
    output_format: str,
    synth_dir: Path | None,
    fresh: bool,
) -> None:
    """Estimate what an environment costs a month, by component, from environments/<env>.yaml (usage:)
    and the synthesized stacks, at the prices of pricing/prices.yaml.

    Every running Flink statement, Tableflow topic, the cluster, each Lambda, bucket, secret, key and alarm
    is read from the synthesized JSON. Figures resting on an unconfirmed price are marked. Examples:

    \b
        salesflow cost --env prod
        salesflow cost --env dev --base-ref origin/main --format markdown
    """
    try:
        environment = load_environment(env)
        prices = Prices(PriceBook.load(), OrganisationPrices.load(prices_path) if prices_path else None)
        stacks = _head_stacks(environment, synth_dir, fresh)
        current = estimate(environment, stacks, prices)
        base = baseline(base_ref, environment, prices) if base_ref else None
        answers = tuple(what_ifs(environment, stacks, prices, current)) if output_format != "json" else ()
    except (ConfigError, PriceError, InventoryError, StackError, BaselineError) as exc:
        raise click.ClickException(str(exc)) from None
    report = Report(current, base, answers)
    render = {"table": table, "markdown": markdown, "json": to_json}[output_format]
    click.echo(render(report))
