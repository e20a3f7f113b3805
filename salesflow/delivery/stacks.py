"""Which synthesized Terraform stacks belong to an environment, in the order they must be applied.

The pipelines never guess stack names: a stack belongs to an environment when its S3 backend is the
environment's state bucket and its state key lies under the environment's key prefix (both from
``environments/<env>.yaml``). The order follows the stack dependencies cdktf records in
``terraform/cdktf.out/manifest.json``, so a stack that reads another's outputs is planned after it.
A stack without an S3 backend is refused: in CI its state would vanish with the runner.

The bootstrap stack (state key ``<key prefix>/bootstrap.tfstate``) is never among them: an administrator
applies it with ``make bootstrap`` (``bootstrap_stack``), and the pipeline roles cannot even read its state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from salesflow.config import REPO_ROOT, Environment

SYNTH_DIR = REPO_ROOT / "terraform" / "cdktf.out"


class StackError(ValueError):
    """The synthesized output is missing or inconsistent; the message names the file and the fix."""


@dataclass(frozen=True)
class Stack:
    name: str
    directory: Path
    state_bucket: str
    state_key: str
    dependencies: tuple[str, ...]


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StackError(f"{path}: not found; run `make synth` first") from None
    except json.JSONDecodeError as exc:
        raise StackError(f"{path}: not valid JSON ({exc}); run `make synth` again") from None


def all_stacks(synth_dir: Path = SYNTH_DIR) -> list[Stack]:
    manifest_path = synth_dir / "manifest.json"
    manifest = _read_json(manifest_path)
    stacks = []
    for name, entry in sorted((manifest.get("stacks") or {}).items()):
        directory = synth_dir / entry.get("workingDirectory", f"stacks/{name}")
        config_path = synth_dir / entry.get("synthesizedStackPath", f"stacks/{name}/cdk.tf.json")
        backend = (_read_json(config_path).get("terraform") or {}).get("backend") or {}
        s3 = backend.get("s3")
        if not s3 or not s3.get("bucket") or not s3.get("key"):
            kinds = ", ".join(backend) or "none (local state)"
            raise StackError(
                f"{config_path}: stack {name} has backend {kinds}; every stack needs the S3 backend from "
                "environments/<env>.yaml (aws.state_backend), or CI state is lost with the runner"
            )
        stacks.append(Stack(name, directory, s3["bucket"], s3["key"], tuple(entry.get("dependencies") or ())))
    if not stacks:
        raise StackError(f"{manifest_path}: no stacks; run `make synth` first")
    return stacks


def _in_environment(stack: Stack, environment: Environment) -> bool:
    backend = environment.aws.state_backend
    return stack.state_bucket == backend.bucket and stack.state_key.startswith(
        backend.key_prefix.rstrip("/") + "/"
    )


def bootstrap_stack(environment: Environment, synth_dir: Path = SYNTH_DIR) -> Stack:
    """The environment's bootstrap stack (applied by an administrator, never by a pipeline)."""
    found = [
        stack
        for stack in all_stacks(synth_dir)
        if _in_environment(stack, environment) and stack.state_key == environment.names.state_key
    ]
    if len(found) != 1:
        raise StackError(
            f"{synth_dir}: no bootstrap stack of {environment.name} "
            f"(state key {environment.names.state_key}); "
            f"run `make bootstrap ENV={environment.name}` (it synthesizes the bootstrap stack)"
        )
    return found[0]


def stacks_for_environment(environment: Environment, synth_dir: Path = SYNTH_DIR) -> list[Stack]:
    """The environment's stacks that the pipelines apply, dependencies first (ties broken by name)."""
    backend = environment.aws.state_backend
    prefix = backend.key_prefix.rstrip("/") + "/"
    mine = {
        stack.name: stack
        for stack in all_stacks(synth_dir)
        if _in_environment(stack, environment) and stack.state_key != environment.names.state_key
    }
    if not mine:
        raise StackError(
            f"{synth_dir}: no stack keeps its state in s3://{backend.bucket}/{prefix}; run `make synth` "
            f"and check aws.state_backend in environments/{environment.name}.yaml"
        )
    keys: dict[str, str] = {}
    for stack in mine.values():
        if stack.state_key in keys:
            raise StackError(
                f"stacks {keys[stack.state_key]} and {stack.name} share the state key {stack.state_key}"
            )
        keys[stack.state_key] = stack.name
    graph = TopologicalSorter()
    for name in sorted(mine):
        foreign = [dependency for dependency in mine[name].dependencies if dependency not in mine]
        if foreign:
            raise StackError(
                f"stack {name} ({environment.name}) depends on {foreign}, which belong to another "
                "environment; an environment's stacks may only depend on each other"
            )
        graph.add(name, *sorted(mine[name].dependencies))
    try:
        graph.prepare()
    except CycleError as exc:
        raise StackError(f"stack dependencies form a cycle: {' -> '.join(exc.args[1])}") from None
    order: list[str] = []
    while graph.is_active():
        ready = sorted(graph.get_ready())
        order += ready
        graph.done(*ready)
    return [mine[name] for name in order]
