"""Benchmark the weekly exporter against DuckDB and a naive pandas export, on a local Iceberg table.

    make bench-exporter                                   # 8 weeks x 1M lines, then 4x the history
    .venv/bin/python bench/exporter.py --weeks 2 --lines 100000   # a quick run
    make bench-exporter BENCH_ARGS="--lines 1000000,4000000,16000000 --sweep-only --sweep-repeat 1"
        # the size sweep (README's table); DuckDB needs ~11 GB and minutes at 16M lines

The table (PyIceberg SQL catalog, partitioned by day(order_time)) is built once per size and cached
under .salesflow/bench; its files are roughly time-ordered like a streaming writer's commits (one
commit per ``--commit-hours`` of order time). Every contender exports the latest week to CSV files on
local disk in its own subprocess, which reports its wall time, CPU time and peak RSS (getrusage):

- exporter: ``run_export`` itself (read with a row filter and projection, dedup, the 5 reports, manifest),
  publishing to a local folder through an S3-shaped stand-in instead of moto (no HTTP in the numbers);
- duckdb:   the same five reports in SQL over read_parquet() of the week's data files (the file list
  is planned by PyIceberg beforehand and handed over for free), as many threads as the exporter's
  MAX_WORKERS, writing the same CSV bytes below the header line (checked on every run);
- naive:    ``table.scan().to_pandas()`` of the whole table, then pandas (the seed's approach).

The same runs go to a table with ``--history-factor`` times the history (same latest week), in the
same rounds, so the history's cost is not confused with a machine that got busier meanwhile. Timings
on a shared machine are noisy: the ratios are what to read, and a quiet machine gives the figures of
record.
bench/exporter_phases.py splits the exporter's time into its phases (``--sliced``: run_export's
functions, on the threads that run them).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import io
import itertools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

CACHE = REPO_ROOT / ".salesflow" / "bench"
LAST_MONDAY = datetime(2026, 11, 16, tzinfo=UTC)  # the exported week is the one before: 2026-W46
NAMESPACE, TABLE = "lkc-bench", "sales_order_lines_clean"
CHANNELS = ["WEB", "MOBILE_APP", "MARKETPLACE", "STORE"]
PAYMENTS = ["CARD", "PAYPAL", "APPLE_PAY", "GOOGLE_PAY", "BANK_TRANSFER", "GIFT_CARD", "CASH"]
PLACES = [("Berlin", "DE", "EUR"), ("München", "DE", "EUR"), ("Paris", "FR", "EUR"), ("Madrid", "ES", "EUR"),
          ("Łódź", "PL", "PLN"), ("London", "GB", "GBP"), ("Malmö", "SE", "SEK"), ("New York", "US", "USD"),
          ("東京", "JP", "JPY")]  # fmt: skip
WEEK_ZONE = "UTC"  # the exported week's time zone (bounds, daily_revenue's order_date)
CATEGORIES = ["Electronics", "Books", "Home", "Garden", "Toys", "Apparel", "Beauty", "Sports"]


# --- building the table -----------------------------------------------------------------------------------


def week_lines(week_from_end: int, lines: int, seed: int) -> Any:
    """One week of clean lines as an Arrow table sorted by order_time; same inputs, same week."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng(seed * 1000 + week_from_end)
    start = LAST_MONDAY - timedelta(weeks=week_from_end + 1)
    per_order = rng.choice([1, 2, 3, 4, 5], size=lines, p=[0.35, 0.30, 0.18, 0.10, 0.07])
    sizes = per_order[: np.searchsorted(np.cumsum(per_order), lines) + 1]
    sizes[-1] -= sizes.sum() - lines
    orders = len(sizes)
    order_index = np.repeat(np.arange(orders), sizes)
    line_number = (np.arange(lines) - np.repeat(np.cumsum(sizes) - sizes, sizes) + 1).astype(np.int32)
    week_us = 7 * 24 * 3600 * 1_000_000
    order_us = np.sort(rng.integers(0, week_us, size=orders)) // 1000 * 1000  # milliseconds, like Flink
    base_us = int(start.timestamp() * 1_000_000)
    customers = max(orders // 3, 1)
    customer_of_order = rng.integers(0, customers, size=orders)
    key_pool = pa.array([hashlib.sha256(f"{seed}:{i}".encode()).hexdigest() for i in range(customers)])
    products = 240
    sku_of_line = rng.integers(0, products, size=lines)
    prices = np.round(rng.uniform(4, 450, size=products), 1) + 0.09
    price_cents = np.round(prices * 100).astype(np.int64)
    quantity = rng.choice([1, 2, 3, 4], size=lines, p=[0.7, 0.2, 0.07, 0.03]).astype(np.int32)
    place_of_order = rng.integers(0, len(PLACES), size=orders)
    place = place_of_order[order_index]
    order_ids = pc.binary_join_element_wise(
        f"SO-{week_from_end:03d}-", pc.cast(pa.array(order_index), pa.string()), ""
    )
    sku_names = pa.array([f"SKU-{i:05d}" for i in range(products)])
    product_names = pa.array([f"Product {i} Élan" for i in range(products)])
    categories = pa.array([CATEGORIES[i % len(CATEGORIES)] for i in range(products)])

    def pick(values: list[str], index: Any) -> Any:
        return pa.array(values).take(pa.array(index))

    unit = pa.array(price_cents[sku_of_line]).cast(pa.int64())
    return pa.table(
        {
            "order_id": order_ids,
            "line_number": pa.array(line_number, pa.int32()),
            "channel": pick(CHANNELS, rng.integers(0, 4, size=orders)[order_index]),
            "order_time": pa.array(base_us + order_us[order_index], pa.timestamp("us", tz="UTC")),
            "customer_key": key_pool.take(pa.array(customer_of_order[order_index])),
            "customer_city": pick([p[0] for p in PLACES], place),
            "customer_country": pick([p[1] for p in PLACES], place),
            "sku": sku_names.take(pa.array(sku_of_line)),
            "product_name": product_names.take(pa.array(sku_of_line)),
            "category": categories.take(pa.array(sku_of_line)),
            "quantity": pa.array(quantity, pa.int32()),
            "unit_price": _cents_to_decimal(unit, 10),
            "line_amount": _cents_to_decimal(pc.multiply(unit, pa.array(quantity).cast(pa.int64())), 12),
            "currency": pick([p[2] for p in PLACES], place),
            "payment_method": pick(PAYMENTS, rng.integers(0, len(PAYMENTS), size=orders)[order_index]),
        }
    )


def _cents_to_decimal(cents: Any, precision: int) -> Any:
    """Non-negative int64 cents -> decimal128(precision, 2) by writing the unscaled 128-bit values."""
    import numpy as np
    import pyarrow as pa

    unscaled = np.zeros((len(cents), 2), dtype=np.int64)
    unscaled[:, 0] = cents.to_numpy()
    kind = pa.decimal128(precision, 2)
    return pa.Array.from_buffers(kind, len(cents), [None, pa.py_buffer(unscaled.tobytes())])


def build_table(weeks: int, lines: int, commit_hours: int, seed: int) -> Path:
    """Create (or reuse) the cached lakehouse for this size; returns its root."""
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    from salesflow.twin.lakehouse import Lakehouse, create_clean_table

    root = CACHE / f"w{weeks}-l{lines}-c{commit_hours}-s{seed}"
    if (root / "complete.json").is_file():
        return root
    shutil.rmtree(root, ignore_errors=True)
    started = time.perf_counter()
    table = create_clean_table(Lakehouse(root).catalog(), NAMESPACE, TABLE)
    arrow_schema = schema_to_pyarrow(table.schema())
    commit_us = commit_hours * 3600 * 1_000_000
    commits = 0
    for week_from_end in reversed(range(weeks)):  # oldest first, as a stream would have written them
        data = week_lines(week_from_end, lines, seed).cast(arrow_schema)
        times = data.column("order_time").cast("int64").to_numpy()
        bounds = _commit_bounds(times, commit_us)
        for begin, end in itertools.pairwise(bounds):
            table.append(data.slice(begin, end - begin))
            commits += 1
        print(
            f"  built week -{week_from_end} ({commits} commits, {time.perf_counter() - started:.0f} s)",
            flush=True,
        )
    (root / "complete.json").write_text(json.dumps({"weeks": weeks, "lines": lines, "commits": commits}))
    return root


def _commit_bounds(times: Any, commit_us: int) -> list[int]:
    import numpy as np

    first = int(times[0]) // commit_us
    edges = (np.arange(first + 1, int(times[-1]) // commit_us + 1)) * commit_us
    return [0, *np.searchsorted(times, edges).tolist(), len(times)]


# --- contenders (each runs in its own process) ------------------------------------------------------------


class _NoPandas:
    """An import hook for which pandas is not installed."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.split(".")[0] == "pandas":
            raise ModuleNotFoundError(f"No module named {name!r} (hidden: the Lambda zip has no pandas)")


def import_exporter() -> None:
    # The Lambda zip has no pandas, but this environment does, and pyarrow.dataset imports it when it can
    # (~0.7 s, ~50 MB). Hide it, so the exporter is measured with the libraries it ships with.
    sys.meta_path.insert(0, _NoPandas())
    importlib.import_module("exporter.export")  # first, as in Lambda: the package sets Arrow's allocator
    importlib.import_module("pyiceberg.catalog.sql")  # the local catalog's driver, loaded by load_catalog


def import_duckdb() -> None:
    import duckdb  # noqa: F401


def import_naive() -> None:
    import pandas
    import pyiceberg.catalog.sql  # noqa: F401

    del pandas


def exporter_settings(job: dict[str, Any]) -> Any:
    """The exporter's settings for the bench table (local SQL catalog, every report of reports.yaml)."""
    from exporter.settings import settings_from_env

    return settings_from_env(
        {
            "SALESFLOW_ENV": "dev", "CATALOG_TYPE": "sql", "CATALOG_URI": job["catalog_uri"],
            "CATALOG_WAREHOUSE": job["warehouse"], "TABLE_NAMESPACE": NAMESPACE, "TABLE_NAME": TABLE,
            "EXPORT_BUCKET": "bench-exports", "EXPORT_PREFIX": "weekly",
            "REPORTS": ",".join(REPORT_NAMES), "MAX_WORKERS": str(job["max_workers"]),
            "WEEK_TIME_ZONE": job["zone"],
        },
        require_topic=False,
    )  # fmt: skip


def contender_exporter(job: dict[str, Any]) -> dict[str, Any]:
    from exporter.export import Clients, run_export
    from exporter.weeks import IsoWeek

    result = run_export(
        exporter_settings(job), IsoWeek.parse(job["week"]), clients=Clients(LocalFolderS3(job["out"]), None)
    )
    return {"rows": result.rows, "files_scanned": result.manifest["table"]["data_files_scanned"]}


class LocalFolderS3:
    """The S3 calls of the exporter's staging and publish steps on a local folder: no HTTP enters the
    timing. Multipart parts are appended to the object's file as they come (the exporter uploads them
    in order); copies are hard links."""

    def __init__(self, root: str) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def put_object(self, Bucket: str, Key: str, Body: bytes, **_: Any) -> None:
        self._path(Key).write_bytes(Body)

    def get_object(self, Bucket: str, Key: str, Range: str | None = None) -> dict[str, Any]:
        path = self.root / Key
        if not path.is_file():  # as S3 answers (the exporter reads earlier weeks' manifests, if any)
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "NoSuchKey", "Message": Key}}, "GetObject")
        if Range is None:
            return {"Body": path.open("rb")}
        first, last = (int(bound) for bound in Range.removeprefix("bytes=").split("-"))
        with path.open("rb") as handle:
            handle.seek(first)
            return {"Body": io.BytesIO(handle.read(last + 1 - first))}

    def create_multipart_upload(self, Bucket: str, Key: str, **_: Any) -> dict[str, str]:
        self._path(Key + ".upload").write_bytes(b"")
        return {"UploadId": Key}

    def upload_part(
        self, Bucket: str, Key: str, UploadId: str, PartNumber: int, Body: bytes
    ) -> dict[str, str]:
        with self._path(Key + ".upload").open("ab") as handle:
            handle.write(Body)
        return {"ETag": str(PartNumber)}

    def complete_multipart_upload(self, Bucket: str, Key: str, **_: Any) -> None:
        self._path(Key + ".upload").replace(self._path(Key))

    def abort_multipart_upload(self, Bucket: str, Key: str, **_: Any) -> None:
        self._path(Key + ".upload").unlink(missing_ok=True)

    def copy(self, source: dict[str, str], _bucket: str, key: str, **_: Any) -> None:
        self._path(key).unlink(missing_ok=True)
        os.link(self._path(source["Key"]), self._path(key))

    def delete_object(self, Bucket: str, Key: str) -> None:
        self._path(Key).unlink(missing_ok=True)

    def delete_objects(self, Bucket: str, Delete: dict[str, Any]) -> None:
        for item in Delete["Objects"]:
            self._path(item["Key"]).unlink(missing_ok=True)


