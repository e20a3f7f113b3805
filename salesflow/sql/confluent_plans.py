"""Reading what Confluent Cloud's own planner says about a statement: its ``EXPLAIN`` text and the
result schema in a dry run's ``status.traits``.

Confluent's EXPLAIN prints ``== Physical Plan ==`` (the operator tree) and ``== Physical Details ==``:
one block per operator, ``[<id>] <Operator>`` followed by ``Key: value`` lines (``Table``,
``Changelog mode: append|upsert|retract``, ``Upsert key``, ``State size: low|medium|high``). The exact
shape of the result rows, and whether an append-only operator prints its changelog mode at all, differ
between versions of Confluent's documentation, so this module parses defensively: every text cell of
every row is joined, blocks are found by their ``[id]`` header, and a sink without a ``Changelog mode``
line counts as append only when no operator of the plan reports any changelog mode (the documented
"shown only when not append-only" form).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from salesflow.cloud.flink_statements import DataType, ResultColumn
from salesflow.sql.avro_types import Column

STATE_SIZES = ("none", "low", "medium", "high")
_DETAILS = re.compile(r"==\s*Physical Details\s*==", re.IGNORECASE)
_HEADER = re.compile(r"^\s*\[(?P<id>\d+)\]\s+(?P<name>\S+)\s*$")
_PROPERTY = re.compile(r"^\s*(?P<key>[A-Za-z][A-Za-z ]*?)\s*:\s*(?P<value>.*?)\s*$")


class PlanError(ValueError):
    """The EXPLAIN text has no operator details this module can read."""


@dataclass(frozen=True)
class Operator:
    id: int
    name: str
    details: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.name} [{self.id}]"

    @property
    def changelog_mode(self) -> str | None:
        mode = self.details.get("Changelog mode")
        return mode.lower() if mode else None

    @property
    def state_size(self) -> str | None:
        size = self.details.get("State size")
        return size.lower() if size else None

    @property
    def is_sink(self) -> bool:
        return self.name.endswith("Sink")


@dataclass(frozen=True)
class Plan:
    operators: tuple[Operator, ...]

    @property
    def sink(self) -> Operator | None:
        sinks = [operator for operator in self.operators if operator.is_sink]
        return max(sinks, key=lambda operator: operator.id) if sinks else None

    def sink_changelog_mode(self) -> tuple[str | None, bool]:
        """(mode at the sink, implied?). Implied ``append``: no operator prints a changelog mode."""
        sink = self.sink
        if sink is None:
            return None, False
        if sink.changelog_mode is not None:
            return sink.changelog_mode, False
        if all(operator.changelog_mode is None for operator in self.operators):
            return "append", True
        return None, False

    def state_sizes(self) -> dict[str, str]:
        return {op.label: op.state_size for op in self.operators if op.state_size is not None}

    def largest_state(self) -> str | None:
        sizes = [size for size in self.state_sizes().values() if size in STATE_SIZES]
        return max(sizes, key=STATE_SIZES.index) if sizes else None


def explain_text(rows: Iterable[dict[str, Any]]) -> str:
    """The plan text of EXPLAIN's result rows (``{op, row}``; cells joined, one row per line)."""
    lines = []
    for result in rows:
        cells = result.get("row")
        cells = cells if isinstance(cells, list) else [cells]
        lines += [cell for cell in cells if isinstance(cell, str)]
    return "\n".join(lines)


def parse_plan(text: str) -> Plan:
    match = _DETAILS.search(text)
    if match is None:
        raise PlanError("no '== Physical Details ==' section in the EXPLAIN output")
    operators: list[Operator] = []
    current: tuple[int, str, dict[str, str]] | None = None
    for line in text[match.end() :].splitlines():
        if line.strip().startswith("=="):
            break
        header = _HEADER.match(line)
        if header:
            if current:
                operators.append(Operator(*current))
            current = (int(header["id"]), header["name"], {})
            continue
        prop = _PROPERTY.match(line)
        if prop and current:
            current[2][prop["key"]] = prop["value"]
    if current:
        operators.append(Operator(*current))
    if not operators:
        raise PlanError("the '== Physical Details ==' section lists no operator")
    return Plan(tuple(operators))


# -- result schema ----------------------------------------------------------------------------------

_MAX_LENGTH = 2_147_483_647
_SIMPLE = {
    "INTEGER": "INT",
    "INT": "INT",
    "BIGINT": "BIGINT",
    "SMALLINT": "SMALLINT",
    "TINYINT": "TINYINT",
    "BOOLEAN": "BOOLEAN",
    "DOUBLE": "DOUBLE",
    "FLOAT": "FLOAT",
    "DATE": "DATE",
    "STRING": "STRING",
    "BYTES": "BYTES",
}


def flink_type(data_type: DataType) -> str:
    """A result-schema type spelled as ``avro_types`` spells Flink types (``STRING``, ``INT``,
    ``TIMESTAMP_LTZ(3)``, ``DECIMAL(10, 2)``), so columns compare with the contract's."""
    root = data_type.type.upper()
    if root in {"VARCHAR", "CHAR"}:
        if root == "VARCHAR" and data_type.length in (None, _MAX_LENGTH):
            return "STRING"
        return f"{root}({data_type.length})"
    if root in {"VARBINARY", "BINARY"}:
        if root == "VARBINARY" and data_type.length in (None, _MAX_LENGTH):
            return "BYTES"
        return f"{root}({data_type.length})"
    if root == "DECIMAL":
        return f"DECIMAL({data_type.precision}, {data_type.scale or 0})"
    if root in {"TIMESTAMP_WITH_LOCAL_TIME_ZONE", "TIMESTAMP_LTZ"}:
        return f"TIMESTAMP_LTZ({_precision(data_type)})"
    if root in {"TIMESTAMP_WITHOUT_TIME_ZONE", "TIMESTAMP"}:
        return f"TIMESTAMP({_precision(data_type)})"
    if root == "ARRAY" and data_type.element_type is not None:
        return f"ARRAY<{_nested(data_type.element_type)}>"
    if root == "MAP" and data_type.key_type is not None and data_type.value_type is not None:
        return f"MAP<{_nested(data_type.key_type)}, {_nested(data_type.value_type)}>"
    if root == "ROW" and data_type.fields is not None:
        fields = ", ".join(
            Column(f.name, flink_type(f.field_type), f.field_type.nullable).ddl() for f in data_type.fields
        )
        return f"ROW<{fields}>"
    return _SIMPLE.get(root, root)


def _precision(data_type: DataType) -> int:
    precision = data_type.precision if data_type.precision is not None else data_type.fractional_precision
    return 6 if precision is None else precision


def _nested(data_type: DataType) -> str:
    type_ = flink_type(data_type)
    return type_ if data_type.nullable else f"{type_} NOT NULL"


def result_columns(columns: Iterable[ResultColumn]) -> list[Column]:
    return [Column(column.name, flink_type(column.type), column.type.nullable) for column in columns]
