"""Wall time of the SQL test suite and of `salesflow sql run` on 10k events, against peers in this run.

    .venv/bin/python bench/sql_suite.py [--events 10000] [--target-seconds 60]

Measured (each in a fresh process, so JVM start-up counts like it does in `make test`):

* suite: `pytest tests/sql/flink` in .venv-flink (the local Flink tests, one JVM for the session), and the
  SQL tests of the main environment (`tests/test_sql_*.py`, which include one hand-over to .venv-flink);
* its peer: the floor of any Flink test run, a process that starts PyFlink and runs one trivial job;
* `salesflow sql run --env dev` on N generated events from the main environment (hand-over included);
* its peer: DuckDB computing the same lines (first emission per order, one row per item, SHA-256 key)
  from the same file in-process.

Prints the figures, the ratios, and whether the suite meets the target (exit 1 if not). Timings on a
shared 2-core machine are noisy: compare the ratios, and rerun before drawing conclusions.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FLINK_PYTHON = REPO / ".venv-flink" / "bin" / "python"
MAIN_PYTHON = REPO / ".venv" / "bin" / "python"

FLOOR_JOB = """
from pyflink.table import EnvironmentSettings, TableEnvironment
t = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
t.get_config().set("parallelism.default", "1")
t.execute_sql("CREATE TABLE s (a INT) WITH ('connector' = 'blackhole')")
t.execute_sql("INSERT INTO s VALUES (1)").wait()
"""

DUCKDB_LINES = """
WITH emissions AS (
    SELECT timestamp, value AS v FROM read_ndjson_auto(?)
), firsts AS (
    SELECT v FROM emissions
    QUALIFY ROW_NUMBER() OVER (PARTITION BY v.order_id ORDER BY timestamp) = 1
)
SELECT COUNT(*), COUNT(DISTINCT order_id) FROM (
    SELECT v.order_id AS order_id,
           generate_subscripts(v.items, 1) AS line_number,
           UNNEST(v.items) AS item,
           sha256(? || v.customer.customer_id) AS customer_key
    FROM firsts
)
"""


def timed(command: list[str], **kwargs: object) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO, **kwargs)
    elapsed = time.perf_counter() - started
    if completed.returncode:
        sys.exit(f"failed: {' '.join(command)}\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
    return elapsed, completed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--target-seconds", type=float, default=60.0)
    args = parser.parse_args()
    for python in (FLINK_PYTHON, MAIN_PYTHON):
        if not python.is_file():
            sys.exit(f"{python} is missing: run `make setup`")

    print(f"machine: {os.cpu_count()} cores; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    floor, _ = timed([str(FLINK_PYTHON), "-c", FLOOR_JOB])
    suite, result = timed(
        [str(FLINK_PYTHON), "-m", "pytest", "tests/sql/flink", "-q", "-p", "no:cacheprovider"]
    )
    summary = result.stdout.strip().splitlines()[-1]
    main_sql, main_result = timed(
        [str(MAIN_PYTHON), "-m", "pytest", *sorted(str(p) for p in REPO.glob("tests/test_sql_*.py")), "-q"]
    )
    main_summary = main_result.stdout.strip().splitlines()[-1]

    with tempfile.TemporaryDirectory() as workdir:
        events, lines = Path(workdir) / "events.jsonl", Path(workdir) / "lines.jsonl"
        timed(
            [str(REPO / ".venv/bin/salesflow"), "generate", "--events", str(args.events), "--seed", "7",
             "--duplicate-share", "0.15", "--start", "2026-11-02", "--end", "2026-11-23", "-o", str(events)]
        )  # fmt: skip
        run, run_result = timed(
            [str(REPO / ".venv/bin/salesflow"), "sql", "run", "--env", "dev", "--input", str(events),
             "--output", str(lines)]
        )  # fmt: skip
        flink_lines = sum(1 for _ in lines.open(encoding="utf-8"))
        import duckdb

        started = time.perf_counter()
        duck_lines, duck_orders = duckdb.connect().execute(DUCKDB_LINES, [str(events), "pepper"]).fetchone()
        duck = time.perf_counter() - started

    print(f"\nFlink floor (JVM + one trivial job)        {floor:6.1f} s")
    print(f"tests/sql/flink ({summary})".ljust(43) + f"{suite:6.1f} s   = {suite / floor:.1f}x the floor")
    print(f"main-env SQL tests ({main_summary})".ljust(43) + f"{main_sql:6.1f} s")
    print("SQL suite total".ljust(43) + f"{suite + main_sql:6.1f} s   target <= {args.target_seconds:.0f} s")
    print(f"\nsalesflow sql run, {args.events} events".ljust(43) + f"{run:6.1f} s   ({flink_lines} lines)")
    print(f"  {run_result.stderr.strip().splitlines()[-1]}")
    print(
        "DuckDB, same lines in-process".ljust(43)
        + f"{duck:6.2f} s   ({duck_lines} lines, {duck_orders} orders)"
    )
    print(
        "ratio sql run / DuckDB".ljust(43)
        + f"{run / duck:6.0f}x   (sql run / Flink floor: {run / floor:.1f}x)"
    )
    if duck_lines != flink_lines:
        sys.exit(f"line counts differ: Flink {flink_lines}, DuckDB {duck_lines}")
    if suite > args.target_seconds:
        sys.exit(f"tests/sql/flink took {suite:.1f} s, over the {args.target_seconds:.0f} s target")


if __name__ == "__main__":
    main()