# The same five reports in SQL, written as the same bytes as the exporter's CSV (CRLF, text quoted,
# decimals at their scale, ratios rounded half-even): compare() checks that, below the header line
# (DuckDB quotes only forced columns' names there).
DUCKDB_REPORTS = """
CREATE TEMP TABLE lines AS
SELECT * FROM read_parquet({files})
WHERE order_time >= TIMESTAMPTZ '{start}' AND order_time < TIMESTAMPTZ '{end}'
QUALIFY row_number() OVER (PARTITION BY order_id, line_number ORDER BY order_time) = 1;
COPY (
  SELECT strftime(order_time AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS order_time,
         order_id, line_number, channel, customer_key, customer_city, customer_country, sku,
         product_name, category, quantity, unit_price, line_amount, currency, payment_method
  FROM lines ORDER BY lines.order_time, order_id, line_number
) TO '{out}/order_lines.csv' (HEADER, NEW_LINE '\r\n', FORCE_QUOTE (order_time, order_id, channel,
  customer_key, customer_city, customer_country, sku, product_name, category, currency, payment_method));
COPY (
  SELECT channel, category, sku, currency, max(product_name) AS product_name,
         count(DISTINCT order_id) AS orders, sum(quantity) AS units, sum(line_amount) AS revenue,
         count(DISTINCT customer_key) AS customers
  FROM lines GROUP BY ALL ORDER BY channel, category, sku, currency
) TO '{out}/product_demand.csv' (HEADER, NEW_LINE '\r\n',
  FORCE_QUOTE (channel, category, sku, currency, product_name));
COPY (
  WITH per_customer AS (
    SELECT channel, currency, customer_key, count(DISTINCT order_id) AS placed
    FROM lines GROUP BY ALL
  ), repeaters AS (
    SELECT channel, currency, count(*) FILTER (WHERE placed > 1) AS repeat_customers
    FROM per_customer GROUP BY ALL
  )
  SELECT l.channel, l.currency, count(DISTINCT order_id) AS orders,
         count(DISTINCT customer_key) AS customers,
         any_value(r.repeat_customers) AS repeat_customers, count(*) AS order_lines,
         sum(quantity) AS units, sum(line_amount) AS revenue,
         round_even(sum(line_amount) / count(DISTINCT order_id), 2)::DECIMAL(38, 2) AS avg_order_value,
         round_even(count(*) / count(DISTINCT order_id), 2)::DECIMAL(38, 2) AS avg_items_per_order
  FROM lines l JOIN repeaters r USING (channel, currency)
  GROUP BY l.channel, l.currency ORDER BY 1, 2
) TO '{out}/customer_behavior.csv' (HEADER, NEW_LINE '\r\n', FORCE_QUOTE (channel, currency));
COPY (
  SELECT count(DISTINCT order_id) AS orders, count(DISTINCT customer_key) AS customers,
         (SELECT count(*) FROM (SELECT customer_key FROM lines GROUP BY ALL
                                HAVING count(DISTINCT order_id) > 1)) AS repeat_customers,
         count(*) AS order_lines, sum(quantity) AS units
  FROM lines
) TO '{out}/week_totals.csv' (HEADER, NEW_LINE '\r\n');
COPY (
  SELECT strftime(timezone('{zone}', order_time), '%Y-%m-%d') AS order_date, channel, currency,
         count(DISTINCT order_id) AS orders, count(*) AS order_lines, sum(line_amount) AS revenue
  FROM lines GROUP BY ALL ORDER BY 1, 2, 3
) TO '{out}/daily_revenue.csv' (HEADER, NEW_LINE '\r\n', FORCE_QUOTE (order_date, channel, currency));
"""
REPORT_NAMES = ("order_lines", "product_demand", "customer_behavior", "week_totals", "daily_revenue")


