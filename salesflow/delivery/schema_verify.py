"""Ask Schema Registry before merge (``salesflow schema verify``): is each local contract compatible
with its subject's latest version, under the subject's own rule, and is the clean subject that Flink
registered from its ``CREATE TABLE`` still the contract?

* ``schemas/sales_order.avsc`` against ``<raw topic>-value`` and ``schemas/sales_order_line.avsc``
  against ``<clean topic>-value``: ``POST /compatibility/subjects/{subject}/versions/latest?verbose=true``;
  the registry's own messages are reported; 404 (40401/40402) means the local schema would be the
  subject's first version.
* The clean subject's latest schema (registered by Flink, not by Terraform) is compared with the
  contract field by field: names, order and Avro types (logical types, precision and scale included).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from salesflow.cli_options import markdown_table, text_table
from salesflow.cloud.schema_registry import SchemaRegistry
from salesflow.config import Environment
from salesflow.contracts import SALES_ORDER, SALES_ORDER_LINE, load_schema_json, shape_differences


@dataclass
class SchemaCheck:
    subject: str
    schema: str  # file under schemas/
    check: str  # compatibility | contract
    verdict: str
    ok: bool
    messages: list[str] = field(default_factory=list)


def subjects(environment: Environment) -> list[tuple[str, str]]:
    """(subject, contract name) of every subject this repository owns."""
    topics = environment.confluent.topics
    return [(f"{topics.raw.name}-value", SALES_ORDER), (f"{topics.clean.name}-value", SALES_ORDER_LINE)]


def verify_schemas(environment: Environment, registry: SchemaRegistry) -> list[SchemaCheck]:
    checks = []
    for subject, name in subjects(environment):
        schema_file = f"schemas/{name}.avsc"
        result = registry.check_compatibility(subject, json.dumps(load_schema_json(name)))
        if result is None:
            checks.append(SchemaCheck(subject, schema_file, "compatibility", "first version", True))
        else:
            verdict = "compatible" if result.is_compatible else "incompatible"
            checks.append(
                SchemaCheck(
                    subject, schema_file, "compatibility", verdict, result.is_compatible, result.messages
                )
            )
    clean_subject, clean = subjects(environment)[1]
    latest = registry.latest(clean_subject)
    schema_file = f"schemas/{clean}.avsc"
    if latest is None:
        checks.append(
            SchemaCheck(
                clean_subject,
                schema_file,
                "contract",
                "not registered yet",
                True,
                ["Flink's CREATE TABLE registers it on the first deploy"],
            )
        )
    else:
        problems = shape_differences(load_schema_json(clean), json.loads(latest.schema_text))
        verdict = "matches the contract" if not problems else "differs from the contract"
        checks.append(
            SchemaCheck(
                clean_subject,
                schema_file,
                "contract",
                f"{verdict} (v{latest.version})",
                not problems,
                problems,
            )
        )
    return checks


COLUMNS = ("Subject", "Schema", "Check", "Verdict", "Registry says")


def _cells(check: SchemaCheck) -> tuple[str, ...]:
    return (check.subject, check.schema, check.check, check.verdict, "; ".join(check.messages) or "-")


def render(checks: list[SchemaCheck], output_format: str, environment: str) -> str:
    ok = all(check.ok for check in checks)
    if output_format == "json":
        return json.dumps(
            {"environment": environment, "ok": ok, "checks": [asdict(c) for c in checks]}, indent=2
        )
    rows = [_cells(check) for check in checks]
    verdict = "pass" if ok else "FAIL"
    if output_format == "markdown":
        title = f"#### Schema Registry: {environment} ({verdict})"
        return "\n".join([title, "", *markdown_table(COLUMNS, rows)]) + "\n"
    return "\n".join(
        [f"schema verify: {environment}", *text_table(COLUMNS, rows), "", f"verdict: {verdict.upper()}"]
    )
