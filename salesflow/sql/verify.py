"""Ask Confluent Cloud's own planner about every statement before merge (``salesflow sql verify``).

For each statement ``render_statements(env, "confluent")`` returns (whatever the templates hold), with
the Terraform pepper expression replaced by a random stand-in of the real pepper's shape:

* a DDL statement already applied in the environment (its production name exists) is not submitted
  again by the apply and is reported as such; any other statement gets a **dry run**
  (``sql.dry-run = true``: parsed, validated, planned, never executed) and must end COMPLETED; a
  FAILED one is reported with Confluent's own ``status.detail``;
* a continuous ``INSERT INTO <table> <query>`` also gets a dry run of its query alone, whose
  ``status.traits`` must say ``is_append_only`` and whose result columns must be the clean contract's
  (``schemas/sales_order_line.avsc``, names, order and types), and an ``EXPLAIN`` whose sink must be
  ``Changelog mode: append``; the state size of every operator is reported;
* first deploy: the INSERT cannot be planned before its table exists (a dry run of the CREATE creates
  nothing). When the clean table's CREATE is not applied yet and the INSERT fails on an unknown table,
  the query, its traits and its EXPLAIN are still checked and the INSERT is reported as "needs the
  table"; that passes only with ``first_deploy_allowed`` (``--first-deploy``).

Every throwaway statement (``<env>-verify-<revision>-<id>[-query|-explain]``) is deleted at the end:
on success, failure, timeout and interruption. Statement text is never logged or reported.
"""

from __future__ import annotations

import re
import secrets
import signal
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from typing import Any

from salesflow.cli_options import markdown_table, text_table
from salesflow.cloud.confluent_http import ConfluentApiError
from salesflow.cloud.flink_statements import (
    DRY_RUN,
    FlinkStatements,
    Statement,
    StatementExists,
    StatementTimeout,
)
from salesflow.config import Environment
from salesflow.contracts import SALES_ORDER_LINE, load_schema_json
from salesflow.sql.avro_types import Column, record_columns
from salesflow.sql.confluent_plans import PlanError, explain_text, parse_plan, result_columns
from salesflow.sql.render import (
    CONFLUENT_PEPPER,
    RenderedStatement,
    creates_table,
    render_statements,
    sql_string_content,
)

MAX_NAME_LENGTH = 100
AUTH_FAILURES = frozenset({401, 403})
CONTRACT_FILE = f"schemas/{SALES_ORDER_LINE}.avsc"

# Confluent's detail for a table the planner cannot see. Its wording ("Table (or view) '<name>' does not
# exist, may be on a private cluster, or you do not have permission to access it") also covers a
# missing permission, hence the first-deploy rule above. Apache Flink's own wordings are kept as well.
UNKNOWN_TABLE_PATTERNS = (
    r"does not exist, may be on a private cluster",
    r"\bdoes not exist\b",
    r"\bnot found\b",
)
_INSERT = re.compile(
    r"^\s*INSERT\s+INTO\s+(?P<target>(?:`[^`]+`|[\w$]+)(?:\s*\.\s*(?:`[^`]+`|[\w$]+))*)\s*(?:\([^)]*\)\s*)?"
    r"(?P<query>(?:SELECT|WITH)\b.*?);?\s*$",
    re.IGNORECASE | re.DOTALL,
)


def stand_in_pepper() -> str:
    """A random pepper of the real one's shape (64 hex characters, 256 bits). Not a secret: the real
    pepper never leaves AWS Secrets Manager."""
    return secrets.token_hex(32)


def throwaway_name(environment: str, revision: str, statement_id: str, suffix: str = "") -> str:
    """``<env>-verify-<revision>-<id>[-suffix]``: lowercase letters, digits and ``-``, at most 100."""
    raw = "-".join(part for part in (environment, "verify", revision, statement_id, suffix) if part)
    name = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", raw.lower())).strip("-")
    return name[:MAX_NAME_LENGTH].rstrip("-")


def insert_query(text: str) -> tuple[str, str] | None:
    """(target table, query) of ``INSERT INTO <table> <query>``; None for anything else."""
    match = _INSERT.match(text)
    return (match["target"].replace("`", ""), match["query"].strip()) if match else None


def is_unknown_table(detail: str, table: str) -> bool:
    """Does Confluent's detail say that ``table`` cannot be found? (The one place that reads its wording.)"""
    if table.lower() not in detail.lower():
        return False
    return any(re.search(pattern, detail, re.IGNORECASE) for pattern in UNKNOWN_TABLE_PATTERNS)


