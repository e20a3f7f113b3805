"""State-loss guard: classify a Terraform plan (``terraform show -json``) before anyone applies it.

Each resource change is checked against what the providers actually do (see
``shared/reference/confluent-provider-schema.json``, ``update_behavior``):

* ``confluent_flink_statement``: ``statement`` is force-new, so a SQL change destroys the running
  statement and its state (a stateful statement cannot carry offsets over); ``properties``,
  ``statement_name`` and ``credentials`` plan in place and the provider *fails at apply*.
* ``confluent_kafka_topic``: a partition decrease (or a new name) recreates the topic: records lost.
* ``confluent_schema``: deleting or replacing the resource deletes the subject's versions; an
  incompatible schema breaks every consumer (checked here offline, whatever the plan-time SR call did).
* ``confluent_tableflow_topic``: removing it disables Tableflow; Confluent deletes managed table data
  within days, and a re-enabled table only holds what the topic still retains.
* ``aws_s3_bucket``: a replacement deletes the bucket (exports, retained artifacts).
* ``aws_lambda_function``: an artifact that does not exist makes the apply fail (or, on a revert, the
  old artifact is gone).

* Completed DDL statements (``CREATE TABLE``, ``ALTER TABLE``) are deleted by Confluent about 30 days
  after they finish; the provider then drops them from state (404 on read) and plans to create them
  again. Terraform shows that as a ``delete`` in ``resource_drift`` and a ``create`` of the same
  address. Re-submitting an idempotent DDL (``CREATE ... IF NOT EXISTS``, ``ALTER TABLE ... MODIFY
  WATERMARK`` / ``SET`` / ``RESET``) changes nothing: a *notice*. Any other DDL would fail on the
  existing object: blocking.

A finding is *blocking* unless it is a notice. Blocking findings stop the pipeline unless their class is
allowed explicitly: ``--allow <class>``, or a pull-request label ``allow-<class>``; the label
``allow-state-loss`` allows every class that loses state or data, never one that fails at apply.

The plan JSON holds sensitive values in clear text (Terraform only flags them), so nothing here ever
prints an attribute value except a short list of harmless scalars (names, partition counts).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

STATE_LOSS = "state-loss"
APPLY_FAILURE = "apply-failure"
NOTICE = "notice"  # expected and harmless by construction: nobody needs to act
ALLOW_ALL_STATE_LOSS_LABEL = "allow-state-loss"
LABEL_PREFIX = "allow-"
# Above GitHub's comment limit (65,536 characters) a comment is rejected; leave room for the marker.
DEFAULT_COMMENT_LIMIT = 60_000


@dataclass(frozen=True)
class FindingClass:
    name: str
    category: str
    title: str


CLASSES: dict[str, FindingClass] = {
    cls.name: cls
    for cls in (
        FindingClass("flink-statement-replace", STATE_LOSS, "running Flink statement replaced or deleted"),
        FindingClass(
            "flink-statement-in-place", APPLY_FAILURE, "in-place statement change the provider rejects"
        ),
        FindingClass("topic-recreate", STATE_LOSS, "Kafka topic deleted or recreated"),
        FindingClass("schema-subject-change", STATE_LOSS, "schema subject deleted or changed incompatibly"),
        FindingClass("tableflow-disable", STATE_LOSS, "Tableflow disabled or re-enabled"),
        FindingClass("bucket-replace", STATE_LOSS, "S3 bucket deleted or replaced"),
        FindingClass("lambda-artifact-missing", APPLY_FAILURE, "Lambda code artifact missing"),
        FindingClass(
            "flink-ddl-recreate", NOTICE, "completed DDL statement re-created after Confluent's cleanup"
        ),
        FindingClass(
            "flink-ddl-recreate-fails", APPLY_FAILURE, "re-created DDL statement fails on the existing object"
        ),
    )
}


class GuardError(ValueError):
    """The plan cannot be read or checked; the message names the file and the fix."""


@dataclass(frozen=True)
class Finding:
    cls: str
    address: str
    action: str
    why: str
    blocking: bool
    plan: str = ""
    allowed_by: str | None = None

    @property
    def blocks(self) -> bool:
        return self.blocking and self.allowed_by is None


@dataclass(frozen=True)
class Change:
    address: str
    type: str
    action: str
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    after_unknown: Mapping[str, Any]
    replace_paths: tuple[tuple[Any, ...], ...]


@dataclass
class PlanReport:
    label: str
    changes: list[Change]
    findings: list[Finding]
    counts: Counter[str] = field(default_factory=Counter)


# --------------------------------------------------------------------------------------------- reading


def action_of(actions: Sequence[str]) -> str:
    """Terraform's action list as one word: create, update, delete, replace, no-op, read, forget."""
    key = tuple(actions)
    if key in {("delete", "create"), ("create", "delete")}:
        return "replace"
    if len(key) == 1:
        return key[0]
    return "+".join(key)


