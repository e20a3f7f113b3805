"""What the tests of tests/cloud/ share: the test credentials and ids, the ``Confluent`` handle on the
test server, and ``Planner``, Confluent's answers in the scenarios (a dry run, a query dry run, an
EXPLAIN). Imported by name (like tests/terraform/infra_support.py): a module named ``conftest`` is
ambiguous when several folders have one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from confluent_server import (
    ConfluentTestServer,
    FlinkGateway,
    Outcome,
    SchemaRegistryState,
)
from monitor_apis import IcebergCatalog, MetricsState, TableflowState

from salesflow.contracts import SALES_ORDER_LINE, load_schema_json
from salesflow.sql.avro_types import Column, record_columns

KEY, SECRET = "VERIFYKEY7Q2X", "s3cr3t+Verify/Secret=="  # test credentials, not real ones
ORGANIZATION_ID = "00000000-0000-4000-8000-000000000001"  # the organization of environments/dev.yaml
ENVIRONMENT_ID = "env-test01"
COMPUTE_POOL_ID = "lfcp-test01"
KAFKA_CLUSTER_ID = "lkc-test01"


@dataclass
class Confluent:
    server: ConfluentTestServer
    flink: FlinkGateway
    registry: SchemaRegistryState
    metrics: MetricsState
    tableflow: TableflowState
    catalog: IcebergCatalog

    @property
    def url(self) -> str:
        return self.server.url

    def operations(self, operation_id: str) -> list[Any]:
        return self.server.calls(operation_id)

    def created_names(self) -> list[str]:
        return [e.request["name"] for e in self.operations("createSqlv1Statement") if e.status == 201]

    def deleted_names(self) -> list[str]:
        return [e.path.rsplit("/", 1)[-1] for e in self.operations("deleteSqlv1Statement") if e.status == 202]


# -- what Confluent answers ------------------------------------------------------------------------

_CONFLUENT_TYPES = {"STRING": ("VARCHAR", {"length": 2_147_483_647}), "INT": ("INTEGER", {})}


def confluent_type(column: Column) -> dict[str, Any]:
    """A contract column as the result schema of a dry run describes it (Flink's logical type roots)."""
    if column.type in _CONFLUENT_TYPES:
        root, extra = _CONFLUENT_TYPES[column.type]
        return {"type": root, "nullable": column.nullable, **extra}
    if match := re.fullmatch(r"DECIMAL\((\d+), (\d+)\)", column.type):
        return {
            "type": "DECIMAL",
            "nullable": column.nullable,
            "precision": int(match[1]),
            "scale": int(match[2]),
        }
    if match := re.fullmatch(r"TIMESTAMP_LTZ\((\d+)\)", column.type):
        return {
            "type": "TIMESTAMP_WITH_LOCAL_TIME_ZONE",
            "nullable": column.nullable,
            "precision": int(match[1]),
        }
    raise AssertionError(f"no Confluent type for {column.type} in the test planner")


def contract_schema(columns: list[Column] | None = None) -> dict[str, Any]:
    columns = columns if columns is not None else record_columns(load_schema_json(SALES_ORDER_LINE))
    return {"columns": [{"name": c.name, "type": confluent_type(c)} for c in columns]}


def explain_plan(sink_mode: str | None = "append", dedup_mode: str | None = None) -> str:
    """Confluent-style EXPLAIN text of the continuous statement (modes None: lines left out)."""

    def mode(value: str | None) -> str:
        return f"Changelog mode: {value}\n" if value else ""

    return (
        "== Physical Plan ==\n\n"
        "StreamSink [7]\n  +- StreamCalc [6]\n    +- StreamCorrelate [5]\n      +- StreamDeduplicate [4]\n"
        "        +- StreamExchange [3]\n          +- StreamCalc [2]\n"
        "            +- StreamTableSourceScan [1]\n\n"
        "== Physical Details ==\n\n"
        "[1] StreamTableSourceScan\nTable: `salesflow-dev`.`sales-dev`.`sales_orders_raw`\n"
        f"{mode('append' if sink_mode else None)}State size: low\n\n"
        f"[4] StreamDeduplicate\n{mode(dedup_mode or ('append' if sink_mode else None))}"
        "Upsert key: (order_id)\nState size: high\n\n"
        f"[7] StreamSink\nTable: `salesflow-dev`.`sales-dev`.`sales_order_lines_clean`\n{mode(sink_mode)}"
        "State size: low\n"
    )


def explain_pages(text: str, page_rows: int = 6) -> list[list[dict[str, Any]]]:
    """The plan as result rows (one line per row, ``op`` 0) on several pages (exercises paging)."""
    rows = [{"op": 0, "row": [line]} for line in text.splitlines()]
    return [rows[i : i + page_rows] for i in range(0, len(rows), page_rows)]


@dataclass
class Planner:
    """Confluent's behaviour for the scenarios. By default every statement validates, the query is
    append-only with the contract's columns, and EXPLAIN shows an append sink."""

    insert_detail: str | None = None  # the INSERT's dry run FAILS with this detail
    query_traits: dict[str, Any] | None = None
    explain: str = explain_plan()
    phases: tuple[str, ...] | None = None  # overrides every statement's phases (e.g. never finishing)
    seen: list[tuple[str, str, dict[str, str]]] | None = None

    def __call__(self, name: str, text: str, properties: dict[str, str]) -> Outcome:
        if self.seen is not None:
            self.seen.append((name, text, properties))
        if self.phases is not None:
            return Outcome(phases=self.phases)
        keyword = text.lstrip().split(None, 1)[0].upper()
        if keyword == "EXPLAIN":
            return Outcome(
                traits={"sql_kind": "EXPLAIN", "is_bounded": True, "is_append_only": True},
                pages=explain_pages(self.explain),
            )
        if keyword in {"CREATE", "ALTER"}:
            return Outcome(
                traits={
                    "sql_kind": f"{keyword}_TABLE",
                    "is_bounded": True,
                    "is_append_only": True,
                    "schema": {},
                }
            )
        if keyword == "INSERT":
            if self.insert_detail:
                return Outcome(phases=("PENDING", "FAILED"), detail=self.insert_detail)
            return Outcome(traits={"sql_kind": "INSERT_INTO", "is_bounded": False, "is_append_only": True})
        traits = self.query_traits or {
            "sql_kind": "SELECT",
            "is_bounded": False,
            "is_append_only": True,
            "schema": contract_schema(),
        }
        return Outcome(traits=traits)