@dataclass
class Check:
    """One row of the report."""

    statement: str  # production name, e.g. dev-sales-order-lines-v1
    step: str  # dry run | query dry run | EXPLAIN | applied
    verdict: str
    ok: bool
    append_only: bool | None = None
    state_size: str | None = None
    detail: str = ""
    throwaway: str | None = None
    operators: dict[str, str] = field(default_factory=dict)


@dataclass
class Report:
    environment: str
    revision: str
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    cleanup_failures: list[str] = field(default_factory=list)
    first_deploy: bool = False
    interrupted: str | None = None

    @property
    def ok(self) -> bool:
        return (
            bool(self.checks)
            and all(check.ok for check in self.checks)
            and not self.cleanup_failures
            and self.interrupted is None
        )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def _contract_differences(actual: list[Column]) -> tuple[list[str], list[str]]:
    """(problems, notes): names, order and types must match; nullability differences are notes (the
    table's NOT NULL columns reject a null at run time)."""
    expected = record_columns(load_schema_json(SALES_ORDER_LINE))
    problems: list[str] = []
    if [c.name for c in expected] != [c.name for c in actual]:
        problems.append(f"columns {[c.name for c in actual]}, contract {[c.name for c in expected]}")
    notes = []
    for want, got in zip(expected, actual, strict=False):
        if want.name == got.name and want.type != got.type:
            problems.append(f"column {want.name!r} is {got.type}, contract {want.type}")
        elif want.name == got.name and want.nullable != got.nullable:
            notes.append(f"column {want.name!r} is {'' if got.nullable else 'NOT '}NULL in the result")
    return problems, notes


