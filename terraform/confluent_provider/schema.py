"""Offline check of synthesized ``confluent_*`` blocks against the provider schema (JSON in, errors out).

No provider binary is reachable here, so ``terraform validate`` cannot run. This module applies the
facts of ``provider-schema.json`` (a copy of the shared reference) to Terraform JSON: unknown
attributes, computed-only attributes set in configuration, missing required attributes and blocks,
block shapes (object vs list, item bounds), ``exactly_one_of``/``conflicts_with`` groups, allowed values,
patterns and the provider's all-or-none argument groups. Values that are Terraform expressions
(``${...}``) are only known at plan time and skip the value checks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).with_name("provider-schema.json")

META_ARGUMENTS = frozenset(
    {"//", "count", "depends_on", "for_each", "lifecycle", "provider", "provisioner", "connection"}
)


@cache
def provider_schema() -> dict[str, Any]:
    """The provider schema (attributes, blocks, update behaviour) the constructs are written against."""
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def provider_version() -> str:
    """Exact provider version pinned in ``required_providers``: the one the schema was taken from."""
    return str(provider_schema()["provider_version"])


@dataclass(frozen=True)
class SchemaError:
    """One violation; ``where`` is e.g. ``dev-confluent: resource confluent_kafka_topic.raw.config``."""

    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


def validate_terraform_json(document: Mapping[str, Any], origin: str = "stack") -> list[SchemaError]:
    """Every ``confluent`` provider block, resource and data source of one ``cdk.tf.json``."""
    schema = provider_schema()
    errors: list[SchemaError] = []
    for provider in _provider_configs(document):
        errors += _check_provider(provider, schema["provider"], f"{origin}: provider confluent")
    for kind, section, known in (
        ("resource", "resource", schema["resources"]),
        ("data", "data", schema["data_sources"]),
    ):
        for type_name, instances in document.get(section, {}).items():
            if not type_name.startswith("confluent_"):
                continue
            for name, body in instances.items():
                where = f"{origin}: {kind} {type_name}.{name}"
                if type_name not in known:
                    hint = (
                        " (the provider has no such data source)"
                        if kind == "data" and type_name in schema["not_available_as_data_source"]
                        else ""
                    )
                    errors.append(SchemaError(where, f"unknown {kind} type {type_name!r}{hint}"))
                    continue
                errors += _check_body(
                    body, known[type_name], where, top_level=True, resource=kind == "resource"
                )
    return errors


def _provider_configs(document: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    configs = document.get("provider", {}).get("confluent", [])
    yield from [configs] if isinstance(configs, Mapping) else configs


def _check_provider(config: Mapping[str, Any], schema: Mapping[str, Any], where: str) -> list[SchemaError]:
    config = {key: value for key, value in config.items() if key != "alias"}
    errors = _check_body(config, schema, where, top_level=False)
    groups = schema.get("all_or_none_groups", {})
    for group, members in groups.items():
        if not isinstance(members, list):
            continue
        names = [member.split()[0] for member in members if not member.startswith("(optional)")]
        present = [name for name in names if name in config]
        if present and len(present) != len(names):
            missing = sorted(set(names) - set(present))
            errors.append(
                SchemaError(
                    where,
                    f"{group} arguments are all-or-none: {', '.join(present)} set, {', '.join(missing)} "
                    "missing (the provider rejects a partial group)",
                )
            )
    return errors


def _check_body(
    body: Any, schema: Mapping[str, Any], where: str, *, top_level: bool, resource: bool = False
) -> list[SchemaError]:
    if not isinstance(body, Mapping):
        return [SchemaError(where, f"expected an object, got {type(body).__name__}")]
    attributes: Mapping[str, Any] = schema.get("attributes", {})
    blocks: Mapping[str, Any] = schema.get("blocks", {})
    errors: list[SchemaError] = []
    for key, value in body.items():
        if top_level and key in META_ARGUMENTS:
            continue
        if key == "id" and top_level and resource:
            errors.append(SchemaError(f"{where}.id", "never set id on a resource (the provider assigns it)"))
        elif key in attributes:
            errors += _check_attribute(value, attributes[key], f"{where}.{key}")
        elif key in blocks:
            errors += _check_block(key, value, blocks[key], f"{where}.{key}")
        else:
            known = sorted(set(attributes) | set(blocks))
            errors.append(SchemaError(f"{where}.{key}", f"unknown attribute; known: {', '.join(known)}"))
    for key, spec in attributes.items():
        if spec.get("required") and key not in body:
            errors.append(SchemaError(f"{where}.{key}", "required attribute is missing"))
    for key, spec in blocks.items():
        if spec.get("min_items", 0) >= 1 and key not in body:
            errors.append(SchemaError(f"{where}.{key}", "required block is missing"))
    errors += _check_groups(body, {**attributes, **blocks}, where)
    return errors


def _check_groups(body: Mapping[str, Any], members: Mapping[str, Any], where: str) -> list[SchemaError]:
    errors: list[SchemaError] = []
    seen: set[tuple[str, ...]] = set()
    for key, spec in members.items():
        group = tuple(sorted(_local_name(name) for name in spec.get("exactly_one_of", [])))
        if group and group not in seen:
            seen.add(group)
            present = [name for name in group if name in body]
            if len(present) != 1:
                errors.append(
                    SchemaError(
                        where, f"exactly one of {', '.join(group)} is required, got {present or 'none'}"
                    )
                )
        if key in body:
            clashes = [name for name in spec.get("conflicts_with", []) if _local_name(name) in body]
            if clashes:
                errors.append(SchemaError(f"{where}.{key}", f"conflicts with {', '.join(clashes)}"))
    return errors


def _local_name(name: str) -> str:
    """``oauth.0.oauth_external_token_url`` -> ``oauth_external_token_url``."""
    return name.rsplit(".", 1)[-1]


def _check_attribute(value: Any, spec: Mapping[str, Any], where: str) -> list[SchemaError]:
    if spec.get("computed") and not (spec.get("optional") or spec.get("required")):
        return [SchemaError(where, "computed-only attribute: the provider sets it, configuration must not")]
    if is_expression(value):
        return []
    errors = _check_type(value, spec["type"], where)
    if errors or not isinstance(value, str):
        return errors
    if spec.get("non_empty") and not value:
        errors.append(SchemaError(where, "must not be empty"))
    allowed = spec.get("allowed_values")
    if allowed:
        matches = (
            value.upper() in {item.upper() for item in allowed}
            if spec.get("allowed_values_ignore_case")
            else value in allowed
        )
        if not matches:
            errors.append(SchemaError(where, f"{value!r} is not one of {', '.join(allowed)}"))
    pattern = spec.get("pattern")
    if pattern and not re.search(pattern, value):
        errors.append(SchemaError(where, f"{value!r} does not match {pattern}"))
    return errors


def _check_type(value: Any, expected: Any, where: str) -> list[SchemaError]:
    if is_expression(value):
        return []
    ok: bool
    if expected == "string":
        ok = isinstance(value, str)
    elif expected == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif expected == "bool":
        ok = isinstance(value, bool)
    elif isinstance(expected, list) and expected[0] == "map":
        if not isinstance(value, Mapping):
            return [SchemaError(where, f"expected a map, got {type(value).__name__}")]
        return [
            error for key, item in value.items() for error in _check_type(item, expected[1], f"{where}.{key}")
        ]
    elif isinstance(expected, list) and expected[0] in {"list", "set"}:
        if not isinstance(value, list):
            return [SchemaError(where, f"expected a {expected[0]}, got {type(value).__name__}")]
        return [
            error
            for index, item in enumerate(value)
            for error in _check_type(item, expected[1], f"{where}[{index}]")
        ]
    else:
        ok = True
    return [] if ok else [SchemaError(where, f"expected {expected}, got {type(value).__name__} {value!r}")]


def _check_block(key: str, value: Any, spec: Mapping[str, Any], where: str) -> list[SchemaError]:
    if spec.get("nesting") == "single":
        if not isinstance(value, Mapping):
            return [SchemaError(where, f"block {key} is a single object, got {type(value).__name__}")]
        return _check_body(value, spec, where, top_level=False)
    items = [value] if isinstance(value, Mapping) else value
    if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
        return [
            SchemaError(
                where,
                f"block {key} must be an object or a list of objects (Terraform JSON block syntax), "
                f"got {type(value).__name__} {value!r}",
            )
        ]
    errors: list[SchemaError] = []
    low, high = spec.get("min_items", 0), spec.get("max_items")
    if len(items) < low or (high is not None and len(items) > high):
        bounds = f"{low}..{high if high is not None else 'n'}"
        errors.append(SchemaError(where, f"block {key} takes {bounds} items, got {len(items)}"))
    for index, item in enumerate(items):
        errors += _check_body(item, spec, f"{where}[{index}]", top_level=False)
    return errors
