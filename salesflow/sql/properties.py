"""Confluent statement properties, mapped to what the local Flink harness does with them.

Confluent Cloud takes session settings as statement *properties* (``sql.*`` keys) beside the SQL;
PyFlink's ``execute_sql`` rejects ``SET``, so the harness applies each property itself. Every key a
statement carries must be listed here: an unknown key is an error, so a new property gets a conscious
local meaning (or a documented refusal) before a statement uses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# Flink table options the harness sets for every statement: Confluent's defaults, so a property that
# is absent locally means what it means in Confluent Cloud (Flink's own time-zone default is the JVM's).
CONFLUENT_DEFAULTS = {
    "table.local-time-zone": "UTC",
    "table.exec.state.ttl": "0 ms",
}

# Statement property -> Flink table option, applied verbatim (Flink parses the same duration and zone
# spellings Confluent documents: "7 d", "1 h", "UTC", "Europe/Berlin").
TABLE_OPTIONS = {
    "sql.state-ttl": "table.exec.state.ttl",
    "sql.local-time-zone": "table.local-time-zone",
}
CATALOG = "sql.current-catalog"  # -> USE CATALOG
DATABASE = "sql.current-database"  # -> USE
STARTUP_MODE = "sql.tables.scan.startup.mode"  # -> which input records the harness feeds
STARTUP_TIMESTAMP = "sql.tables.scan.startup.timestamp-millis"
KNOWN = frozenset(TABLE_OPTIONS) | {CATALOG, DATABASE, STARTUP_MODE, STARTUP_TIMESTAMP}


class PropertyError(ValueError):
    """A statement property the harness cannot reproduce; the message names statement and key."""


@dataclass(frozen=True)
class LocalSettings:
    """What the harness does before submitting one statement."""

    table_options: dict[str, str] = field(default_factory=dict)
    catalog: str | None = None
    database: str | None = None
    # Records with a Kafka timestamp before this are not read (Confluent: startup mode 'timestamp').
    start_from_ms: int | None = None


def local_settings(statement: str, properties: Mapping[str, str]) -> LocalSettings:
    unknown = sorted(set(properties) - KNOWN)
    if unknown:
        raise PropertyError(
            f"{statement}: statement properties {unknown} have no local mapping; add each to "
            "salesflow/sql/properties.py with its local meaning (or reject it there) before using it"
        )
    options = dict(CONFLUENT_DEFAULTS)
    options |= {TABLE_OPTIONS[key]: value for key, value in properties.items() if key in TABLE_OPTIONS}
    return LocalSettings(
        table_options=options,
        catalog=properties.get(CATALOG),
        database=properties.get(DATABASE),
        start_from_ms=_start_from(statement, properties),
    )


def _start_from(statement: str, properties: Mapping[str, str]) -> int | None:
    mode = properties.get(STARTUP_MODE, "earliest-offset")
    timestamp = properties.get(STARTUP_TIMESTAMP)
    if mode == "earliest-offset":
        if timestamp is not None:
            raise PropertyError(f"{statement}: {STARTUP_TIMESTAMP} needs {STARTUP_MODE} = 'timestamp'")
        return None
    if mode != "timestamp":
        raise PropertyError(
            f"{statement}: {STARTUP_MODE} = {mode!r} cannot be reproduced from a file; the harness "
            "supports 'earliest-offset' (read everything) and 'timestamp'"
        )
    if timestamp is None or not timestamp.isdigit():
        raise PropertyError(
            f"{statement}: {STARTUP_MODE} = 'timestamp' needs {STARTUP_TIMESTAMP} as epoch milliseconds, "
            f"got {timestamp!r}"
        )
    return int(timestamp)
