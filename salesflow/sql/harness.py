"""Run the production Flink statements in a local Apache Flink (PyFlink 2.3, the .venv-flink env).

What is production text and what is local stand-in:

* The statements are rendered by ``render.py`` for the ``local`` target, which differs from the
  Confluent text only in the pepper literal, and are submitted **verbatim** (trailing ``;`` included)
  in order, each after its statement properties were applied (``properties.py``).
* Confluent's catalog (environment) and database (Kafka cluster) are a ``generic_in_memory`` catalog
  and a database of the same names.
* The raw topic, which Confluent infers from its Schema Registry subject, is a filesystem table with
  the columns ``avro_types`` derives from ``schemas/sales_order.avsc`` plus ``$rowtime``
  (``TIMESTAMP_LTZ(3)``, the Kafka record timestamp) and a zero-delay watermark standing in for
  Confluent's default one; the production ``ALTER TABLE ... MODIFY WATERMARK`` then replaces it.
* A table the production DDL creates (the clean topic) is registered verbatim, then shadowed by a
  TEMPORARY table of the same name and columns writing JSON files, because the local Flink has no
  Confluent connector (``DISTRIBUTED BY`` is left out: a filesystem sink has no buckets).

One JVM serves a whole process (PyFlink starts it with the first TableEnvironment), and one Flink
MiniCluster in it (started with the first session) runs every job, submitted to it over its REST API
like to a session cluster; every run gets a fresh TableEnvironment, catalog and temporary directory.
Parallelism is 1 and sources are read in file order, so a run is deterministic, late arrivals
included: the watermark assigner emits a new watermark as soon as event time advanced by more than
``pipeline.auto-watermark-interval`` (200 ms), so a first emission that arrives more than the watermark
delay behind the newest record is dropped exactly as the statement's keep-first dedup does in Confluent
Cloud.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pyflink.table import EnvironmentSettings, ExplainDetail, TableEnvironment

from salesflow.config import Environment
from salesflow.contracts import SALES_ORDER, load_schema_json
from salesflow.events.files import atomic_output
from salesflow.events.records import KafkaRecord
from salesflow.sql.avro_types import Column, columns_ddl, record_columns
from salesflow.sql.local_io import ROWTIME, InputSummary, flatten_records, read_sink_rows
from salesflow.sql.plans import NotInsertOnlyError
from salesflow.sql.properties import LocalSettings, local_settings
from salesflow.sql.render import RenderedStatement, render_statements, sql_string_content

AUTO_WATERMARK_INTERVAL = "200 ms"
# The local JVM runs many small jobs, never a long one: its C2 compiler threads and parallel GC cost more CPU
# than they win back (measured on the Flink suite, 2 cores: 150 s of JVM CPU -> ~80 s, wall 178 -> 112 s).
# C1 only and the serial collector; PyFlink passes JVM_ARGS to the java command it starts (a JVM_ARGS of the
# caller's own wins).
LOCAL_JVM_ARGS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
# Slots of the shared MiniCluster: a run's jobs run one after another at parallelism 1.
CLUSTER_SLOTS = 2
SinkKind = Literal["append", "any"]


class HarnessError(RuntimeError):
    """Flink rejected a statement or a job failed; the message names the statement."""


@dataclass
class HarnessRun:
    environment: str
    rows: list[dict[str, Any]]  # lines written into the clean table, in the order Flink wrote them
    columns: list[Column]  # the clean table as the production DDL registered it
    input: InputSummary
    statements: list[RenderedStatement]
    state_ttl: dict[str, timedelta] = field(default_factory=dict)  # per statement, as Flink parsed it
    time_zone: dict[str, str] = field(default_factory=dict)

    @property
    def orders_in(self) -> set[str]:
        return self.input.order_ids or set()

    @property
    def orders_out(self) -> set[str]:
        return {row["order_id"] for row in self.rows}

    @property
    def dropped_orders(self) -> set[str]:
        """Orders read with items but without a line out: their first emission was behind the watermark."""
        return self.orders_in - (self.input.itemless or set()) - self.orders_out


class FlinkHarness:
    """Runs, explains and describes the rendered statements of an environment in local Flink."""

    def __init__(self, parallelism: int = 1) -> None:
        self.parallelism = parallelism
        os.environ.setdefault("JVM_ARGS", LOCAL_JVM_ARGS)  # read when the first TableEnvironment starts it

    def run(
        self,
        environment: Environment,
        records: Iterable[KafkaRecord],
        *,
        pepper: str | None = None,
        statements: list[RenderedStatement] | None = None,
        source: str = "input",
    ) -> HarnessRun:
        """Feed ``records`` to the raw table, run every statement to completion, return the clean lines."""
        statements = statements or render_statements(environment, "local", pepper=pepper)
        summary = InputSummary()
        with self._session(environment, statements, "append") as session:
            start = session.start_from_ms()
            with atomic_output(session.raw_dir / "events.json") as handle:
                for line in flatten_records(records, summary, start, source):
                    handle.write(line)
            session.submit_all(execute=True)
            clean = environment.confluent.topics.clean.name
            columns = session.sink_columns[clean]
            rows = read_sink_rows(session.sink_dirs[clean], columns)
            return HarnessRun(
                environment=environment.name,
                rows=rows,
                columns=columns,
                input=summary,
                statements=statements,
                state_ttl=session.state_ttl,
                time_zone=session.time_zone,
            )

    def explain(
        self,
        environment: Environment,
        *,
        pepper: str | None = None,
        statements: list[RenderedStatement] | None = None,
        sink: SinkKind = "append",
    ) -> dict[str, str]:
        """``EXPLAIN CHANGELOG_MODE`` of each continuous statement, by statement name.

        ``sink="append"`` plans against an append-only sink like the clean topic: a statement that
        would emit updates raises NotInsertOnlyError. ``sink="any"`` plans against a sink accepting
        every change, to show what the statement emits (check it with ``plans.check_insert_only``).
        """
        statements = statements or render_statements(environment, "local", pepper=pepper)
        with self._session(environment, statements, sink) as session:
            return session.submit_all(execute=False)

    def registered_columns(self, environment: Environment, table: str) -> list[Column]:
        """Columns of ``table`` as the production DDL statements register it."""
        statements = render_statements(environment, "local")
        with self._session(environment, [s for s in statements if s.kind == "ddl"], "append") as session:
            session.submit_all(execute=False)
            return session.describe(table)

    @contextmanager
    def _session(
        self, environment: Environment, statements: list[RenderedStatement], sink: SinkKind
    ) -> Iterator[_Session]:
        with tempfile.TemporaryDirectory(prefix="salesflow-flink-") as workdir:
            yield _Session(environment, statements, sink, Path(workdir), self.parallelism)


_CLUSTER: dict[int, tuple[Any, str, int]] = {}  # id(gateway) -> (the MiniCluster, its REST host and port)


def _shared_cluster() -> tuple[str, int]:
    """The JVM's one MiniCluster, started on first use, as (REST host, port). A job submitted with the
    default ``execution.target`` (local) starts and stops a MiniCluster of its own: about 1.8 s of JVM CPU
    per job, 4x what the job itself costs on the suite's small inputs."""
    from pyflink.java_gateway import get_gateway

    gateway = get_gateway()
    if id(gateway) not in _CLUSTER:
        flink = gateway.jvm.org.apache.flink
        configuration = flink.configuration.Configuration()
        for key, value in (
            ("rest.bind-address", "127.0.0.1"),
            ("rest.address", "127.0.0.1"),
            ("rest.port", "0"),
        ):
            configuration.setString(key, value)
        cluster = flink.runtime.minicluster.MiniCluster(
            flink.runtime.minicluster.MiniClusterConfiguration.Builder()
            .setConfiguration(configuration)
            .setNumTaskManagers(1)
            .setNumSlotsPerTaskManager(CLUSTER_SLOTS)
            .build()
        )
        cluster.start()
        address = cluster.getRestAddress().get()
        _CLUSTER[id(gateway)] = (cluster, address.getHost(), address.getPort())
    _cluster, host, port = _CLUSTER[id(gateway)]
    return host, port


