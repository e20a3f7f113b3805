"""The statement is insert-only into the append-only clean topic, and the check can fail."""

from __future__ import annotations

from dataclasses import replace

import pytest

from salesflow.config import Environment
from salesflow.sql.harness import FlinkHarness
from salesflow.sql.plans import NotInsertOnlyError, check_insert_only, insert_only_problems, sink_inputs
from salesflow.sql.render import RenderedStatement, render_statements


def _keep_last(environment: Environment) -> list[RenderedStatement]:
    statements = render_statements(environment, "local")
    insert = next(s for s in statements if s.kind == "continuous")
    assert "ORDER BY `r`.`$rowtime` ASC" in insert.text
    keep_last = replace(insert, text=insert.text.replace("`$rowtime` ASC", "`$rowtime` DESC"))
    return [keep_last if s is insert else s for s in statements]


_DEDUP_NODE = {
    "first_row": "Deduplicate(keep=[FirstRow], key=[order_id], order=[ROWTIME], outputInsertOnly=[true])",
    "window": "WindowDeduplicate(window=[TUMBLE(win_start=[window_start], win_end=[window_end], "
    "size=[10 min])], keep=[FirstRow], partitionKeys=[order_id]",
}


def test_production_statement_emits_inserts_only(harness: FlinkHarness, variant_env: Environment) -> None:
    (plan,) = harness.explain(variant_env, sink="any").values()
    (sink,) = sink_inputs(plan)
    environment = variant_env
    assert sink.table == (
        f"{environment.flink_catalog}.{environment.flink_database}.{environment.confluent.topics.clean.name}"
    )
    assert sink.changelog_mode == "I"
    check_insert_only(plan)
    variant = environment.confluent.flink.dedup
    assert _DEDUP_NODE[variant] in plan
    assert ("WindowDeduplicate" in plan) is (variant == "window")  # the switch really switches the plan
    # The production ALTER TABLE set the watermark the dedup relies on.
    delay_ms = environment.confluent.flink.watermark_delay_seconds * 1000
    assert f"watermark=[($rowtime - {delay_ms}:INTERVAL" in plan


def test_production_statement_plans_against_an_append_only_sink(
    harness: FlinkHarness, variant_env: Environment
) -> None:
    (plan,) = harness.explain(variant_env, sink="append").values()
    assert insert_only_problems(plan) == []


def test_keep_last_variant_is_rejected_by_the_check(harness: FlinkHarness, dev: Environment) -> None:
    (plan,) = harness.explain(dev, statements=_keep_last(dev), sink="any").values()
    (sink,) = sink_inputs(plan)
    assert sink.changelog_mode != "I" and "U" in sink.changelog_mode
    with pytest.raises(NotInsertOnlyError, match="not insert-only"):
        check_insert_only(plan)


def test_keep_last_variant_cannot_write_an_append_only_table(harness: FlinkHarness, dev: Environment) -> None:
    with pytest.raises(NotInsertOnlyError, match="doesn't support consuming update"):
        harness.explain(dev, statements=_keep_last(dev), sink="append")
