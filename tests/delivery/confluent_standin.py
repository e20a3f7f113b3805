"""A stand-in for the confluentinc/confluent Terraform provider's ``confluent_flink_statement``, so real
Terraform plans what it plans against Confluent Cloud (run as a provider plugin through the ``tf``
package; tests install it into a filesystem mirror).

The "remote" statements are JSON files in ``$STANDIN_STORE`` (one per statement name). The attributes
and their flags come from the provider schema the synth checks against
(``terraform/confluent_provider/provider-schema.json``; its nested blocks are left out: the pipeline
sets them in the provider block). Read does what the real provider's read does when
the API answers 404 (``resource_flink_statement.go``: ``d.SetId("")``): it returns no state, so Terraform
drops the statement from state at refresh. Deleting a file is what Confluent's cleanup of a completed
statement looks like to Terraform.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from tf import schema, types
from tf.provider import Provider, Resource
from tf.runner import install_provider, run_provider
from tf.types import Unknown

REFERENCE = Path(__file__).resolve().parents[2] / "terraform" / "confluent_provider" / "provider-schema.json"
SOURCE = ("registry.terraform.io", "confluentinc", "confluent", "2.83.0")
_TYPES = {"string": types.String(), "bool": types.Bool()}


def _attribute(name: str, spec: dict[str, Any], force_new: set[str]) -> schema.Attribute:
    kind = spec["type"]
    tf_type = types.Map(types.String()) if kind == ["map", "string"] else _TYPES[kind]
    return schema.Attribute(
        name,
        tf_type,
        required=bool(spec.get("required")),
        optional=bool(spec.get("optional")),
        computed=bool(spec.get("computed")),
        sensitive=bool(spec.get("sensitive")),
        requires_replace=name in force_new or None,
    )


def _reference(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))["resources"]["confluent_flink_statement"]


class FlinkStatement(Resource):
    reference = REFERENCE

    def __init__(self, provider: ConfluentStandIn) -> None:
        self.store = Path(os.environ["STANDIN_STORE"])

    @classmethod
    def get_name(cls) -> str:
        return "flink_statement"

    @classmethod
    def get_schema(cls) -> schema.Schema:
        reference = _reference(cls.reference)
        force_new = set(reference["force_new"])
        return schema.Schema(
            attributes=[_attribute(name, spec, force_new) for name, spec in reference["attributes"].items()]
        )

    def _path(self, name: str) -> Path:
        return self.store / f"{name}.json"

    def create(self, ctx: Any, planned: dict[str, Any]) -> dict[str, Any]:
        state = {key: None if value is Unknown else value for key, value in planned.items()}
        state |= {
            "id": f"env-standin/lfcp-standin/{state['statement_name']}",
            "properties": state.get("properties") or {},
            "properties_sensitive": state.get("properties_sensitive") or {},
            "stopped": bool(state.get("stopped")),
            "latest_offsets": {},
            "latest_offsets_timestamp": "0001-01-01T00:00:00Z",
        }
        self._path(state["statement_name"]).write_text(json.dumps(state), encoding="utf-8")
        return state

    def read(self, ctx: Any, current: dict[str, Any]) -> dict[str, Any] | None:
        path = self._path(current["statement_name"])
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None  # 404: gone

    def update(self, ctx: Any, current: dict[str, Any], planned: dict[str, Any]) -> dict[str, Any]:
        return self.create(ctx, planned)

    def delete(self, ctx: Any, current: dict[str, Any]) -> None:
        self._path(current["statement_name"]).unlink(missing_ok=True)


class ConfluentStandIn(Provider):
    def full_name(self) -> str:
        return "/".join(SOURCE[:3])

    def get_model_prefix(self) -> str:
        return "confluent_"

    def get_provider_schema(self, diags: Any) -> schema.Schema:
        return schema.Schema(attributes=[])

    def validate_config(self, diags: Any, config: Any) -> None:
        pass

    def configure_provider(self, diags: Any, config: Any) -> None:
        pass

    def get_data_sources(self) -> list:
        return []

    def get_resources(self) -> list:
        return [FlinkStatement]

    def new_resource(self, klass: type) -> Any:
        return klass(self)

    def new_data_source(self, klass: type) -> Any:
        return klass(self)


def install(directory: Path) -> str:
    """Put the stand-in into a filesystem mirror under ``directory``; return the CLI configuration that
    makes ``terraform init`` install it as confluentinc/confluent 2.83.0 (no registry reached)."""
    script = directory / "terraform-provider-confluent"
    script.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).resolve()}" "$@"\n', encoding="utf-8"
    )
    script.chmod(0o755)
    mirror = directory / "mirror"
    install_provider(*SOURCE, mirror, script)
    return (
        "provider_installation {\n  filesystem_mirror {\n"
        f'    path    = "{mirror}"\n    include = ["{"/".join(SOURCE[:3])}"]\n  }}\n}}\n'
    )


if __name__ == "__main__":
    run_provider(ConfluentStandIn(), sys.argv)