class _Session:
    """One TableEnvironment with the environment's catalog, the local raw table and shadow sinks."""

    def __init__(
        self,
        environment: Environment,
        statements: list[RenderedStatement],
        sink: SinkKind,
        workdir: Path,
        parallelism: int,
    ) -> None:
        self.environment = environment
        self.statements = statements
        self.sink = sink
        self.workdir = workdir
        self.settings: dict[str, LocalSettings] = {
            s.name: local_settings(s.name, s.properties) for s in statements
        }
        self.raw_dir = workdir / "raw"
        self.raw_dir.mkdir()
        self.sink_dirs: dict[str, Path] = {}
        self.sink_columns: dict[str, list[Column]] = {}
        self.state_ttl: dict[str, timedelta] = {}
        self.time_zone: dict[str, str] = {}
        self.table_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
        config = self.table_env.get_config()
        host, port = _shared_cluster()
        config.set("execution.target", "remote")
        config.set("rest.address", host)
        config.set("rest.port", str(port))
        config.set("parallelism.default", str(parallelism))
        config.set("pipeline.auto-watermark-interval", AUTO_WATERMARK_INTERVAL)
        self._create_catalogs()
        self._create_raw_table()

    def start_from_ms(self) -> int | None:
        starts = {self.settings[s.name].start_from_ms for s in self.statements if s.kind == "continuous"}
        if len(starts) > 1:
            raise HarnessError(
                f"continuous statements start from different timestamps {sorted(map(str, starts))}; "
                "the harness feeds one input, so run them separately"
            )
        return next(iter(starts), None)

    def submit_all(self, execute: bool) -> dict[str, str]:
        """Submit every statement in order; continuous ones run to completion or are explained."""
        before = set(self.table_env.list_tables())
        plans: dict[str, str] = {}
        for statement in self.statements:
            self._apply(statement)
            if statement.kind == "ddl":
                self._execute(statement, lambda s: self.table_env.execute_sql(s.text))
                continue
            self._shadow(set(self.table_env.list_tables()) - before)
            if execute:
                self._execute(statement, lambda s: self.table_env.execute_sql(s.text).wait())
            else:
                plans[statement.name] = self._execute(
                    statement, lambda s: self.table_env.explain_sql(s.text, ExplainDetail.CHANGELOG_MODE)
                )
        return plans

    def describe(self, table: str) -> list[Column]:
        rows = self.table_env.execute_sql(f"DESCRIBE {self._qualified(table)}").collect()
        with rows:
            return [Column(row[0], row[1], bool(row[2])) for row in rows]

    # -- internals ---------------------------------------------------------------------------------

    def _create_catalogs(self) -> None:
        pairs = {(self.environment.flink_catalog, self.environment.flink_database)}
        for settings in self.settings.values():
            if settings.catalog and settings.database:
                pairs.add((settings.catalog, settings.database))
        for catalog, database in sorted(pairs):
            if catalog not in self.table_env.list_catalogs():
                self.table_env.execute_sql(f"CREATE CATALOG `{catalog}` WITH ('type' = 'generic_in_memory')")
            self.table_env.execute_sql(f"CREATE DATABASE IF NOT EXISTS `{catalog}`.`{database}`")
        self.table_env.use_catalog(self.environment.flink_catalog)
        self.table_env.use_database(self.environment.flink_database)

    def _create_raw_table(self) -> None:
        columns = [*record_columns(load_schema_json(SALES_ORDER)), Column(ROWTIME, "TIMESTAMP_LTZ(3)", False)]
        raw = self._qualified(self.environment.confluent.topics.raw.name)
        self.table_env.execute_sql(
            f"CREATE TABLE {raw} (\n    {columns_ddl(columns)},\n"
            f"    WATERMARK FOR `{ROWTIME}` AS `{ROWTIME}`\n) WITH (\n"
            "    'connector' = 'filesystem',\n"
            f"    'path' = '{sql_string_content(str(self.raw_dir))}',\n"
            "    'format' = 'json',\n"
            "    'json.timestamp-format.standard' = 'ISO-8601',\n"
            "    'json.fail-on-missing-field' = 'true'\n)"
        )

    def _apply(self, statement: RenderedStatement) -> None:
        """Statement properties -> table options, USE CATALOG and USE (Confluent defaults otherwise)."""
        settings = self.settings[statement.name]
        config = self.table_env.get_config()
        for key, value in settings.table_options.items():
            config.set(key, value)
        self.table_env.use_catalog(settings.catalog or self.environment.flink_catalog)
        self.table_env.use_database(settings.database or self.environment.flink_database)
        self.state_ttl[statement.name] = config.get_idle_state_retention()
        self.time_zone[statement.name] = config.get_local_timezone()

    def _shadow(self, tables: set[str]) -> None:
        """Replace each table the DDL created by a local TEMPORARY table with the same columns."""
        for table in sorted(tables - self.sink_columns.keys()):
            columns = self.describe(table)
            if self.sink == "any":
                options = "'connector' = 'blackhole'"
            else:
                directory = self.workdir / "sinks" / table
                directory.mkdir(parents=True)
                self.sink_dirs[table] = directory
                options = (
                    "'connector' = 'filesystem', "
                    f"'path' = '{sql_string_content(str(directory))}', 'format' = 'json', "
                    "'json.timestamp-format.standard' = 'ISO-8601', "
                    "'json.encode.decimal-as-plain-number' = 'true'"
                )
            self.table_env.execute_sql(
                f"CREATE TEMPORARY TABLE {self._qualified(table)} (\n    {columns_ddl(columns)}\n) "
                f"WITH ({options})"
            )
            self.sink_columns[table] = columns

    def _qualified(self, table: str) -> str:
        return f"`{self.environment.flink_catalog}`.`{self.environment.flink_database}`.`{table}`"

    def _execute(self, statement: RenderedStatement, action: Any) -> Any:
        try:
            return action(statement)
        except Exception as exc:
            message = _java_message(exc)
            if "doesn't support consuming update" in message:
                raise NotInsertOnlyError(f"{statement.name}: {message}") from None
            raise HarnessError(f"{statement.name}: Flink rejected the statement: {message}") from None


def _java_message(exc: Exception) -> str:
    """The first line of a Java exception raised through py4j, with the class's package left out (a raw
    py4j error's first line only names the call; its second carries the Java exception)."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()] or [type(exc).__name__]
    first = lines[0]
    if first.startswith("An error occurred while calling") and len(lines) > 1:
        first = lines[1].removeprefix(":").strip()
    return re.sub(r"^(?:[a-z_]\w*\.)+(?=[A-Z]\w*: )", "", first)
