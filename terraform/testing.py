"""cdktf's ``Testing`` helpers for the test suite (every cdktf import stays inside terraform/)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cdktf import App, TerraformStack, Testing
from constructs import Construct


def new_app() -> App:
    """An app for stacks built directly in a test (cdktf.Testing's, with its test defaults)."""
    return Testing.app()


def synth_stack(stack: TerraformStack) -> str:
    """The stack's Terraform JSON as cdktf.Testing renders it (metadata comments removed)."""
    return Testing.synth(stack)


def synth_constructs(build: Callable[[Construct], Any]) -> dict[str, Any]:
    """Terraform JSON of a throw-away stack holding whatever ``build(stack)`` adds."""
    stack = TerraformStack(Testing.app(), "under-test")
    build(stack)
    return json.loads(Testing.synth(stack))


def synth_flat_stack(build: Callable[[Construct], Any]) -> dict[str, Any]:
    """Terraform JSON of a throw-away ``SalesflowStack`` (flat addresses) holding what ``build`` adds."""
    from terraform.stacks.common import SalesflowStack

    app = App(outdir=tempfile.mkdtemp(prefix="salesflow-flat-"), stack_traces=False, skip_validation=True)
    stack = SalesflowStack(app, "under-test")
    build(stack)
    app.synth()
    return json.loads(
        (Path(app.outdir) / "stacks" / "under-test" / "cdk.tf.json").read_text(encoding="utf-8")
    )


def nested_construct(scope: Construct, id_: str) -> Construct:
    """A plain construct to group resources under, as the stacks' named constructs do."""
    return Construct(scope, id_)


def has_resource(synthesized: str, resource_type: str, properties: Mapping[str, Any]) -> bool:
    """cdktf.Testing: a resource of ``resource_type`` whose configuration contains ``properties``."""
    return Testing.to_have_resource_with_properties(synthesized, resource_type, dict(properties))


def has_data_source(synthesized: str, data_type: str, properties: Mapping[str, Any]) -> bool:
    return Testing.to_have_data_source_with_properties(synthesized, data_type, dict(properties))


def has_provider(synthesized: str, provider_type: str, properties: Mapping[str, Any]) -> bool:
    return Testing.to_have_provider_with_properties(synthesized, provider_type, dict(properties))


def synth_bootstrap(environment: Any) -> dict[str, Any]:
    """Terraform JSON of ``<env>-bootstrap`` alone, for an environment built in a test (e.g. adopting)."""
    from terraform.stacks.bootstrap_stack import BootstrapStack

    app = App(
        outdir=tempfile.mkdtemp(prefix="salesflow-bootstrap-"), stack_traces=False, skip_validation=True
    )
    stack = BootstrapStack(app, environment)
    app.synth()
    return json.loads(
        (Path(app.outdir) / "stacks" / stack.node.id / "cdk.tf.json").read_text(encoding="utf-8")
    )