class Verifier:
    def __init__(
        self,
        environment: Environment,
        client: FlinkStatements,
        *,
        compute_pool_id: str,
        revision: str,
        timeout: float,
        poll_interval: float,
        first_deploy_allowed: bool = False,
        statements: list[RenderedStatement] | None = None,
        shield: Callable[[], AbstractContextManager[Any]] = nullcontext,
    ) -> None:
        self.environment = environment
        self.client = client
        self.compute_pool_id = compute_pool_id
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.first_deploy_allowed = first_deploy_allowed
        self.statements = (
            statements if statements is not None else render_statements(environment, "confluent")
        )
        self.shield = shield
        self.clean_table = environment.confluent.topics.clean.name
        self.report = Report(environment.name, revision)
        self._pepper = sql_string_content(stand_in_pepper())

    # -- the run --------------------------------------------------------------------------------------

    def run(self) -> Report:
        """Verify every statement, then delete every throwaway statement, whatever happened."""
        try:
            clean_table_applied = True
            for statement in self.statements:
                if statement.kind == "ddl":
                    applied = self._verify_ddl(statement)
                    if creates_table(statement, self.clean_table):
                        clean_table_applied = applied
                else:
                    self._verify_continuous(statement, clean_table_applied)
        finally:
            with self.shield():
                self.cleanup()
        return self.report

    def cleanup(self) -> None:
        for name in dict.fromkeys(self.report.created):
            try:
                self.client.delete(name)
                self.report.deleted.append(name)
            except ConfluentApiError as exc:
                self.report.cleanup_failures.append(f"{name}: {exc}")

    def _text(self, statement: RenderedStatement) -> str:
        text = statement.text.replace(CONFLUENT_PEPPER, self._pepper)
        if "${" in text:
            raise ConfluentApiError(
                f"{statement.name}: the text still holds a Terraform expression after the pepper stand-in; "
                "verify knows only the pepper expression of salesflow/sql/render.py"
            )
        return text

    def _name(self, statement: RenderedStatement, suffix: str = "") -> str:
        return throwaway_name(self.environment.name, self.report.revision, statement.id, suffix)

    def _add(self, check: Check) -> Check:
        self.report.checks.append(check)
        return check

    # -- steps ----------------------------------------------------------------------------------------

    def _verify_ddl(self, statement: RenderedStatement) -> bool:
        """Dry-run a DDL statement unless it is applied already. Returns whether it is applied."""
        if self.client.get(statement.name) is not None:
            self._add(
                Check(
                    statement.name,
                    "applied",
                    "already applied",
                    True,
                    detail="the apply does not submit it again",
                )
            )
            return True
        self._dry_run(statement, self._text(statement), "dry run")
        return False

    def _verify_continuous(self, statement: RenderedStatement, clean_table_applied: bool) -> None:
        text = self._text(statement)
        insert = self._dry_run(statement, text, "dry run", table_check=not clean_table_applied)
        parsed = insert_query(text)
        query = None
        if parsed is None:
            self.report.notes.append(
                f"{statement.name}: not a single INSERT INTO ... SELECT; its query is not checked"
            )
        else:
            query = self._verify_query(statement, parsed[1])
        if insert is not None:
            self._explain(statement, text, "EXPLAIN")
        elif query is not None and self.report.first_deploy:
            self._explain(statement, parsed[1] if parsed else text, "EXPLAIN (query)")

    def _dry_run(
        self, statement: RenderedStatement, text: str, step: str, *, table_check: bool = False
    ) -> Statement | None:
        """Submit ``text`` as a dry run; add its check; return the COMPLETED statement (else None)."""
        name = self._name(statement)
        final = self._submit_and_wait(statement, name, text, step, {**statement.properties, DRY_RUN: "true"})
        if final is None:
            return None
        if final.phase == "COMPLETED":
            traits = final.status.traits
            continuous = statement.kind == "continuous"
            append_only = traits.is_append_only if traits and continuous else None
            if append_only is False:
                self._add(
                    Check(
                        statement.name,
                        step,
                        "not append-only",
                        False,
                        False,
                        detail=_upsert(final),
                        throwaway=name,
                    )
                )
                return None
            self._add(Check(statement.name, step, "valid", True, append_only, throwaway=name))
            return final
        detail = final.detail or f"ended {final.phase} without a detail"
        if table_check and is_unknown_table(detail, self.clean_table):
            self.report.first_deploy = True
            self._add(
                Check(
                    statement.name,
                    step,
                    "needs the table",
                    self.first_deploy_allowed,
                    detail=f"first deploy: `{self.clean_table}` does not exist yet, so the INSERT cannot be "
                    "validated until its CREATE TABLE is applied (or the verifier may not read it). "
                    f"Confluent said: {detail}",
                    throwaway=name,
                )
            )
            return None
        self._add(Check(statement.name, step, "invalid", False, detail=detail, throwaway=name))
        return None

    def _verify_query(self, statement: RenderedStatement, query: str) -> Statement | None:
        final = self._submit_and_wait(
            statement,
            self._name(statement, "query"),
            query,
            "query dry run",
            {**statement.properties, DRY_RUN: "true"},
        )
        name = self._name(statement, "query")
        if final is None:
            return None
        if final.phase != "COMPLETED":
            self._add(
                Check(statement.name, "query dry run", "invalid", False, detail=final.detail, throwaway=name)
            )
            return None
        traits = final.status.traits
        append_only = traits.is_append_only if traits else None
        problems, notes = [], []
        if append_only is not True:
            problems.append(
                "Confluent plans the query as updating (traits.is_append_only is false): " + _upsert(final)
                if append_only is False
                else "Confluent returned no traits.is_append_only for the query"
            )
        columns = traits.result_schema.columns if traits and traits.result_schema else []
        if not columns:
            problems.append("Confluent returned no result columns for the query")
        else:
            contract_problems, notes = _contract_differences(result_columns(columns))
            problems += [f"{CONTRACT_FILE}: {problem}" for problem in contract_problems]
        verdict = (
            "valid" if not problems else ("not append-only" if append_only is False else "contract mismatch")
        )
        detail = "; ".join(problems) or f"append-only; {len(columns)} columns match {CONTRACT_FILE}"
        if notes:
            detail += " (" + "; ".join(notes) + ")"
        self._add(
            Check(
                statement.name,
                "query dry run",
                verdict,
                not problems,
                append_only,
                detail=detail,
                throwaway=name,
            )
        )
        return final if not problems else None

    def _explain(self, statement: RenderedStatement, text: str, step: str) -> None:
        name = self._name(statement, "explain")
        properties = dict(statement.properties)
        final = self._submit_and_wait(statement, name, f"EXPLAIN {text}", step, properties)
        if final is None:
            return
        if final.phase != "COMPLETED":
            self._add(Check(statement.name, step, "invalid", False, detail=final.detail, throwaway=name))
            return
        try:
            plan = parse_plan(explain_text(self.client.results(name)))
        except PlanError as exc:
            self._add(Check(statement.name, step, "unreadable plan", False, detail=str(exc), throwaway=name))
            return
        mode, implied = plan.sink_changelog_mode()
        sink = plan.sink.label if plan.sink else "no sink"
        ok = mode == "append"
        implied_note = " (implied: no operator prints one)" if implied else ""
        detail = f"{sink}: Changelog mode {mode or 'unknown'}{implied_note}"
        self._add(
            Check(
                statement.name,
                step,
                "append" if ok else f"{mode or 'unknown'} at the sink",
                ok,
                append_only=ok if mode else None,
                state_size=plan.largest_state(),
                detail=detail,
                throwaway=name,
                operators=plan.state_sizes(),
            )
        )

    def _submit_and_wait(
        self,
        statement: RenderedStatement,
        name: str,
        text: str,
        step: str,
        properties: dict[str, str],
    ) -> Statement | None:
        """Create ``name`` (once more after deleting a leftover of the same name), wait for a terminal
        phase. On an API error or a timeout, add a failed check and return None; a refused key (401,
        403) stops the run."""
        # Recorded before the call: a create whose answer is lost (timeout, 5xx) may still have happened.
        self.report.created.append(name)
        try:
            try:
                self.client.create(name, text, properties=properties, compute_pool_id=self.compute_pool_id)
            except StatementExists:
                self.report.notes.append(
                    f"{name} existed (left by an earlier run of this revision?): replaced"
                )
                self.client.delete(name)
                self.client.wait_deleted(name, timeout=self.timeout, poll_interval=self.poll_interval)
                self.client.create(name, text, properties=properties, compute_pool_id=self.compute_pool_id)
            return self.client.wait(name, timeout=self.timeout, poll_interval=self.poll_interval)
        except StatementTimeout as exc:
            self._add(Check(statement.name, step, "timeout", False, detail=str(exc), throwaway=name))
        except ConfluentApiError as exc:
            if exc.status is not None and 400 <= exc.status < 500 and exc.status != 409:
                self.report.created.remove(name)  # refused: nothing was created
            if exc.status in AUTH_FAILURES:
                raise
            self._add(Check(statement.name, step, "error", False, detail=str(exc), throwaway=name))
        return None


