"""The guard's findings for people and machines: a plain-text table, the pull-request Markdown, JSON.

Nothing here prints an attribute value: findings carry only what ``guard.py`` chose to show.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from dataclasses import asdict

from salesflow.delivery.guard import (
    ALLOW_ALL_STATE_LOSS_LABEL,
    APPLY_FAILURE,
    CLASSES,
    LABEL_PREFIX,
    STATE_LOSS,
    Finding,
    PlanReport,
    only_notices,
)


def _blocking_cell(finding: Finding) -> str:
    if not finding.blocking:
        return "no (notice)"
    return f"allowed ({finding.allowed_by})" if finding.allowed_by else "YES"


def render_table(findings: Sequence[Finding], width: int = 64) -> str:
    """A plain-text table: class, address, action, why (wrapped), blocking."""
    if not findings:
        return "No findings: nothing in this plan loses state or fails at apply."
    header = ("CLASS", "ADDRESS", "ACTION", "WHY", "BLOCKING")
    rows = [
        (
            finding.cls,
            finding.address,
            finding.action,
            textwrap.wrap(finding.why, width) or [""],
            _blocking_cell(finding),
        )
        for finding in findings
    ]
    widths = [
        max(len(header[0]), *(len(row[0]) for row in rows)),
        max(len(header[1]), *(len(row[1]) for row in rows)),
        max(len(header[2]), *(len(row[2]) for row in rows)),
        max(len(header[3]), *(len(line) for row in rows for line in row[3])),
    ]

    def line(cells: Sequence[str]) -> str:
        padded = [cell.ljust(size) for cell, size in zip(cells[:4], widths, strict=True)]
        return "  ".join([*padded, cells[4]]).rstrip()

    out = [line(header), line(["-" * size for size in widths] + ["-" * len(header[4])])]
    for cls, address, action, why_lines, blocking in rows:
        out.append(line([cls, address, action, why_lines[0], blocking]))
        out += [line(["", "", "", extra, ""]) for extra in why_lines[1:]]
    return "\n".join(out)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(
    reports: Sequence[PlanReport],
    findings: Sequence[Finding],
    *,
    title: str,
    warnings: Sequence[str] = (),
    limit: int | None = None,
    overflow_note: str = "The full report is in the workflow run's job summary.",
) -> str:
    """The PR comment / job summary: per-plan summary, findings table, changed resources."""
    blocking = [finding for finding in findings if finding.blocks]
    if blocking:
        verdict = f"**Blocked**: {len(blocking)} finding(s) lose state or fail at apply (see the runbook)."
    elif any(finding.blocking for finding in findings):
        verdict = "**Allowed**: blocking findings are allowed explicitly."
    else:
        verdict = "**Clear**: nothing in this plan loses state or fails at apply."
    head = [
        f"### {title}",
        "",
        verdict,
        "",
        "| Stack | Create | Update | Replace | Delete |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for report in reports:
        counts = report.counts
        head.append(
            f"| {_md(report.label)} | {counts['create']} | {counts['update']} | {counts['replace']} | "
            f"{counts['delete']} |"
        )
    body = ["", "#### State-loss guard", ""]
    if findings:
        body += ["| Class | Address | Action | Why | Blocking? |", "| --- | --- | --- | --- | --- |"]
        body += [
            f"| `{finding.cls}` | `{_md(finding.address)}` | {finding.action} | {_md(finding.why)} | "
            f"{_blocking_cell(finding)} |"
            for finding in findings
        ]
        loss = sorted({finding.cls for finding in blocking if CLASSES[finding.cls].category == STATE_LOSS})
        failing = sorted(
            {finding.cls for finding in blocking if CLASSES[finding.cls].category == APPLY_FAILURE}
        )
        if loss:
            labels = ", ".join(f"`{LABEL_PREFIX}{name}`" for name in loss)
            body += [
                "",
                f"If this loss is intended, add the label {labels} (or `{ALLOW_ALL_STATE_LOSS_LABEL}`) "
                "and the checks run again; see docs/runbook.md first.",
            ]
        if failing:
            names = ", ".join(f"`{name}`" for name in failing)
            body += [
                "",
                f"{names}: the apply would fail; change the code (an `{LABEL_PREFIX}<class>` label is only "
                "for a false positive).",
            ]
    else:
        body.append("No findings.")
    body += [f"> {_md(warning)}" for warning in warnings]
    changed = [
        f"- `{_md(change.address)}`: {change.action}" for report in reports for change in report.changes
    ]
    tail = [
        "",
        "<details><summary>Changed resources</summary>",
        "",
        *(changed or ["(none)"]),
        "",
        "</details>",
        "",
    ]
    text = "\n".join(head + body + tail)
    if limit is not None and len(text) > limit:
        short = "\n".join(head + body)
        if len(short) + len(overflow_note) + 4 > limit:
            short = short[: max(0, limit - len(overflow_note) - 8)] + "\n…"
        text = f"{short}\n\n{overflow_note}\n"
    return text


def report_json(reports: Sequence[PlanReport], findings: Sequence[Finding], warnings: Sequence[str]) -> str:
    return json.dumps(
        {
            "blocking": any(finding.blocks for finding in findings),
            # Changes, each explained by notices alone (e.g. DDL re-created after Confluent's cleanup).
            "only_notices": only_notices(reports, findings),
            "plans": [
                {
                    "label": report.label,
                    "counts": dict(sorted(report.counts.items())),
                    "changes": [
                        {"address": change.address, "action": change.action} for change in report.changes
                    ],
                }
                for report in reports
            ],
            "findings": [asdict(finding) for finding in findings],
            "warnings": list(warnings),
        },
        indent=2,
        ensure_ascii=False,
    )
