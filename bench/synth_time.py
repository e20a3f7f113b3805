"""Synth wall time of every environment (target <= 40 s), against its unavoidable peer, plus checkov counts.

Each run is a fresh process, as in CI: ``python terraform/main.py --env all``. The peer, measured in
the same run, is a process that only imports cdktf's prebuilt AWS bindings (most of synth's cost), so
the ratio shows what the app itself adds. Then ``tools/checkov/scan.py`` runs once on the output.

    .venv/bin/python bench/synth_time.py [--runs 3]

Uses ``SALESFLOW_EXPORTER_MANIFEST`` if set, else the test fixture manifest. Exit status 1 when the
median synth time misses the target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 40.0
FIXTURE_MANIFEST = REPO_ROOT / "tests" / "infra" / "fixtures" / "artifact-arm64.json"


def _timed(command: list[str], environment: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO_ROOT, env=environment, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    environment = {
        **os.environ,
        "SALESFLOW_EXPORTER_MANIFEST": os.environ.get("SALESFLOW_EXPORTER_MANIFEST", str(FIXTURE_MANIFEST)),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    python = sys.executable
    with tempfile.TemporaryDirectory() as scratch:
        outdir = Path(scratch) / "cdktf.out"
        synth = [python, "terraform/main.py", "--env", "all", "--outdir", str(outdir)]
        peer = [python, "-c", "import cdktf, cdktf_cdktf_provider_aws"]
        synth_times, peer_times = [], []
        for _ in range(arguments.runs):  # interleaved, so both see the same machine load
            peer_times.append(_timed(peer, environment))
            synth_times.append(_timed(synth, environment))
        stacks = sorted(path.parent.name for path in outdir.glob("stacks/*/cdk.tf.json"))
        started = time.perf_counter()
        scan = subprocess.run(
            [python, "tools/checkov/scan.py", str(outdir / "stacks")],
            cwd=REPO_ROOT,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        scan_seconds = time.perf_counter() - started
    synth_median, peer_median = statistics.median(synth_times), statistics.median(peer_times)
    print(f"stacks: {len(stacks)} ({', '.join(stacks)})")
    runs = arguments.runs
    print(f"synth, all environments: median {synth_median:.1f} s over {runs} runs {_fmt(synth_times)}")
    print(f"peer (import AWS bindings only): median {peer_median:.1f} s {_fmt(peer_times)}")
    print(f"ratio synth / peer: {synth_median / peer_median:.2f}")
    summary = scan.stdout.splitlines()[0] if scan.stdout else scan.stderr
    print(f"checkov scan ({scan_seconds:.1f} s): {summary}")
    verdict = "meets" if synth_median <= TARGET_SECONDS else "MISSES"
    print(f"target <= {TARGET_SECONDS:.0f} s: {verdict}")
    return 0 if synth_median <= TARGET_SECONDS and scan.returncode == 0 else 1


def _fmt(values: list[float]) -> str:
    return "[" + ", ".join(f"{value:.1f}" for value in values) + "]"


if __name__ == "__main__":
    sys.exit(main())