def duckdb_reports(files: list[str], start: str, end: str, out: str, threads: int, zone: str = "UTC") -> None:
    """The reports of [start, end) over the Parquet ``files`` as CSV files in ``out`` (DuckDB); ``zone``
    is the week's time zone (daily_revenue's order_date is the local day of order_time)."""
    import duckdb

    connection = duckdb.connect()
    listed = "[" + ", ".join(f"'{path}'" for path in files) + "]"
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute(f"SET threads = {threads}")
    for statement in DUCKDB_REPORTS.format(files=listed, start=start, end=end, out=out, zone=zone).split(";"):
        if statement.strip():
            connection.execute(statement)


def contender_duckdb(job: dict[str, Any]) -> dict[str, Any]:
    # As many threads as the exporter reads with.
    duckdb_reports(job["files"], job["start"], job["end"], job["out"], job["max_workers"], job["zone"])
    rows = {}
    for name in REPORT_NAMES:
        with Path(job["out"], f"{name}.csv").open("rb") as handle:
            rows[name] = sum(1 for _ in handle) - 1
    return {"rows": rows}


def contender_naive(job: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    from salesflow.twin.lakehouse import Lakehouse

    table = Lakehouse(Path(job["root"])).catalog().load_table((NAMESPACE, TABLE))
    frame = table.scan().to_pandas()
    start, end = pd.Timestamp(job["start"]), pd.Timestamp(job["end"])
    week = frame[(frame["order_time"] >= start) & (frame["order_time"] < end)]
    week = week.sort_values("order_time", kind="stable").drop_duplicates(["order_id", "line_number"])
    out = Path(job["out"])
    lines = week.sort_values(["order_time", "order_id", "line_number"])
    lines.to_csv(out / "order_lines.csv", index=False)
    demand = week.groupby(["channel", "category", "sku", "currency"]).agg(
        product_name=("product_name", "max"), orders=("order_id", "nunique"), units=("quantity", "sum"),
        revenue=("line_amount", "sum"), customers=("customer_key", "nunique"),
    )  # fmt: skip
    demand.to_csv(out / "product_demand.csv")
    per_customer = week.groupby(["channel", "currency", "customer_key"])["order_id"].nunique()
    behavior = week.groupby(["channel", "currency"]).agg(
        orders=("order_id", "nunique"), customers=("customer_key", "nunique"),
        order_lines=("order_id", "size"), units=("quantity", "sum"), revenue=("line_amount", "sum"),
    )  # fmt: skip
    behavior["repeat_customers"] = (per_customer > 1).groupby(["channel", "currency"]).sum()
    behavior["avg_order_value"] = behavior["revenue"] / behavior["orders"]
    behavior["avg_items_per_order"] = behavior["order_lines"] / behavior["orders"]
    behavior.to_csv(out / "customer_behavior.csv")
    placed = week.groupby("customer_key")["order_id"].nunique()
    totals = pd.DataFrame(
        {
            "orders": [week["order_id"].nunique()], "customers": [week["customer_key"].nunique()],
            "repeat_customers": [int((placed > 1).sum())], "order_lines": [len(week)],
            "units": [week["quantity"].sum()],
        }
    )  # fmt: skip
    totals.to_csv(out / "week_totals.csv", index=False)
    daily = week.assign(order_date=week["order_time"].dt.tz_convert(job["zone"]).dt.date.astype(str))
    daily = daily.groupby(["order_date", "channel", "currency"]).agg(
        orders=("order_id", "nunique"), order_lines=("order_id", "size"), revenue=("line_amount", "sum"),
    )  # fmt: skip
    daily.to_csv(out / "daily_revenue.csv")
    return {
        "rows": {
            "order_lines": len(lines), "product_demand": len(demand), "customer_behavior": len(behavior),
            "week_totals": len(totals), "daily_revenue": len(daily),
        }
    }  # fmt: skip


CONTENDERS = {"exporter": contender_exporter, "duckdb": contender_duckdb, "naive": contender_naive}
IMPORTS = {"exporter": import_exporter, "duckdb": import_duckdb, "naive": import_naive}


def child(name: str, job_file: str) -> None:
    """Run one contender and print its measurements as JSON (peak RSS includes the imports)."""
    job = json.loads(Path(job_file).read_text())
    started = time.perf_counter()
    IMPORTS[name]()
    imported = time.perf_counter()
    cpu_before = _cpu_seconds()
    result = CONTENDERS[name](job)
    result["work_seconds"] = time.perf_counter() - imported
    result["cpu_seconds"] = _cpu_seconds() - cpu_before
    result["import_seconds"] = imported - started
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM). Not getrusage's ru_maxrss: Linux carries a parent's peak
    over fork and exec into the child's, so a bench that built a 4M-line table in the parent reported
    that table's memory for every contender."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    """User and system CPU time of this process, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def body_digests(folder: Path) -> dict[str, str]:
    """SHA-256 of each report CSV below its header line (outside the timed work)."""
    digests = {}
    for path in sorted(folder.rglob("*.csv")):
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            handle.readline()
            while chunk := handle.read(1 << 22):
                digest.update(chunk)
        digests[path.stem] = digest.hexdigest()
    return digests


