"""Rollback is one `git revert`: reverting a change reproduces the previous desired state exactly.

For the latest commits that touch the synth's inputs, each is reverted in a fresh checkout and the
synthesized Terraform JSON is compared byte for byte with the synth of the commit's parent, made in
another checkout (another absolute path). One clone serves every checkout (git worktrees), and the
two synths of a commit run side by side. This holds only if the synth is a pure function of the tree:
no timestamps, no absolute paths, no state outside git (the exporter artifact comes from the same
fixture manifest in both runs, as the deploy pipeline pins it by SHA-256).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from salesflow.config import REPO_ROOT

SYNTH_INPUTS = ("terraform", "flink_statements", "schemas", "environments")
MANIFEST = REPO_ROOT / "tests" / "terraform" / "fixtures" / "artifact-arm64.json"
# The newest such commit: each one checked costs two full synths (about 25 s of CPU).
COMMITS_CHECKED = 1
EXPORTER_STACK = "stacks/dev-aws/cdk.tf.json"
MEMORY, MEMORY_CHANGED = b'"memory_size": 1024', b'"memory_size": 1536'


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"git {' '.join(args)} failed in {cwd}: {done.stderr}"
    return done.stdout.strip()


def _commits_touching_synth_inputs() -> list[str]:
    commits = _git(REPO_ROOT, "log", "--no-merges", "--format=%H", "--", *SYNTH_INPUTS).split()
    # A commit whose parent has no CDKTF app yet cannot be compared (nothing to synthesize before it).
    return [
        commit
        for commit in commits
        if subprocess.run(
            ["git", "cat-file", "-e", f"{commit}^:terraform/main.py"], cwd=REPO_ROOT, capture_output=True
        ).returncode
        == 0
    ][:COMMITS_CHECKED]


def _clone(target: Path) -> Path:
    _git(REPO_ROOT, "clone", "--quiet", "--no-checkout", str(REPO_ROOT), str(target))
    _git(target, "config", "user.email", "on-call@example.com")
    _git(target, "config", "user.name", "on-call")
    return target


def _checkout(clone: Path, commit: str, target: Path) -> Path:
    _git(clone, "worktree", "add", "--quiet", "--detach", str(target), commit)
    return target


def _synths(*checkouts: Path) -> list[dict[str, bytes]]:
    """Synthesize every environment in each checkout, side by side; the output files by name."""
    runs = [
        (
            checkout,
            subprocess.Popen(
                [
                    sys.executable,
                    "terraform/main.py",
                    "--env",
                    "all",
                    "--outdir",
                    str(checkout / "synth-out"),
                ],
                cwd=checkout,
                env={**os.environ, "SALESFLOW_EXPORTER_MANIFEST": str(MANIFEST)},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            ),
        )
        for checkout in checkouts
    ]
    results = []
    for checkout, process in runs:
        output, _ = process.communicate()
        assert process.returncode == 0, f"synth failed in {checkout}:\n{output}"
        out = checkout / "synth-out"
        files = {
            str(path.relative_to(out)): path.read_bytes() for path in sorted(out.rglob("*")) if path.is_file()
        }
        assert any(name.endswith("cdk.tf.json") for name in files)
        results.append(files)
    return results


def _differences(expected: dict[str, bytes], actual: dict[str, bytes]) -> list[str]:
    names = sorted(set(expected) | set(actual))
    return [name for name in names if expected.get(name) != actual.get(name)]


@pytest.mark.slow
def test_reverting_a_change_synthesizes_the_parents_state(tmp_path: Path) -> None:
    if _git(REPO_ROOT, "rev-parse", "--is-shallow-repository") == "true":
        pytest.skip("a shallow clone has no history to revert; run on a full clone")
    commits = _commits_touching_synth_inputs()
    assert commits, "the history has commits that change the synthesized infrastructure"
    clone = _clone(tmp_path / "clone")
    for index, commit in enumerate(commits):
        parent_checkout = _checkout(clone, f"{commit}^", tmp_path / f"{commit[:10]}-parent")
        changed = _checkout(clone, commit, tmp_path / f"{commit[:10]}-reverted")
        _git(changed, "revert", "--no-edit", commit)
        if index == 0:
            # The comparison is not vacuous: the parent's checkout also carries one uncommitted setting,
            # which must show up in exactly one place of one file (no third synth needed to prove it).
            config = parent_checkout / "environments" / "dev.yaml"
            assert "memory_mb: 1024" in config.read_text()
            config.write_text(config.read_text().replace("memory_mb: 1024", "memory_mb: 1536", 1))
        parent, reverted = _synths(parent_checkout, changed)
        differences = _differences(parent, reverted)
        if index == 0:
            assert differences == [EXPORTER_STACK], f"revert of {commit[:10]}: {differences}"
            assert parent[EXPORTER_STACK].count(MEMORY_CHANGED) == 1
            assert parent[EXPORTER_STACK].replace(MEMORY_CHANGED, MEMORY) == reverted[EXPORTER_STACK], (
                f"revert of {commit[:10]}: {EXPORTER_STACK} differs beyond the changed setting"
            )
        else:
            assert not differences, f"revert of {commit[:10]}: {differences}"
