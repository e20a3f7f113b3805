"""The estimate of another git ref, for the delta a change makes: the ref is checked out in a temporary git
worktree and synthesized there the same way (``terraform/main.py`` in a subprocess), then estimated with
the current prices. The worktree is removed afterwards, whatever happens.

The base's usage model is its own ``environments/<env>.yaml``; when that file does not validate with this
version (for example, it predates the ``usage:`` block) the current environment stands in for it, so the
delta shows what the change does to the infrastructure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from salesflow.config import REPO_ROOT, ConfigError, Environment, load_environment
from salesflow.ops.cost.estimate import Estimate, estimate
from salesflow.ops.cost.prices import Prices

Synthesize = Callable[[Path, str, Path, "str | None"], dict[str, dict[str, Any]]]
MANIFEST_VARIABLE = "SALESFLOW_EXPORTER_MANIFEST"  # terraform/artifact.py reads it


class BaselineError(RuntimeError):
    """The base ref cannot be checked out or synthesized; the message says why and what to do."""


@dataclass(frozen=True)
class Baseline:
    ref: str
    commit: str
    estimate: Estimate
    warnings: tuple[str, ...] = field(default=())


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BaselineError(f"git {' '.join(args)} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout.strip()


def read_stack(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BaselineError(
            f"{path}: cannot read the synthesized stack ({exc}); run `make synth` again"
        ) from None


def load_stacks(outdir: Path) -> dict[str, dict[str, Any]]:
    """Every stack under a synthesis output directory (``stacks/<name>/cdk.tf.json``)."""
    return {path.parent.name: read_stack(path) for path in sorted(outdir.glob("stacks/*/cdk.tf.json"))}


def synthesize(checkout: Path, env: str, outdir: Path, manifest: str | None) -> dict[str, dict[str, Any]]:
    """Synthesize one environment of ``checkout`` with its own code (``terraform/main.py``)."""
    variables = dict(os.environ)
    if manifest:
        variables[MANIFEST_VARIABLE] = manifest
    done = subprocess.run(
        [sys.executable, "terraform/main.py", "--env", env, "--outdir", str(outdir)],
        cwd=checkout,
        env=variables,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BaselineError(f"synthesis of {checkout} failed:\n{done.stderr.strip() or done.stdout.strip()}")
    return load_stacks(outdir)


def _manifest_for(environment: Environment) -> str | None:
    """The exporter manifest the base synthesis uses: the one set for this run, or this tree's build."""
    if os.environ.get(MANIFEST_VARIABLE):
        return os.environ[MANIFEST_VARIABLE]
    built = REPO_ROOT / "build" / "exporter" / f"artifact-{environment.exporter.lambda_.architecture}.json"
    return str(built) if built.is_file() else None


def baseline(
    ref: str,
    environment: Environment,
    prices: Prices,
    repo: Path = REPO_ROOT,
    synth: Synthesize | None = None,
) -> Baseline:
    """The estimate of ``environment`` as ``ref`` declares it (``synth`` defaults to ``synthesize``)."""
    synth = synth or synthesize
    resolved = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    commit = resolved.stdout.strip()
    if resolved.returncode != 0 or not commit:
        raise BaselineError(
            f"unknown git ref {ref!r}; fetch it first (in CI: actions/checkout with fetch-depth: 0)"
        )
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="salesflow-cost-") as temporary:
        checkout = Path(temporary) / "checkout"
        _git(repo, "worktree", "add", "--detach", "--quiet", str(checkout), commit)
        try:
            env_file = checkout / "environments" / f"{environment.name}.yaml"
            if not env_file.is_file():
                warnings.append(f"{ref} has no environments/{environment.name}.yaml: the base costs nothing")
                empty = Estimate(environment.name, prices.currency, ())
                return Baseline(ref, commit[:12], empty, tuple(warnings))
            stacks = synth(checkout, environment.name, Path(temporary) / "out", _manifest_for(environment))
            try:
                base_environment = load_environment(env_file)
            except ConfigError as exc:
                first = str(exc).splitlines()[-1].strip()
                warnings.append(
                    f"{ref}: environments/{environment.name}.yaml does not validate with this version "
                    f"({first}); the current usage model stands in for the base"
                )
                base_environment = environment
            return Baseline(ref, commit[:12], estimate(base_environment, stacks, prices), tuple(warnings))
        finally:
            _remove_worktree(repo, checkout)


def _remove_worktree(repo: Path, checkout: Path) -> None:
    """Remove the temporary worktree and its registration (never masks the error that got us here)."""
    subprocess.run(["git", "worktree", "remove", "--force", str(checkout)], cwd=repo, capture_output=True)