def run_contender(name: str, job: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as scratch:
        job = {**job, "out": scratch}
        job_file = Path(scratch) / "job.json"
        job_file.write_text(json.dumps(job))
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, __file__, "--child", name, str(job_file)],
            capture_output=True, text=True, check=False,
            env={**os.environ, "POWERTOOLS_LOG_LEVEL": "WARNING"},
        )  # fmt: skip
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["digests"] = body_digests(Path(scratch))
    result["process_seconds"] = elapsed
    return result


# --- the comparison ---------------------------------------------------------------------------------------


def week_job(root: Path, max_workers: int) -> dict[str, Any]:
    from pyiceberg.expressions import And, GreaterThanOrEqual, LessThan

    from exporter.weeks import IsoWeek
    from salesflow.twin.lakehouse import Lakehouse

    week = IsoWeek.containing((LAST_MONDAY - timedelta(days=1)).date())
    start, end = week.bounds(ZoneInfo(WEEK_ZONE))
    lakehouse = Lakehouse(root)
    table = lakehouse.catalog().load_table((NAMESPACE, TABLE))
    row_filter = And(
        GreaterThanOrEqual("order_time", start.isoformat()), LessThan("order_time", end.isoformat())
    )
    files = sorted(
        {task.file.file_path.removeprefix("file://") for task in table.scan(row_filter).plan_files()}
    )
    all_files = len(list(table.scan().plan_files()))
    return {
        "root": str(root), "catalog_uri": lakehouse.catalog_uri, "warehouse": lakehouse.warehouse,
        "week": str(week), "start": start.isoformat(), "end": end.isoformat(), "files": files,
        "table_files": all_files, "max_workers": max_workers, "zone": WEEK_ZONE,
    }  # fmt: skip


