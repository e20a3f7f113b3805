"""Where the exporter's time goes: wall, CPU, system CPU and peak RSS of each phase on the bench week.

    .venv/bin/python bench/exporter_phases.py            # the 8 weeks x 1M lines table of make bench-exporter
    .venv/bin/python bench/exporter_phases.py --repeat 5 --weeks 2 --lines 100000

Runs the steps of ``run_export`` one after the other (the export overlaps the aggregates with the
listing's CSV; here each phase is timed alone) on the table ``bench/exporter.py`` built, and prints
the median of ``--repeat`` runs, each in a fresh process (as the bench's contenders run). That is the
whole week at once, as the exporter read it before it went slice by slice.

    .venv/bin/python bench/exporter_phases.py --sliced --weeks 2 --lines 4000000

``--sliced`` runs ``run_export`` itself (slices, pairs, spill) once and prints, per exporter function,
its calls, wall time and the CPU time of the thread that ran it (reads and CSV rendering run on pools:
their functions are timed on those threads), and the process's total CPU time and peak RSS.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # the exporter package, not bench/exporter.py


def _bench_module() -> Any:
    spec = importlib.util.spec_from_file_location("bench_exporter", Path(__file__).with_name("exporter.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class PhaseTimer:
    """Wall, CPU and system time of consecutive phases, and the peak RSS seen during each (sampled)."""

    def __init__(self) -> None:
        self.phases: dict[str, dict[str, float]] = {}
        self._peak = 0.0
        self._mark = self._now()
        threading.Thread(target=self._sample_rss, daemon=True).start()

    @staticmethod
    def _now() -> tuple[float, float, float]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return time.perf_counter(), usage.ru_utime + usage.ru_stime, usage.ru_stime

    def _sample_rss(self) -> None:
        while True:
            resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
            self._peak = max(self._peak, resident_pages * resource.getpagesize() / 2**20)
            time.sleep(0.002)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self._mark, self._peak = self._now(), 0.0
        yield
        now = self._now()
        wall, cpu, system = (after - before for after, before in zip(now, self._mark, strict=True))
        self.phases[name] = {"wall": wall, "cpu": cpu, "sys": system, "peak_mb": self._peak}


def measure(job: dict[str, Any]) -> dict[str, dict[str, float]]:
    """One run of the export's phases on the job's table (in this process)."""
    bench = _bench_module()
    bench.import_exporter()
    from exporter.catalog import load_table, open_catalog
    from exporter.csv_files import write_csv
    from exporter.dedup import drop_duplicate_lines
    from exporter.export import DICTIONARY_COLUMNS, _scan_columns, bound_worker_threads
    from exporter.read import read_week
    from exporter.reports import (
        ColumnCodes,
        compute_aggregate,
        compute_listing,
        load_reports,
        select_reports,
        validate_against_schema,
    )
    from exporter.weeks import IsoWeek

    settings = bench.exporter_settings(job)
    timer = PhaseTimer()
    bound_worker_threads(settings.max_workers)

    specs = select_reports(load_reports(), settings.reports)
    with timer.phase("catalog"):
        table = load_table(open_catalog(settings), settings)
        for spec in specs:
            validate_against_schema(spec, table.schema())
    start, end = IsoWeek.parse(job["week"]).bounds(settings.week_time_zone)
    columns = _scan_columns(specs, [field.name for field in table.schema().fields])
    dictionary = [name for name in DICTIONARY_COLUMNS if name in columns]
    with timer.phase("read"):
        rows = read_week(table, start, end, columns, settings.max_workers, dictionary).rows
    with timer.phase("dedup"):
        lines, _ = drop_duplicate_lines(rows, ColumnCodes(rows))
    codes = ColumnCodes(lines)
    with timer.phase("orders"):
        codes.count_distinct("order_id")
    with tempfile.TemporaryDirectory(prefix="bench-phases-") as scratch:
        for spec in specs:
            path = Path(scratch, f"{spec.name}.csv")
            if spec.is_listing:
                with timer.phase(f"{spec.name}: sort"):
                    projected, order = compute_listing(spec, lines)
                with timer.phase(f"{spec.name}: csv"):
                    write_csv(projected, path, order)
            else:
                with timer.phase(spec.name):
                    result = compute_aggregate(spec, lines, codes)
                with timer.phase(f"{spec.name}: csv"):
                    write_csv(result, path)
    return timer.phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--commit-hours", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-workers", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3, help="runs, each in a fresh process (median)")
    parser.add_argument("--child", metavar="JOB", help=argparse.SUPPRESS)
    parser.add_argument("--sliced", action="store_true", help="time the functions of run_export itself")
    args = parser.parse_args()
    if args.child:
        job = json.loads(Path(args.child).read_text())
        print(json.dumps(measure_sliced(job) if job.get("sliced") else measure(job)))
        return
    bench = _bench_module()
    root = bench.build_table(args.weeks, args.lines, args.commit_hours, args.seed)
    job = bench.week_job(root, args.max_workers)
    bench.warm(job["files"])
    if args.sliced:
        print_sliced(job)
        return
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-phases-") as scratch:
        job_file = Path(scratch, "job.json")
        job_file.write_text(json.dumps(job))
        for _ in range(args.repeat):
            done = subprocess.run(
                [sys.executable, __file__, "--child", str(job_file)],
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"{args.weeks} weeks x {args.lines:,} lines, {job['week']}: median of {len(runs)} runs (s, MB)")
    print(f"  {'phase':28s} {'wall':>6s} {'cpu':>6s} {'sys':>6s} {'peak':>6s}")
    for phase in runs[0]:
        values = {key: statistics.median(run[phase][key] for run in runs) for key in ("wall", "cpu", "sys")}
        peak = max(run[phase]["peak_mb"] for run in runs)
        print(f"  {phase:28s} {values['wall']:6.3f} {values['cpu']:6.3f} {values['sys']:6.3f} {peak:6.0f}")
    total = {
        key: sum(statistics.median(run[p][key] for run in runs) for p in runs[0]) for key in ("wall", "cpu")
    }
    print(f"  {'sum':28s} {total['wall']:6.3f} {total['cpu']:6.3f}")


# --- the sliced export, function by function -------------------------------------------------------------

TIMED = {  # module: functions (Class.method) timed in run_export, on whichever thread runs them
    "exporter.read": ["_contiguous", "_read"],
    "exporter.export": ["read_slices", "drop_duplicate_lines", "compute_listing", "_release_memory"],
    "exporter.csv_files": ["CsvWriter.write", "_slice_bytes"],
    "exporter.s3_stream": ["S3Stream.write", "S3Stream._upload_part"],
    "exporter.aggregates": [
        "Aggregator.add",
        "Aggregator._add_pairs",
        "Aggregator._group_ids",
        "Aggregator.result",
    ],
    "exporter.pairs": ["PairStore.end_slice", "PairStore._count", "Piece.of", "Piece.spill_to", "Piece.load"],
}


def _timed(stats: dict[str, list[float]], label: str, function: Any) -> Any:
    def timed(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            result = function(*args, **kwargs)
            if inspect.isgenerator(result):  # time each step of a generator where it is consumed
                return _timed_steps(stats, label, result)
            return result
        finally:
            entry = stats.setdefault(label, [0, 0.0, 0.0])
            entry[0] += 1
            entry[1] += time.perf_counter() - wall
            entry[2] += time.thread_time() - cpu

    return timed


def _timed_steps(stats: dict[str, list[float]], label: str, steps: Iterator[Any]) -> Iterator[Any]:
    while True:
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            step = next(steps)
        except StopIteration:
            return
        finally:
            entry = stats[label]
            entry[1] += time.perf_counter() - wall
            entry[2] += time.thread_time() - cpu
        yield step


def measure_sliced(job: dict[str, Any]) -> dict[str, Any]:
    """One ``run_export`` on the job's table with the TIMED functions wrapped (in this process)."""
    bench = _bench_module()
    bench.import_exporter()
    stats: dict[str, list[float]] = {}
    for module_name, names in TIMED.items():
        module = importlib.import_module(module_name)
        for name in names:
            owner_name, _, attribute = name.rpartition(".")
            owner = getattr(module, owner_name) if owner_name else module
            setattr(owner, attribute, _timed(stats, name, getattr(owner, attribute)))
    from exporter.export import Clients, run_export
    from exporter.weeks import IsoWeek

    with tempfile.TemporaryDirectory(prefix="bench-phases-") as scratch:
        clients = Clients(bench.LocalFolderS3(scratch), None)
        wall, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
        run_export(bench.exporter_settings(job), IsoWeek.parse(job["week"]), clients=clients)
        after = resource.getrusage(resource.RUSAGE_SELF)
    total_cpu = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
    return {
        "functions": stats,
        "wall": time.perf_counter() - wall,
        "cpu": total_cpu,
        "peak_rss_mb": bench.peak_rss_mb(),
    }


def print_sliced(job: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-phases-") as scratch:
        job_file = Path(scratch, "job.json")
        job_file.write_text(json.dumps({**job, "sliced": True}))
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(job_file)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "POWERTOOLS_LOG_LEVEL": "WARNING"},
        )
    run = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"{job['week']}: run_export {run['wall']:.2f} s wall, {run['cpu']:.2f} s CPU, "
        f"{run['peak_rss_mb']:.0f} MB peak RSS (load average {os.getloadavg()[0]:.1f})"
    )
    print(f"  {'function':32s} {'calls':>6s} {'wall':>8s} {'thread CPU':>11s}")
    for name, (calls, wall, cpu) in sorted(run["functions"].items(), key=lambda item: -item[1][2]):
        print(f"  {name:32s} {calls:6d} {wall:8.2f} {cpu:11.2f}")


if __name__ == "__main__":
    main()
