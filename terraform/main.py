"""Synthesize salesflow's Terraform JSON: ``python terraform/main.py [--env dev|prod|all] [--outdir DIR]
[--bootstrap-only]``.

No Node CLI is involved (cdktf's jsii runtime needs ``node`` on PATH). Output:
``<outdir>/stacks/<env>-<bootstrap|confluent|flink|aws>/cdk.tf.json``, plain Terraform JSON for
``terraform`` or OpenTofu (see terraform/README.md). ``--bootstrap-only`` synthesizes the bootstrap
stacks alone (``make bootstrap``: no exporter artifact needed).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

STARTED = time.perf_counter()

# Run as a script: make the repository root importable (salesflow, terraform).
REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
# The jsii runtime prints a banner for Node releases past their end of life; the output is unaffected.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


def main(argv: list[str] | None = None) -> int:
    from salesflow.config import ConfigError, environment_names, load_environment
    from terraform.artifact import ArtifactError, load_exporter_artifact, load_monitor_artifact

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="all", help="dev, prod or all (default: all)")
    parser.add_argument("--outdir", type=Path, help="output directory (default: terraform/cdktf.out)")
    parser.add_argument("--bootstrap-only", action="store_true", help="only the <env>-bootstrap stacks")
    arguments = parser.parse_args(argv)
    known = environment_names()
    if arguments.env != "all" and arguments.env not in known:
        print(
            f"synth failed: unknown environment {arguments.env!r}; choose {', '.join([*known, 'all'])}",
            file=sys.stderr,
        )
        return 1
    names = known if arguments.env == "all" else [arguments.env]
    try:
        # Fail fast, before cdktf's bindings load: every input must be there.
        for name in names:
            environment = load_environment(name)
            if not arguments.bootstrap_only:
                load_exporter_artifact(environment.exporter.lambda_.architecture)
                load_monitor_artifact(environment.monitor.lambda_.architecture)
        from terraform.app import DEFAULT_OUTDIR, synth

        files = synth(names, arguments.outdir or DEFAULT_OUTDIR, bootstrap_only=arguments.bootstrap_only)
    except (ArtifactError, ConfigError, ValueError) as exc:
        print(f"synth failed: {exc}", file=sys.stderr)
        return 1
    for path in files:
        print(f"  {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    print(f"synthesized {len(files)} stacks in {time.perf_counter() - STARTED:.1f} s (imports included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