def warm(files: list[str]) -> None:
    """Read the week's files once so no contender pays (or is spared) the first read from disk."""
    for path in files:
        with Path(path).open("rb") as handle:
            while handle.read(1 << 22):
                pass


def run_rounds(
    jobs: dict[str, dict[str, Any]], contenders: dict[str, list[str]], repeat: int
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Every contender on every table, round after round, in alternating order: a machine that slows
    down or speeds up (others' jobs) hits every contender and both histories alike."""
    plan = [(label, name) for label, names in contenders.items() for name in names]
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {label: {} for label in jobs}
    for round_number in range(repeat):
        for label, name in plan if round_number % 2 == 0 else reversed(plan):
            if name == "naive" and round_number > 0:
                continue  # once is enough for a contender 10x slower
            runs[label].setdefault(name, []).append(run_contender(name, jobs[label]))
    return runs


def summarize(
    label: str, job: dict[str, Any], runs: dict[str, list[dict[str, Any]]], args: argparse.Namespace
) -> dict[str, dict[str, Any]]:
    """Print each contender's median run and the exporter's ratios to the others; check the outputs."""
    print(f"\n{label}: {job['table_files']} data files, export {job['week']} ({len(job['files'])} files)")
    if "naive" not in runs and not getattr(args, "in_sweep", False):
        print("  naive     skipped (a whole-table to_pandas() of this history; --naive-history to force)")
    results = {}
    for name, done in runs.items():
        median = sorted(done, key=lambda run: run["work_seconds"])[len(done) // 2]
        result = {**median, "peak_rss_mb": max(run["peak_rss_mb"] for run in done), "runs": len(done)}
        results[name] = result
        print(
            f"  {name:9s} {result['work_seconds']:6.2f} s work (median of {len(done)}, "
            f"{result['cpu_seconds']:5.2f} s CPU) {result['import_seconds']:5.2f} s imports "
            f"{result['peak_rss_mb']:6.0f} MB peak RSS"
            f"  rows {result['rows']}",
            flush=True,
        )
    exporter = results["exporter"]
    for run in runs["duckdb"]:  # the same bytes, or the comparison is void
        if run["digests"] != exporter["digests"]:
            raise SystemExit(
                f"duckdb wrote other CSV rows than the exporter: {run['digests']} vs {exporter['digests']}"
            )
    print(
        f"  duckdb wrote the exporter's CSV rows byte for byte "
        f"(DuckDB threads = exporter MAX_WORKERS = {args.max_workers})"
    )
    for name in ("duckdb", "naive"):
        if name in results:
            if results[name]["rows"] != exporter["rows"]:
                raise SystemExit(
                    f"{name} produced other row counts: {results[name]['rows']} vs {exporter['rows']}"
                )
            ratio = exporter["work_seconds"] / results[name]["work_seconds"]
            cpu = exporter["cpu_seconds"] / results[name]["cpu_seconds"]
            memory = exporter["peak_rss_mb"] / results[name]["peak_rss_mb"]
            print(f"  exporter / {name:6s} time {ratio:5.2f}x  CPU {cpu:5.2f}x  peak RSS {memory:5.2f}x")
    if len(runs.get("duckdb", [])) > 1 and len(runs["duckdb"]) == len(runs["exporter"]):
        # Each round's own ratio (both ran back to back): how far the machine's noise moves the median.
        rounds = zip(runs["exporter"], runs["duckdb"], strict=True)
        paired = " ".join(f"{ours['work_seconds'] / peer['work_seconds']:.2f}" for ours, peer in rounds)
        print(f"  exporter / duckdb time, round by round: {paired}")
    return results


def sweep(sizes: list[int], args: argparse.Namespace) -> None:
    """Exporter and DuckDB on the latest week of tables of each size (``--sweep-weeks`` weeks each), in
    alternating rounds; prints time and peak RSS per size and checks the memory and time targets."""
    tables = {size: build_table(args.sweep_weeks, size, args.commit_hours, args.seed) for size in sizes}
    jobs = {f"{size:,} lines": week_job(root, args.max_workers) for size, root in tables.items()}
    for job in jobs.values():
        warm(job["files"])
    print(f"\nsize sweep: {args.sweep_repeat} rounds of exporter and DuckDB per size (alternating order)")
    runs = run_rounds(jobs, {label: ["exporter", "duckdb"] for label in jobs}, args.sweep_repeat)
    rows = []
    args.in_sweep = True
    for label, job in jobs.items():
        results = summarize(label, job, runs[label], args)
        rows.append((label, results["exporter"], results["duckdb"]))
    # On a shared machine the wall-time ratio moves with the neighbours' load; the CPU-time ratio much less.
    print(
        "\n| lines in the week | exporter time (CPU) | exporter peak RSS | DuckDB time (CPU) "
        "| DuckDB peak RSS | time ratio | CPU ratio | RSS ratio |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label, exporter, duckdb in rows:
        print(
            f"| {label.split()[0]} | {exporter['work_seconds']:.2f} s ({exporter['cpu_seconds']:.2f} s) "
            f"| {exporter['peak_rss_mb']:,.0f} MB "
            f"| {duckdb['work_seconds']:.2f} s ({duckdb['cpu_seconds']:.2f} s) "
            f"| {duckdb['peak_rss_mb']:,.0f} MB "
            f"| {exporter['work_seconds'] / duckdb['work_seconds']:.2f} "
            f"| {exporter['cpu_seconds'] / duckdb['cpu_seconds']:.2f} "
            f"| {exporter['peak_rss_mb'] / duckdb['peak_rss_mb']:.2f} |"
        )
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"(load average at the end: {load} on {os.cpu_count()} CPUs)")
    smallest, largest = rows[0][1]["peak_rss_mb"], rows[-1][1]["peak_rss_mb"]
    checks = (
        [
            (
                f"exporter peak RSS at {rows[-1][0]} <= 1.25x its peak at {rows[0][0]}",
                largest / smallest,
                1.25,
            ),
            (f"exporter peak RSS at {rows[-1][0]} <= 700 MB", largest / 700, 1.0),
        ]
        + [
            (
                f"exporter <= 0.8x DuckDB time at {label}",
                exporter["work_seconds"] / duckdb["work_seconds"],
                0.8,
            )
            for label, exporter, duckdb in rows
        ]
        + [
            (
                f"exporter <= 0.8x DuckDB CPU time at {label}",
                exporter["cpu_seconds"] / duckdb["cpu_seconds"],
                0.8,
            )
            for label, exporter, duckdb in rows
        ]
    )
    print("\nsweep targets:")
    for text, value, limit in checks:
        print(f"  {'met   ' if value <= limit else 'MISSED'} {text}: {value:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weeks", type=int, default=8, help="weeks of history (default 8)")
    parser.add_argument(
        "--lines",
        default="1000000",
        help="lines per week (default 1M); a list (1000000,4000000,16000000) adds a size sweep",
    )
    parser.add_argument("--history-factor", type=int, default=4, help="second run: this many times the weeks")
    parser.add_argument(
        "--commit-hours", type=int, default=6, help="hours of order time per commit (default 6)"
    )
    parser.add_argument("--max-workers", type=int, default=4, help="exporter read threads (dev: 4)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs per contender, median reported (default 5)"
    )
    parser.add_argument("--sweep-weeks", type=int, default=2, help="weeks of history of a sweep table")
    parser.add_argument("--sweep-repeat", type=int, default=3, help="runs per contender and sweep size")
    parser.add_argument("--sweep-only", action="store_true", help="skip the history and naive comparison")
    parser.add_argument(
        "--naive-history", action="store_true", help="also run the naive export on the big history"
    )
    parser.add_argument("--build-only", action="store_true", help="build (or reuse) the tables and stop")
    parser.add_argument("--child", nargs=2, metavar=("CONTENDER", "JOB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    sizes = [int(size) for size in args.lines.split(",")]
    args.lines = sizes[0]
    print(f"building/reusing tables under {CACHE.relative_to(REPO_ROOT)} ({os.cpu_count()} CPUs)")
    if args.build_only:
        for size in sizes[1:]:
            build_table(args.sweep_weeks, size, args.commit_hours, args.seed)
    if not args.sweep_only:
        compare_histories(args)
    if len(sizes) > 1 and not args.build_only:
        sweep(sizes, args)


def compare_histories(args: argparse.Namespace) -> None:
    """The first size with ``--weeks`` and ``--history-factor`` times the weeks, DuckDB and naive pandas."""
    base = build_table(args.weeks, args.lines, args.commit_hours, args.seed)
    big = build_table(args.weeks * args.history_factor, args.lines, args.commit_hours, args.seed)
    if args.build_only:
        return
    labels = {
        "base": f"{args.weeks} weeks x {args.lines:,} lines",
        "big": f"{args.weeks * args.history_factor} weeks x {args.lines:,} lines",
    }
    jobs = {"base": week_job(base, args.max_workers), "big": week_job(big, args.max_workers)}
    for job in jobs.values():
        warm(job["files"])
    contenders = {
        "base": ["exporter", "duckdb", "naive"],
        "big": ["exporter", "duckdb"] + (["naive"] if args.naive_history else []),
    }
    print(f"{args.repeat} rounds, both histories and all contenders in each (alternating order)", flush=True)
    runs = run_rounds(jobs, contenders, args.repeat)
    first, second = (summarize(labels[key], jobs[key], runs[key], args) for key in ("base", "big"))
    exporter, duckdb, naive = first["exporter"], first["duckdb"], first["naive"]
    growth = second["exporter"]["work_seconds"] / exporter["work_seconds"]
    checks = [
        ("exporter <= 0.8x DuckDB time", exporter["work_seconds"] / duckdb["work_seconds"], 0.8),
        ("exporter <= 0.25x naive time", exporter["work_seconds"] / naive["work_seconds"], 0.25),
        (f"{args.history_factor}x history <= 1.2x the time", growth, 1.2),
        ("exporter peak RSS <= 600 MB", exporter["peak_rss_mb"] / 600, 1.0),
    ]
    print("\ntargets (median work time, imports excluded; a shared machine is noisy):")
    for text, value, limit in checks:
        shown = f"{value * 600:.0f} MB" if "RSS" in text else f"{value:.2f}x"
        print(f"  {'met   ' if value <= limit else 'MISSED'} {text}: {shown}")


if __name__ == "__main__":
    main()