def load_plan(path: Path) -> dict[str, Any]:
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GuardError(
            f"{path}: no such plan file; write it with `terraform show -json tfplan > {path}`"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GuardError(
            f"{path}: not JSON ({exc}); pass the output of `terraform show -json <planfile>`, "
            "not the binary plan file"
        ) from None
    if not isinstance(plan, dict) or "format_version" not in plan:
        raise GuardError(f"{path}: not a `terraform show -json` plan (no format_version)")
    if plan.get("errored"):
        raise GuardError(f"{path}: Terraform reports this plan as errored; fix the plan before guarding it")
    changes = plan.get("resource_changes", [])
    if not isinstance(changes, list):
        raise GuardError(f"{path}: resource_changes must be a list")
    return plan


def managed_changes(plan: Mapping[str, Any]) -> list[Change]:
    """Managed resources whose plan does something (no-op and data-source reads left out)."""
    result = []
    for entry in plan.get("resource_changes", []):
        if entry.get("mode", "managed") != "managed":
            continue
        change = entry.get("change") or {}
        action = action_of(change.get("actions") or ["no-op"])
        if action in {"no-op", "read"}:
            continue
        result.append(
            Change(
                address=entry["address"],
                type=entry.get("type", ""),
                action=action,
                before=change.get("before") or {},
                after=change.get("after") or {},
                after_unknown=change.get("after_unknown") or {},
                replace_paths=tuple(tuple(path) for path in change.get("replace_paths") or ()),
            )
        )
    return result


def _changed(change: Change, key: str) -> bool:
    if change.after_unknown.get(key) is True:
        return True
    return change.before.get(key) != change.after.get(key)


def _paths_text(change: Change) -> str:
    paths = [".".join(str(part) for part in path) for path in change.replace_paths]
    return ", ".join(paths) if paths else "a force-new attribute"


def vanished_addresses(plan: Mapping[str, Any]) -> frozenset[str]:
    """Managed resources the refresh found gone (``resource_drift`` action ``delete``): the provider
    removed them from state because the remote object no longer exists."""
    return frozenset(
        entry["address"]
        for entry in plan.get("resource_drift") or []
        if entry.get("mode", "managed") == "managed"
        and (entry.get("change") or {}).get("actions") == ["delete"]
    )


def _resources(plan: Mapping[str, Any], section: str) -> Iterable[Mapping[str, Any]]:
    """Every resource of planned_values / prior_state, child modules included."""
    values = plan.get(section) or {}
    if section == "prior_state":
        values = values.get("values") or {}
    stack = [values.get("root_module") or {}]
    while stack:
        module = stack.pop()
        yield from module.get("resources", [])
        stack.extend(module.get("child_modules", []))


# ------------------------------------------------------------------------------------------ classifying

_SQL_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_CONTINUOUS = re.compile(
    r"^(INSERT\s|EXECUTE\s+STATEMENT\s+SET|STATEMENT\s+SET|BEGIN\s+STATEMENT\s+SET|SELECT\s|WITH\s"
    r"|CREATE\s+(OR\s+REPLACE\s+)?TABLE\s.*\sAS\s+(SELECT|WITH)\s)",
    re.IGNORECASE | re.DOTALL,
)


_NAME = r"(?:`[^`]+`|[\w$-]+)(?:\s*\.\s*(?:`[^`]+`|[\w$-]+))*"
_IDEMPOTENT_DDL = re.compile(
    r"^(CREATE\s+(TEMPORARY\s+)?(TABLE|VIEW|FUNCTION|DATABASE|MODEL)\s+IF\s+NOT\s+EXISTS\s"
    rf"|ALTER\s+TABLE\s+{_NAME}\s+(MODIFY\s+WATERMARK\s|SET\s*\(|RESET\s*\())",
    re.IGNORECASE,
)


def idempotent_ddl(text: object) -> bool:
    """A DDL statement that may run again on an existing object without failing or changing it:
    ``CREATE ... IF NOT EXISTS``, or ``ALTER TABLE ... MODIFY WATERMARK`` / ``SET (...)`` / ``RESET (...)``
    (each replaces the table's watermark or options with the same value)."""
    if not isinstance(text, str) or statement_kind(text) != "ddl":
        return False
    return _IDEMPOTENT_DDL.match(_SQL_COMMENTS.sub(" ", text).strip()) is not None


def statement_kind(text: object) -> str:
    """``continuous`` (runs and holds state) or ``ddl`` (completes); unknown text counts as continuous."""
    if not isinstance(text, str) or not text.strip():
        return "continuous"
    body = _SQL_COMMENTS.sub(" ", text).strip()
    return "continuous" if _CONTINUOUS.match(body) else "ddl"


def _recreate_findings(change: Change) -> list[Finding]:
    """A statement the refresh found gone is created again under the same address."""
    text = change.after.get("statement")
    if statement_kind(text) != "ddl":
        return []  # a continuous statement re-created from its startup offsets: as any create
    name = change.after.get("statement_name") or change.address
    gone = (
        f"DDL statement {name} no longer exists in Confluent (completed statements are deleted after "
        "about 30 days) and Terraform submits it again"
    )
    if idempotent_ddl(text):
        return [
            Finding(
                "flink-ddl-recreate",
                change.address,
                change.action,
                f"{gone}: its text is idempotent (IF NOT EXISTS / MODIFY WATERMARK / SET), so it completes "
                "without changing the existing table; nothing to do",
                blocking=False,
            )
        ]
    return [
        Finding(
            "flink-ddl-recreate-fails",
            change.address,
            change.action,
            f"{gone}: its text is not idempotent, so it fails at apply on the existing object (CREATE TABLE "
            "on an existing topic). Release a new version written with IF NOT EXISTS (see "
            "flink_statements/README.md)",
            blocking=True,
        )
    ]


def _statement_findings(change: Change, vanished: frozenset[str] = frozenset()) -> list[Finding]:
    if change.action == "create" and change.address in vanished:
        return _recreate_findings(change)
    name = change.before.get("statement_name") or change.address
    if change.action in {"replace", "delete"}:
        kind = statement_kind(change.before.get("statement"))
        state = "stopped" if change.before.get("stopped") else "running"
        verb = "deleted" if change.action == "delete" else f"replaced (force-new: {_paths_text(change)})"
        if kind == "ddl":
            if change.action == "delete":
                effect = "the objects it created stay"
            elif idempotent_ddl(change.after.get("statement")):
                effect = (
                    "the new text is idempotent: it completes without touching an existing object, so a "
                    "changed definition does not reach an existing table"
                )
            else:
                effect = "a re-submitted CREATE TABLE fails at apply if the table already exists"
            return [
                Finding(
                    "flink-statement-replace",
                    change.address,
                    change.action,
                    f"DDL statement {name} is {verb}: a completed DDL statement holds no streaming state; "
                    f"{effect}",
                    blocking=False,
                )
            ]
        successor = change.after.get("statement_name") if change.action == "replace" else None
        renamed = f"; its successor is {successor}" if successor and successor != name else ""
        return [
            Finding(
                "flink-statement-replace",
                change.address,
                change.action,
                f"{state} continuous statement {name} is {verb}{renamed}: its state (dedup keys, "
                "offsets) is lost; a stateful statement cannot carry offsets over, so the new one "
                "re-reads from its startup offsets (see flink_statements/README.md for the cutover)",
                blocking=True,
            )
        ]
    if change.action != "update":
        return []
    rejected = [key for key in ("properties", "statement_name", "credentials") if _changed(change, key)]
    findings = []
    if rejected:
        findings.append(
            Finding(
                "flink-statement-in-place",
                change.address,
                change.action,
                f"statement {name}: {', '.join(rejected)} changed in place; the provider fails at apply "
                "(immutable after submission). Give the statement a new version instead",
                blocking=True,
            )
        )
    stopping = not change.before.get("stopped") and change.after.get("stopped") is True
    others = [
        key
        for key in sorted(set(change.before) | set(change.after))
        if key not in {"stopped", "latest_offsets", "latest_offsets_timestamp", "properties_sensitive"}
        and key in change.after
        and _changed(change, key)
    ]
    if stopping and others:
        findings.append(
            Finding(
                "flink-statement-in-place",
                change.address,
                change.action,
                f"statement {name} is stopped together with other changes ({', '.join(others)}); the "
                "provider allows nothing else to change in the apply that stops a statement",
                blocking=True,
            )
        )
    return findings


def _topic_findings(change: Change) -> list[Finding]:
    if change.action not in {"replace", "delete"}:
        return []
    topic = change.before.get("topic_name") or change.address
    if change.action == "delete":
        why = f"topic {topic} is deleted: every record in it is lost"
    else:
        old, new = change.before.get("partitions_count"), change.after.get("partitions_count")
        if isinstance(old, int) and isinstance(new, int) and new < old:
            cause = f"partitions_count decreases {old} -> {new} (Kafka cannot remove partitions)"
        else:
            cause = f"force-new change of {_paths_text(change)}"
        why = f"topic {topic} is deleted and recreated: {cause}; every record in it is lost"
    return [Finding("topic-recreate", change.address, change.action, why, blocking=True)]


def _subject_levels(plan: Mapping[str, Any]) -> dict[str, str]:
    levels: dict[str, str] = {}
    for section in ("prior_state", "planned_values"):
        for resource in _resources(plan, section):
            if resource.get("type") == "confluent_subject_config":
                values = resource.get("values") or {}
                if values.get("subject_name") and values.get("compatibility_level"):
                    levels[values["subject_name"]] = values["compatibility_level"]
    return levels


def schema_compatibility(old: str, new: str, level: str) -> list[str]:
    """Reasons ``new`` may not follow ``old`` under ``level`` (plus the repo's no-removed-field rule)."""
    from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType
    from avro.schema import parse

    from salesflow.contracts import field_paths

    old_json, new_json = json.loads(old), json.loads(new)
    checker = ReaderWriterCompatibilityChecker()
    directions = []
    if not level.startswith("FORWARD"):
        directions.append(("BACKWARD", new, old))  # the new schema reads old data
    if level.startswith(("FORWARD", "FULL")):
        directions.append(("FORWARD", old, new))  # old readers read new data
    reasons = []
    for name, reader, writer in directions:
        result = checker.get_compatibility(reader=parse(reader), writer=parse(writer))
        if result.compatibility is not SchemaCompatibilityType.compatible:
            reasons += [f"not {name} compatible: {message}" for message in sorted(result.messages)]
    removed = sorted(field_paths(old_json) - field_paths(new_json))
    reasons += [f"field {path!r} removed (consumers read it by name)" for path in removed]
    return reasons


def _schema_findings(change: Change, levels: Mapping[str, str]) -> list[Finding]:
    subject = change.before.get("subject_name") or change.after.get("subject_name") or change.address
    if change.action in {"replace", "delete"}:
        hard = " permanently (hard_delete)" if change.before.get("hard_delete") else ""
        cause = "deleted" if change.action == "delete" else f"recreated (force-new: {_paths_text(change)})"
        return [
            Finding(
                "schema-subject-change",
                change.address,
                change.action,
                f"subject {subject} is {cause}: its versions are deleted{hard}; producers that use the "
                "latest registered version and every table reading the subject break",
                blocking=True,
            )
        ]
    if change.action != "update" or not _changed(change, "schema"):
        return []
    level = levels.get(subject, "BACKWARD")
    if change.after_unknown.get("schema") is True or not change.after.get("schema"):
        return [
            Finding(
                "schema-subject-change",
                change.address,
                change.action,
                f"subject {subject}: the new schema is known only at apply; compatibility ({level}) "
                "cannot be checked here",
                blocking=False,
            )
        ]
    if (change.after.get("format") or "AVRO") != "AVRO":
        return [
            Finding(
                "schema-subject-change",
                change.address,
                change.action,
                f"subject {subject}: {change.after.get('format')} schemas are not checked here; "
                "Schema Registry checks them at plan and apply",
                blocking=False,
            )
        ]
    if level == "NONE":
        return [
            Finding(
                "schema-subject-change",
                change.address,
                change.action,
                f"subject {subject} has compatibility NONE: Schema Registry accepts any schema",
                blocking=False,
            )
        ]
    try:
        reasons = schema_compatibility(change.before["schema"], change.after["schema"], level)
    except (ValueError, KeyError, TypeError) as exc:
        return [
            Finding(
                "schema-subject-change",
                change.address,
                change.action,
                f"subject {subject}: the schema cannot be parsed here ({type(exc).__name__}); "
                "Schema Registry checks it at plan and apply",
                blocking=False,
            )
        ]
    if not reasons:
        return []
    return [
        Finding(
            "schema-subject-change",
            change.address,
            change.action,
            f"subject {subject} ({level}): incompatible change: {'; '.join(reasons)}",
            blocking=True,
        )
    ]


def _subject_config_findings(change: Change) -> list[Finding]:
    subject = change.before.get("subject_name") or change.address
    if change.action == "delete":
        why = f"subject {subject} loses its compatibility rule (falls back to the registry default)"
    elif change.action == "update" and _changed(change, "compatibility_level"):
        old, new = change.before.get("compatibility_level"), change.after.get("compatibility_level")
        why = f"subject {subject} compatibility {old} -> {new}"
    else:
        return []
    return [Finding("schema-subject-change", change.address, change.action, why, blocking=False)]


def _tableflow_findings(change: Change) -> list[Finding]:
    if change.action not in {"replace", "delete"}:
        return []
    topic = change.before.get("display_name") or change.address
    if change.action == "delete":
        data = (
            "its files stay in your bucket, but re-enabling needs an empty location"
            if change.before.get("byob_aws")
            else "Confluent deletes its managed-storage data within days"
        )
        why = (
            f"Tableflow is disabled on {topic}: the Iceberg table stops and {data}; the weekly export "
            "has nothing to read"
        )
    else:
        why = (
            f"Tableflow on {topic} is recreated (force-new: {_paths_text(change)}): the new table holds "
            "only what the topic still retains; older weeks are gone"
        )
    return [Finding("tableflow-disable", change.address, change.action, why, blocking=True)]


def _bucket_findings(change: Change) -> list[Finding]:
    if change.action not in {"replace", "delete"}:
        return []
    bucket = change.before.get("bucket") or change.address
    force = change.before.get("force_destroy")
    consequence = (
        "force_destroy deletes every object in it"
        if force
        else "the delete fails while it holds objects, leaving the apply half done"
    )
    cause = "deleted" if change.action == "delete" else f"replaced (force-new: {_paths_text(change)})"
    why = (
        f"bucket {bucket} is {cause}: {consequence}; exports and retained artifacts (a revert needs "
        "them) are lost"
    )
    return [Finding("bucket-replace", change.address, change.action, why, blocking=True)]


ArtifactExists = Callable[[str, str, str | None], bool]


def _lambda_findings(
    change: Change, artifact_exists: ArtifactExists | None, built_keys: frozenset[str]
) -> list[Finding]:
    if change.action not in {"create", "update", "replace"}:
        return []
    after, unknown = change.after, change.after_unknown
    name = after.get("function_name") or change.address
    if any(after.get(key) for key in ("filename", "image_uri")):
        return []
    if unknown.get("s3_key") is True or unknown.get("s3_bucket") is True:
        return [
            Finding(
                "lambda-artifact-missing",
                change.address,
                change.action,
                f"function {name}: the artifact key is known only at apply and cannot be checked",
                blocking=False,
            )
        ]
    bucket, key = after.get("s3_bucket"), after.get("s3_key")
    if not bucket or not key:
        return [
            Finding(
                "lambda-artifact-missing",
                change.address,
                change.action,
                f"function {name} has no code: neither filename, image_uri nor s3_bucket/s3_key; run "
                "`make package` before `make synth`",
                blocking=True,
            )
        ]
    if key in built_keys or artifact_exists is None:
        return []
    if artifact_exists(bucket, key, after.get("s3_object_version")):
        return []
    return [
        Finding(
            "lambda-artifact-missing",
            change.address,
            change.action,
            f"function {name}: s3://{bucket}/{key} does not exist and this pipeline does not build it; "
            "the apply would fail (rebuild it with `make package` from the commit that produced it)",
            blocking=True,
        )
    ]


def classify(
    plan: Mapping[str, Any],
    *,
    label: str = "",
    artifact_exists: ArtifactExists | None = None,
    built_keys: Iterable[str] = (),
) -> PlanReport:
    """Every finding of one plan, in plan order."""
    changes = managed_changes(plan)
    levels = _subject_levels(plan)
    vanished = vanished_addresses(plan)
    built = frozenset(built_keys)
    findings: list[Finding] = []
    for change in changes:
        if change.type == "confluent_flink_statement":
            found = _statement_findings(change, vanished)
        elif change.type == "confluent_kafka_topic":
            found = _topic_findings(change)
        elif change.type == "confluent_schema":
            found = _schema_findings(change, levels)
        elif change.type == "confluent_subject_config":
            found = _subject_config_findings(change)
        elif change.type == "confluent_tableflow_topic":
            found = _tableflow_findings(change)
        elif change.type == "aws_s3_bucket":
            found = _bucket_findings(change)
        elif change.type == "aws_lambda_function":
            found = _lambda_findings(change, artifact_exists, built)
        else:
            found = []
        findings += [replace(finding, plan=label) for finding in found]
    return PlanReport(label, changes, findings, Counter(change.action for change in changes))


# ------------------------------------------------------------------------------------------ allowances


def parse_labels(text: str | None) -> list[str]:
    """Labels from the environment: a JSON list (``toJSON(github.event.pull_request.labels.*.name)``)
    or a comma-separated string."""
    if not text or not text.strip():
        return []
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            values = json.loads(stripped)
        except json.JSONDecodeError:
            raise GuardError(f"labels {stripped[:80]!r}: not a JSON list of strings") from None
        if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
            raise GuardError(f"labels {stripped[:80]!r}: not a JSON list of strings")
        return values
    return [part.strip() for part in stripped.split(",") if part.strip()]


def allowances(flags: Iterable[str], labels: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """Map class -> what allowed it, and warnings about allow labels/flags that mean nothing."""
    allowed: dict[str, str] = {}
    warnings: list[str] = []
    for flag in flags:
        if flag not in CLASSES:
            raise GuardError(f"--allow {flag}: unknown class; use one of {', '.join(CLASSES)}")
        allowed.setdefault(flag, f"--allow {flag}")
    for label in labels:
        if label == ALLOW_ALL_STATE_LOSS_LABEL:
            for name, cls in CLASSES.items():
                if cls.category == STATE_LOSS:
                    allowed.setdefault(name, f"label {label}")
        elif label.startswith(LABEL_PREFIX):
            name = label.removeprefix(LABEL_PREFIX)
            if name in CLASSES:
                allowed.setdefault(name, f"label {label}")
            else:
                warnings.append(f"label {label!r} allows nothing (no class {name!r})")
    return allowed, warnings


def only_notices(reports: Sequence[PlanReport], findings: Sequence[Finding]) -> bool:
    """The plans change something, and every change is explained by notices alone (category notice):
    the drift is expected and harmless, so nobody needs to be told (drift.yml opens no issue)."""
    changed = {(report.label, change.address) for report in reports for change in report.changes}
    noticed = {(finding.plan, finding.address) for finding in findings}
    return (
        bool(changed)
        and changed <= noticed
        and all(CLASSES[finding.cls].category == NOTICE for finding in findings)
    )


def apply_allowances(findings: Iterable[Finding], allowed: Mapping[str, str]) -> list[Finding]:
    return [
        replace(finding, allowed_by=allowed.get(finding.cls)) if finding.blocking else finding
        for finding in findings
    ]
