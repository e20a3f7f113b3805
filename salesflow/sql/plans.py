"""Reading Flink's ``EXPLAIN CHANGELOG_MODE`` output: what a statement emits into its sink.

The clean topic is append-only (``'changelog.mode' = 'append'``; Tableflow materialises it in APPEND
mode), so the statement must emit inserts only: the node feeding the sink has ``changelogMode=[I]``.
A keep-last dedup (``ORDER BY `$rowtime` DESC``) or mini-batch settings turn it into an updating plan
(``[I,UB,UA]``), which Confluent would reject at submission or Tableflow could not append.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SINK = re.compile(r"^Sink\(table=\[(?P<table>[^\]]+)\]")
_MODE = re.compile(r"changelogMode=\[(?P<mode>[^\]]*)\]")


class NotInsertOnlyError(AssertionError):
    """A statement would emit updates or deletes into an append-only table."""


@dataclass(frozen=True)
class SinkInput:
    table: str  # fully qualified, as the plan prints it: catalog.database.table
    changelog_mode: str  # e.g. "I" or "I,UB,UA"
    node: str  # the plan line of the node feeding the sink


def physical_plan(explain_text: str) -> str:
    """The '== Optimized Physical Plan ==' section (it carries the changelog modes)."""
    match = re.search(r"== Optimized Physical Plan ==\n(.*?)(?:\n\n==|\Z)", explain_text, re.DOTALL)
    if match is None:
        raise ValueError("no '== Optimized Physical Plan ==' section: was it EXPLAIN CHANGELOG_MODE output?")
    return match.group(1)


def sink_inputs(explain_text: str) -> list[SinkInput]:
    """For each sink in the plan, the changelog mode of the node that feeds it."""
    lines = physical_plan(explain_text).splitlines()
    found = []
    for index, line in enumerate(lines):
        sink = _SINK.match(line.strip())
        if sink is None:
            continue
        child = lines[index + 1] if index + 1 < len(lines) else ""
        modes = _MODE.findall(child)
        if not modes:
            raise ValueError(
                f"no changelogMode on the node under {line.strip()[:80]}: use EXPLAIN CHANGELOG_MODE"
            )
        found.append(SinkInput(sink.group("table"), modes[-1], child.strip()))
    if not found:
        raise ValueError("the plan has no Sink node: explain an INSERT statement")
    return found


def insert_only_problems(explain_text: str) -> list[str]:
    """Why the statement is not insert-only into every sink (empty when it is)."""
    return [
        f"{sink.table} receives changelogMode=[{sink.changelog_mode}] from {sink.node[:160]}"
        for sink in sink_inputs(explain_text)
        if sink.changelog_mode != "I"
    ]


def check_insert_only(explain_text: str) -> None:
    problems = insert_only_problems(explain_text)
    if problems:
        raise NotInsertOnlyError(
            "the statement is not insert-only (the clean topic is append-only): " + "; ".join(problems)
        )
