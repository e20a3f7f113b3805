"""Render the Flink statements in ``flink_statements/`` from an environment's configuration.

The same templates serve two targets:

* ``confluent``: the text Terraform submits. The PII pepper is a Terraform expression reading the
  AWS Secrets Manager secret named in the config, so no pepper value is ever in this repo or in the
  synthesized JSON (Terraform resolves it at plan time, as a sensitive value).
* ``local``: the text the local Flink harness runs, with a pepper literal given by the caller.

Rendering is deterministic and fails on any undefined variable.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import jinja2
import yaml
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from salesflow.config import DEDUP_VARIANTS, REPO_ROOT, DedupVariant, Environment
from salesflow.sql.properties import STARTUP_MODE, STARTUP_TIMESTAMP

STATEMENTS_DIR = REPO_ROOT / "flink_statements"
SPEC_FILE = STATEMENTS_DIR / "statements.yaml"
Target = Literal["confluent", "local"]

# The Confluent stack declares this data source (logical id pii_pepper) for the secret named in
# confluent.pii.pepper_secret; quotes are doubled so any pepper is a valid SQL string literal.
PEPPER_TERRAFORM_REFERENCE = "data.aws_secretsmanager_secret_version.pii_pepper.secret_string"
CONFLUENT_PEPPER = "${replace(" + PEPPER_TERRAFORM_REFERENCE + ', "\'", "\'\'")}'
# Local runs only: not a secret, and never used by the confluent target.
LOCAL_PEPPER_VARIABLE = "SALESFLOW_PII_PEPPER"
LOCAL_PEPPER_DEFAULT = "salesflow-local-only-pepper"

_INTERVAL_UNITS = {"s": "SECOND", "min": "MINUTE", "h": "HOUR", "d": "DAY"}
_IF_NOT_EXISTS = re.compile(r"^(CREATE\s+TABLE\s+)IF\s+NOT\s+EXISTS\s+", re.IGNORECASE)


class RenderError(ValueError):
    """A template or the statement list cannot be rendered; the message names the file and the fix."""


class VersionSpec(BaseModel):
    """A version with a cutover start: ``{version: 2, start_from: "2026-12-07T05:00:00Z"}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Annotated[int, Field(ge=1)]
    # The new version reads the raw topic from this instant instead of the earliest offset.
    start_from: AwareDatetime


class StatementSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]+$")]
    template: str
    kind: Literal["ddl", "continuous"]
    versions: dict[str, Annotated[int, Field(ge=1)] | VersionSpec]
    depends_on: tuple[str, ...] = ()
    properties: dict[str, str] = {}
    # Rendered only for environments whose confluent.flink.dedup is this variant (None: always).
    dedup: DedupVariant | None = None

    def renders_for(self, environment: Environment) -> bool:
        return self.dedup is None or self.dedup == environment.confluent.flink.dedup

    @model_validator(mode="after")
    def _cutover_only_for_continuous(self) -> StatementSpec:
        if self.kind != "continuous" and any(isinstance(v, VersionSpec) for v in self.versions.values()):
            raise ValueError(f"{self.id}: start_from applies to continuous statements only")
        return self


class StatementList(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    statements: list[StatementSpec]


@dataclass(frozen=True)
class RenderedStatement:
    id: str
    name: str
    kind: str
    version: int
    text: str
    properties: dict[str, str]
    depends_on: tuple[str, ...] = ()
    dependency_hashes: tuple[str, ...] = field(default=(), repr=False)

    @property
    def sha256(self) -> str:
        """Identity of what runs: text, properties and the statements it depends on."""
        return _identity(self.text, self.properties, self.dependency_hashes)

    @property
    def definition_sha256(self) -> str:
        """Identity of what the statement defines, which is what its dependents' hashes include: a running
        statement keeps the table definitions it started with, and an ``IF NOT EXISTS`` guard changes
        when a CREATE runs, not the table it defines (so adding one needs no new version downstream)."""
        return _identity(_IF_NOT_EXISTS.sub(r"\1", self.text), self.properties, self.dependency_hashes)

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "version": self.version,
            "properties": self.properties,
            "depends_on": list(self.depends_on),
            "sha256": self.sha256,
            "text": self.text,
        }


def load_specs(path: Path = SPEC_FILE) -> list[StatementSpec]:
    try:
        specs = StatementList.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))).statements
    except ValidationError as exc:
        raise RenderError(f"{path}: {exc}") from None
    known: dict[str, StatementSpec] = {}
    for spec in specs:
        missing = [dependency for dependency in spec.depends_on if dependency not in known]
        if missing:
            raise RenderError(f"{path}: {spec.id} depends on {missing}, which must be listed before it")
        narrower = [d for d in spec.depends_on if known[d].dedup not in (None, spec.dedup)]
        if narrower:
            raise RenderError(
                f"{path}: {spec.id} depends on {narrower}, which only some dedup variants render; "
                "depend on statements every variant renders"
            )
        if spec.id in known:
            raise RenderError(f"{path}: statement id {spec.id} is listed twice; ids name statements")
        known[spec.id] = spec
    return specs


def local_pepper() -> str:
    return os.environ.get(LOCAL_PEPPER_VARIABLE, LOCAL_PEPPER_DEFAULT)


def sql_string_content(value: str) -> str:
    """Content of a SQL string literal: single quotes doubled."""
    return value.replace("'", "''")