def _upsert(statement: Statement) -> str:
    traits = statement.status.traits
    if traits and traits.upsert_columns:
        return f"upsert columns {traits.upsert_columns}"
    return "traits.is_append_only is false"


# -- rendering ---------------------------------------------------------------------------------------

COLUMNS = ("Statement", "Check", "Verdict", "Append-only", "State size", "Detail")


def _cells(check: Check) -> tuple[str, ...]:
    append_only = {True: "yes", False: "no", None: "-"}[check.append_only]
    return (check.statement, check.step, check.verdict, append_only, check.state_size or "-", check.detail)


def _summary(report: Report) -> Iterator[str]:
    if report.first_deploy:
        yield (
            "FIRST DEPLOY: the INSERT could not be validated because its table does not exist yet; "
            "the query, its traits and its plan were checked instead."
            + (
                ""
                if any(c.verdict == "needs the table" and c.ok for c in report.checks)
                else " Pass --first-deploy to accept that."
            )
        )
    yield from report.notes
    for check in report.checks:
        for operator, size in check.operators.items():
            yield f"{check.statement} {check.step}: {operator} state size {size}"
    created = len(dict.fromkeys(report.created))
    yield f"throwaway statements: {created} created, {len(report.deleted)} deleted"
    yield from (f"NOT DELETED: {failure}" for failure in report.cleanup_failures)
    if report.interrupted:
        yield f"interrupted by {report.interrupted}"
    yield "verdict: " + ("PASS" if report.ok else "FAIL")


def render_text(report: Report) -> str:
    table = text_table(COLUMNS, (_cells(check) for check in report.checks))
    return "\n".join([f"sql verify: {report.environment} @ {report.revision}", *table, "", *_summary(report)])


def render_markdown(report: Report) -> str:
    title = f"#### Confluent dry run: {report.environment} ({'pass' if report.ok else 'FAIL'})"
    rows = (_cells(check) for check in report.checks)
    lines = [title, "", *markdown_table(COLUMNS, rows), "", *(f"- {line}" for line in _summary(report))]
    return "\n".join(lines) + "\n"


# -- interruption ------------------------------------------------------------------------------------


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived (Ctrl-C, a cancelled CI job): stop, but clean up first. A
    BaseException, so no ``except Exception`` on the way swallows it."""


class Interrupts:
    """Turns SIGINT/SIGTERM into :class:`Interrupted` in the main thread, except inside ``shield()``
    (the cleanup), where a second Ctrl-C is noted and the deletions carry on."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.received: str | None = None
        self._shielded = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Interrupts:
        self._previous = {number: signal.signal(number, self._handle) for number in self.SIGNALS}
        return self

    def __exit__(self, *_: object) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _handle(self, number: int, _frame: object) -> None:
        self.received = signal.Signals(number).name
        if not self._shielded:
            raise Interrupted(self.received)

    @contextmanager
    def shield(self) -> Iterator[None]:
        self._shielded = True
        try:
            yield
        finally:
            self._shielded = False
