"""--base-ref: the ref is checked out in a temporary git worktree, synthesized there with its own code and
estimated; the worktree is gone afterwards. One real run (clone, commit, worktree, synthesis) is slow."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from salesflow.config import REPO_ROOT, load_environment
from salesflow.ops.cost.baseline import MANIFEST_VARIABLE, BaselineError, baseline
from salesflow.ops.cost.estimate import estimate
from salesflow.ops.cost.prices import Prices

SYNTH_INPUTS = ("environments", "flink_statements", "schemas", "terraform", "salesflow")


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _worktrees(repo: Path) -> str:
    return _git(repo, "worktree", "list", "--porcelain")


def test_the_base_is_synthesized_in_a_worktree_of_the_ref_that_is_removed_afterwards(
    stacks_of: Callable, prices: Prices, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MANIFEST_VARIABLE, "/fixtures/artifact-arm64.json")
    commit = _git(REPO_ROOT, "rev-parse", "HEAD")
    seen: dict[str, object] = {}

    def synth(checkout: Path, env: str, outdir: Path, manifest: str | None) -> dict:
        seen.update(
            checkout=checkout,
            head=_git(checkout, "rev-parse", "HEAD"),
            env=env,
            manifest=manifest,
            listed=str(checkout) in _worktrees(REPO_ROOT),
            has_env_file=(checkout / "environments" / "dev.yaml").is_file(),
        )
        return stacks_of("dev")

    result = baseline("HEAD", load_environment("dev"), prices, synth=synth)
    assert (seen["head"], seen["env"], seen["manifest"]) == (commit, "dev", "/fixtures/artifact-arm64.json")
    assert seen["listed"] and seen["has_env_file"]
    assert not Path(seen["checkout"]).exists()
    assert str(seen["checkout"]) not in _worktrees(REPO_ROOT)
    assert (result.ref, result.commit) == ("HEAD", commit[:12])
    assert result.estimate.total == estimate(load_environment("dev"), stacks_of("dev"), prices).total


def test_the_worktree_is_removed_when_the_synthesis_fails(prices: Prices) -> None:
    seen = []

    def synth(checkout: Path, env: str, outdir: Path, manifest: str | None) -> dict:
        seen.append(checkout)
        raise BaselineError("synthesis of the base failed: boom")

    with pytest.raises(BaselineError, match="boom"):
        baseline("HEAD", load_environment("dev"), prices, synth=synth)
    assert not seen[0].exists()
    assert str(seen[0]) not in _worktrees(REPO_ROOT)


def test_an_unknown_ref_says_to_fetch_it(prices: Prices) -> None:
    with pytest.raises(
        BaselineError, match=r"unknown git ref 'no-such-ref'; fetch it first .*fetch-depth: 0"
    ):
        baseline("no-such-ref", load_environment("dev"), prices, synth=lambda *_: {})


def test_a_base_before_the_usage_model_borrows_the_current_one(stacks_of: Callable, prices: Prices) -> None:
    if _git(REPO_ROOT, "rev-parse", "--is-shallow-repository") == "true":
        pytest.skip("a shallow clone has no history before the usage model; run on a full clone")
    added = _git(REPO_ROOT, "log", "--format=%H", "--reverse", "-G", "^usage:", "--", "environments/dev.yaml")
    before_usage = f"{added.split()[0]}^"
    result = baseline(before_usage, load_environment("dev"), prices, synth=lambda *_: stacks_of("dev"))
    assert len(result.warnings) == 1
    assert "environments/dev.yaml does not validate with this version" in result.warnings[0]
    assert "the current usage model stands in for the base" in result.warnings[0]
    assert result.estimate.total == Decimal("792.175726")  # the dev estimate of tests/ops/test_estimate.py


def _copy_tree(source: Path, target: Path) -> None:
    for name in SYNTH_INPUTS:
        shutil.rmtree(target / name)
        shutil.copytree(
            source / name, target / name, ignore=shutil.ignore_patterns("__pycache__", "cdktf.out*", "*.pyc")
        )


@pytest.mark.slow
def test_a_real_base_ref_run_gives_the_hand_computed_delta(
    stacks_of: Callable, prices: Prices, tmp_path: Path
) -> None:
    """The base is this tree with dev on a Basic cluster, committed in a clone: the real worktree synthesis
    of that commit, against the session's synthesis of this tree, costs 730 x 0.75 = $547.50 less."""
    clone = tmp_path / "clone"
    _git(REPO_ROOT, "clone", "--quiet", "--no-checkout", "--local", str(REPO_ROOT), str(clone))
    _git(clone, "checkout", "--quiet", _git(REPO_ROOT, "rev-parse", "HEAD"))
    _copy_tree(REPO_ROOT, clone)
    dev = clone / "environments" / "dev.yaml"
    dev.write_text(dev.read_text(encoding="utf-8").replace("type: standard", "type: basic"), encoding="utf-8")
    _git(clone, "add", "--all")
    _git(
        clone,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "commit",
        "--quiet",
        "-m",
        "dev on Basic",
    )

    environment = load_environment("dev")
    result = baseline("HEAD", environment, prices, repo=clone)
    head = estimate(environment, stacks_of("dev"), prices)
    assert result.warnings == ()
    assert head.total - result.estimate.total == Decimal("547.500000")
    base = {c.key: c.monthly for c in result.estimate.components}
    current = {c.key: c.monthly for c in head.components}
    assert set(current.items()) - set(base.items()) == {
        (("Kafka cluster", "sales-dev: standard, low availability, 1 eCKU"), Decimal("547.500000"))
    }
    assert "checkout" not in _worktrees(clone)
