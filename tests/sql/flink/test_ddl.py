"""The DDL statements may run again on what they created (Confluent deletes completed statements after
about 30 days and Terraform then submits them again): each runs twice here, and the INSERT still works."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import BASE_MS, PEPPER, OrderFactory

from salesflow.config import Environment
from salesflow.sql.harness import FlinkHarness, HarnessError
from salesflow.sql.render import render_statements


def test_every_ddl_statement_runs_twice_and_the_insert_still_writes(
    harness: FlinkHarness, dev: Environment, order: OrderFactory
) -> None:
    statements = render_statements(dev, "local", pepper=PEPPER)
    ddl = [s for s in statements if s.kind == "ddl"]
    assert [s.text.split("`")[0].split() for s in ddl] == [
        ["CREATE", "TABLE", "IF", "NOT", "EXISTS"],
        ["ALTER", "TABLE"],
    ]
    insert = [s for s in statements if s.kind == "continuous"]
    run = harness.run(dev, [order("SO-D1", BASE_MS)], statements=[*ddl, *ddl, *insert])
    assert run.orders_out == {"SO-D1"}


def test_the_previous_create_table_fails_when_run_again(harness: FlinkHarness, dev: Environment) -> None:
    """What the IF NOT EXISTS fixes: the v1 text (without it) fails on the table it created itself."""
    create = render_statements(dev, "local", pepper=PEPPER)[0]
    unguarded = replace(create, text=create.text.replace("CREATE TABLE IF NOT EXISTS", "CREATE TABLE", 1))
    assert unguarded.text != create.text
    with pytest.raises(
        HarnessError, match=r"Could not execute CreateTable in path .*`sales_order_lines_clean`"
    ):
        harness.explain(dev, statements=[unguarded, unguarded])
