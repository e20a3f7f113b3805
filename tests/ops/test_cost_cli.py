"""`salesflow cost` end to end on the session's synthesis: the JSON total is the sum of its components,
--prices changes exactly the prices it covers, --base-ref fills the delta, errors name the fix."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from infra_support import Synthesis

from salesflow.cli import main
from salesflow.ops.cost import baseline as baseline_module


def _cost(*args: str) -> str:
    result = CliRunner().invoke(main, ["cost", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_prod_json_total_equals_the_sum_of_its_components(synthesis: Synthesis) -> None:
    document = json.loads(
        _cost("--env", "prod", "--format", "json", "--synth-dir", str(synthesis.outdir)), parse_float=Decimal
    )
    assert list(document) == [
        "environment",
        "currency",
        "total_monthly",
        "components",
        "base_ref",
        "base_total_monthly",
        "delta_monthly",
    ]
    assert (document["environment"], document["currency"]) == ("prod", "USD")
    assert document["total_monthly"] == sum(component["monthly"] for component in document["components"])
    # tests/ops/test_estimate.py's prod: every stack of the environment, <env>-bootstrap included.
    assert document["total_monthly"] == Decimal("1889.691485")
    assert (document["base_ref"], document["base_total_monthly"], document["delta_monthly"]) == (
        None,
        None,
        None,
    )
    fields = {
        "component",
        "resource",
        "quantity",
        "unit",
        "unit_price",
        "monthly",
        "price_source",
        "confirmed",
    }
    for component in document["components"]:
        assert set(component) == fields
        assert isinstance(component["confirmed"], bool)
        assert component["monthly"] == (component["quantity"] * component["unit_price"]).quantize(
            Decimal("1e-6")
        )


def test_the_organisation_price_list_replaces_list_prices(
    synthesis: Synthesis, price_list_path: Path
) -> None:
    args = ("--env", "dev", "--format", "json", "--synth-dir", str(synthesis.outdir))
    listed = json.loads(_cost(*args), parse_float=Decimal)
    organisation = json.loads(_cost(*args, "--prices", str(price_list_path)), parse_float=Decimal)
    cluster = next(c for c in organisation["components"] if c["component"] == "Kafka cluster")
    assert (cluster["unit_price"], cluster["monthly"], cluster["confirmed"]) == (
        Decimal("0.6"),
        Decimal("438.000000"),
        True,
    )
    assert "organisation price list" in cluster["price_source"]
    # 730 x (0.75 - 0.60) on the cluster; ingress, egress (0.05 -> 0.04) and storage (0.08 -> 0.073) a little.
    changed = {
        c["component"]
        for c, before in zip(organisation["components"], listed["components"], strict=True)
        if c["monthly"] != before["monthly"]
    }
    assert changed == {"Kafka cluster", "Kafka ingress", "Kafka egress", "Kafka storage"}


def test_table_and_markdown_mark_unconfirmed_figures_and_answer_the_what_ifs(synthesis: Synthesis) -> None:
    table = _cost("--env", "dev", "--synth-dir", str(synthesis.outdir))
    assert "Kafka cluster" in table and "$547.50 *" in table and "$153.30\n" in table
    # dev as in tests/ops/test_estimate.py; unconfirmed: minus 153.30 (Flink) and 3.00 (three KMS keys)
    # = 635.875726: 80.3 %
    assert "Total $792.18 a month; $635.88 of it (80%) rests on unconfirmed prices." in table
    assert "What if" in table
    comment = _cost("--env", "dev", "--format", "markdown", "--synth-dir", str(synthesis.outdir))
    assert comment.startswith("### Cost: dev\n\nEstimated **$792.18 a month**")
    assert "<details><summary>What if</summary>" in comment


def test_base_ref_fills_the_delta(
    synthesis: Synthesis, stacks_of: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every stack of the environment, as --synth-dir reads them and the base synthesis writes them.
    stacks = stacks_of("prod")
    del stacks["prod-flink"]["resource"]["confluent_tableflow_topic"]
    monkeypatch.setattr(baseline_module, "synthesize", lambda *_: stacks)
    document = json.loads(
        _cost(
            "--env", "prod", "--format", "json", "--base-ref", "HEAD", "--synth-dir", str(synthesis.outdir)
        ),
        parse_float=Decimal,
    )
    # The base has no Tableflow topic: 73.00 + 0.084298 + 0.371752 of delta.
    assert document["base_ref"] == "HEAD"
    assert document["delta_monthly"] == Decimal("73.456050")
    assert document["base_total_monthly"] + document["delta_monthly"] == document["total_monthly"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env", "dev", "--synth-dir", "/nonexistent/cdktf.out"], "run `make synth` first"),
        (["--env", "dev", "--prices", "/nonexistent/prices.json"], "no such price list"),
        (["--env", "staging"], "Invalid value for '--env'"),
    ],
)
def test_errors_name_the_fix(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["cost", *args])
    assert result.exit_code != 0
    assert message in result.output
