"""Build the CDKTF app: four stacks per environment from ``environments/<env>.yaml``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cdktf import App

from salesflow.config import Environment, load_environment
from terraform.artifact import load_exporter_artifact, load_monitor_artifact
from terraform.confluent_provider.schema import SchemaError, validate_terraform_json
from terraform.stacks.aws_stack import AwsStack
from terraform.stacks.bootstrap_stack import BootstrapStack
from terraform.stacks.confluent_stack import ConfluentStack
from terraform.stacks.flink_stack import FlinkStack

TERRAFORM_DIR = Path(__file__).resolve().parent
DEFAULT_OUTDIR = TERRAFORM_DIR / "cdktf.out"


@dataclass(frozen=True)
class EnvironmentStacks:
    environment: Environment
    bootstrap: BootstrapStack
    confluent: ConfluentStack | None = None
    flink: FlinkStack | None = None
    aws: AwsStack | None = None


def add_environment(app: App, environment: Environment, *, bootstrap_only: bool = False) -> EnvironmentStacks:
    """The stacks of one environment; Flink and AWS read the Confluent stack's state. The bootstrap
    stack depends on none of them and none on it (its state is an administrator's only)."""
    bootstrap = BootstrapStack(app, environment)
    if bootstrap_only:
        return EnvironmentStacks(environment, bootstrap)
    artifact = load_exporter_artifact(environment.exporter.lambda_.architecture)
    confluent = ConfluentStack(app, environment)
    flink = FlinkStack(app, environment)
    monitor = load_monitor_artifact(environment.monitor.lambda_.architecture)
    aws = AwsStack(app, environment, artifact, monitor)
    flink.add_dependency(confluent)
    aws.add_dependency(confluent)
    return EnvironmentStacks(environment, bootstrap, confluent, flink, aws)


def build_app(
    names: Iterable[str], outdir: Path = DEFAULT_OUTDIR, *, bootstrap_only: bool = False
) -> tuple[App, list[EnvironmentStacks]]:
    # Stack traces would embed absolute paths of this machine in the output's metadata.
    app = App(outdir=str(outdir), stack_traces=False, skip_validation=False)
    stacks = [add_environment(app, load_environment(name), bootstrap_only=bootstrap_only) for name in names]
    return app, stacks


def synth(names: Iterable[str], outdir: Path = DEFAULT_OUTDIR, *, bootstrap_only: bool = False) -> list[Path]:
    """Synthesize and schema-check every stack, then replace ``outdir`` as a whole.

    Output is built next to ``outdir`` and swapped in only when complete and valid: a failed synth
    leaves the previous output as it was, never a half-written one.
    """
    staging = outdir.with_name(f"{outdir.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        app, _ = build_app(names, staging, bootstrap_only=bootstrap_only)
        app.synth()
        errors: list[SchemaError] = []
        for path in sorted(staging.glob("stacks/*/cdk.tf.json")):
            document = json.loads(path.read_text(encoding="utf-8"))
            errors += validate_terraform_json(document, path.parent.name)
        if errors:
            details = "\n  ".join(str(error) for error in errors)
            raise ValueError(f"synthesized Confluent blocks violate the provider schema:\n  {details}")
        shutil.rmtree(outdir, ignore_errors=True)
        staging.rename(outdir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sorted(outdir.glob("stacks/*/cdk.tf.json"))