def sql_interval(field: str, duration: str) -> dict[str, object]:
    """A config duration (``10 min``) as the parts of a Flink ``INTERVAL '10' MINUTE`` literal."""
    amount, unit = duration.split()
    if unit not in _INTERVAL_UNITS:
        raise RenderError(f"{field}: use s, min, h or d for an interval, not {unit!r}")
    if int(amount) > 99:  # Flink's interval literals default to a precision of 2 digits
        raise RenderError(f"{field}: {duration!r} has more than 2 digits; use a larger unit")
    return {"amount": int(amount), "unit": _INTERVAL_UNITS[unit]}


def template_context(environment: Environment, pepper_sql: str) -> dict[str, object]:
    confluent = environment.confluent
    return {
        "env": environment.name,
        "catalog": environment.flink_catalog,
        "database": environment.flink_database,
        "raw_topic": confluent.topics.raw.name,
        "clean_topic": confluent.topics.clean.name,
        "clean_partitions": confluent.topics.clean.partitions,
        "clean_retention_ms": confluent.topics.clean.retention_ms,
        "state_ttl": confluent.flink.state_ttl,
        "time_zone": confluent.flink.time_zone,
        "watermark_delay": sql_interval("confluent.flink.watermark_delay", confluent.flink.watermark_delay),
        "dedup": confluent.flink.dedup,
        "dedup_window": sql_interval("confluent.flink.dedup_window", confluent.flink.dedup_window),
        "pii_pepper": pepper_sql,
    }


def render_statements(
    environment: Environment,
    target: Target = "confluent",
    *,
    pepper: str | None = None,
    statements_dir: Path = STATEMENTS_DIR,
) -> list[RenderedStatement]:
    """Render every statement for ``environment`` in submission order (statements of the dedup
    variant it does not select are left out)."""
    if target == "confluent":
        if pepper is not None:
            raise RenderError("the confluent target never takes a pepper value: Terraform reads the secret")
        pepper_sql = CONFLUENT_PEPPER
    else:
        pepper_sql = sql_string_content(pepper if pepper is not None else local_pepper())
    context = template_context(environment, pepper_sql)
    loader = jinja2.Environment(
        loader=jinja2.FileSystemLoader(statements_dir),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - SQL, not HTML
    )
    rendered: dict[str, RenderedStatement] = {}
    for spec in load_specs(statements_dir / SPEC_FILE.name):
        if not spec.renders_for(environment):
            continue
        version_spec = spec.versions.get(environment.name)
        if version_spec is None:
            raise RenderError(
                f"{statements_dir / SPEC_FILE.name}: statement {spec.id} has no version for environment "
                f"{environment.name!r}; add `{environment.name}: 1` to its versions"
            )
        version = version_spec if isinstance(version_spec, int) else version_spec.version
        try:
            text = loader.get_template(spec.template).render(context)
            properties = {
                "sql.current-catalog": environment.flink_catalog,
                "sql.current-database": environment.flink_database,
            } | {key: loader.from_string(value).render(context) for key, value in spec.properties.items()}
            if isinstance(version_spec, VersionSpec):
                properties |= _startup_properties(version_spec)
        except jinja2.UndefinedError as exc:
            raise RenderError(
                f"{statements_dir / spec.template}: {exc.message}; it is not in the context"
            ) from None
        except jinja2.TemplateNotFound:
            raise RenderError(f"{statements_dir / spec.template}: template not found") from None
        dependencies = tuple(rendered[dependency] for dependency in spec.depends_on)
        rendered[spec.id] = RenderedStatement(
            id=spec.id,
            name=f"{environment.name}-{spec.id}-v{version}",
            kind=spec.kind,
            version=version,
            text=_strip_comment_header(text),
            properties=dict(sorted(properties.items())),
            depends_on=tuple(dependency.name for dependency in dependencies),
            dependency_hashes=tuple(dependency.definition_sha256 for dependency in dependencies),
        )
    return list(rendered.values())


def creates_table(statement: RenderedStatement, table: str) -> bool:
    """Whether ``statement`` is the DDL that creates ``table`` (``CREATE TABLE [IF NOT EXISTS] table``)."""
    pattern = rf"^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?{re.escape(table)}`?[\s(]"
    return statement.kind == "ddl" and re.search(pattern, statement.text, re.IGNORECASE) is not None


def render_every_variant(
    environment: Environment, statements_dir: Path = STATEMENTS_DIR
) -> list[RenderedStatement]:
    """The confluent statements of ``environment`` under each dedup variant, each name once: what the
    lock holds. A statement listed for every variant must render the same under each."""
    by_name: dict[str, RenderedStatement] = {}
    for variant in DEDUP_VARIANTS:
        for statement in render_statements(environment.with_dedup(variant), statements_dir=statements_dir):
            seen = by_name.setdefault(statement.name, statement)
            if seen.sha256 != statement.sha256:
                raise RenderError(
                    f"{statement.name} renders differently per dedup variant; give each variant its own "
                    "statement (`dedup:` in statements.yaml)"
                )
    return list(by_name.values())


def _startup_properties(version: VersionSpec) -> dict[str, str]:
    """Confluent statement properties that start a new version at ``start_from`` (see README: cutover)."""
    return {
        STARTUP_MODE: "timestamp",
        STARTUP_TIMESTAMP: str(int(version.start_from.timestamp() * 1000)),
    }


def _identity(text: str, properties: dict[str, str], dependency_hashes: tuple[str, ...]) -> str:
    payload = json.dumps(
        {"text": text, "properties": properties, "depends_on": list(dependency_hashes)},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _strip_comment_header(text: str) -> str:
    """Drop the leading ``--`` comment block: it documents the template, not the statement."""
    lines = text.splitlines()
    while lines and lines[0].startswith("--"):
        lines.pop(0)
    return "\n".join(lines).strip() + "\n"
