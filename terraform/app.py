"""Build the CDKTF app: three stacks per environment from ``environments/<env>.yaml``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cdktf import App

from salesflow.config import Environment, environment_names, load_environment
from terraform.artifact import load_exporter_artifact
from terraform.confluent.schema import SchemaError, validate_terraform_json
from terraform.stacks.aws_stack import AwsStack
from terraform.stacks.confluent_stack import ConfluentStack
from terraform.stacks.flink_stack import FlinkStack

TERRAFORM_DIR = Path(__file__).resolve().parent
DEFAULT_OUTDIR = TERRAFORM_DIR / "cdktf.out"


@dataclass(frozen=True)
class EnvironmentStacks:
    environment: Environment
    confluent: ConfluentStack
    flink: FlinkStack
    aws: AwsStack

    def all(self) -> tuple[ConfluentStack, FlinkStack, AwsStack]:
        return self.confluent, self.flink, self.aws


def add_environment(app: App, environment: Environment) -> EnvironmentStacks:
    """The stacks of one environment; Flink and AWS read the Confluent stack's state."""
    artifact = load_exporter_artifact(environment.exporter.lambda_.architecture)
    confluent = ConfluentStack(app, environment)
    flink = FlinkStack(app, environment)
    aws = AwsStack(app, environment, artifact)
    flink.add_dependency(confluent)
    aws.add_dependency(confluent)
    return EnvironmentStacks(environment, confluent, flink, aws)


def resolve_environments(selection: str) -> list[str]:
    """``dev``, ``prod`` or ``all`` (every file in environments/)."""
    known = environment_names()
    if selection == "all":
        return known
    if selection not in known:
        raise ValueError(f"unknown environment {selection!r}; choose one of {', '.join([*known, 'all'])}")
    return [selection]


def build_app(names: Iterable[str], outdir: Path = DEFAULT_OUTDIR) -> tuple[App, list[EnvironmentStacks]]:
    # Stack traces would embed absolute paths of this machine in the output's metadata.
    app = App(outdir=str(outdir), stack_traces=False, skip_validation=False)
    return app, [add_environment(app, load_environment(name)) for name in names]


def synth(names: Iterable[str], outdir: Path = DEFAULT_OUTDIR) -> list[Path]:
    """Synthesize into a clean ``outdir``; returns the stack files, after the Confluent schema check."""
    if outdir.exists():
        shutil.rmtree(outdir)
    app, _ = build_app(names, outdir)
    app.synth()
    files = sorted(outdir.glob("stacks/*/cdk.tf.json"))
    errors: list[SchemaError] = []
    for path in files:
        errors += validate_terraform_json(json.loads(path.read_text(encoding="utf-8")), path.parent.name)
    if errors:
        details = "\n  ".join(str(error) for error in errors)
        raise ValueError(f"synthesized Confluent configuration violates the provider schema:\n  {details}")
    return files
