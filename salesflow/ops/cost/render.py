"""The estimate as a terminal table, as Markdown for a pull-request comment, and as JSON.

Money is rounded to cents here and only here. Every figure that rests on an unconfirmed price is marked
(``*`` in the table, ``†`` in Markdown); the JSON carries ``confirmed`` per component.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from salesflow.ops.cost.baseline import Baseline
from salesflow.ops.cost.component import Component
from salesflow.ops.cost.estimate import Estimate
from salesflow.ops.cost.whatif import WhatIf

CENT = Decimal("0.01")
_NUMBER = re.compile(r'"@@(-?[0-9.]+)@@"')


@dataclass(frozen=True)
class Report:
    estimate: Estimate
    baseline: Baseline | None = None
    what_ifs: tuple[WhatIf, ...] = ()

    @property
    def delta(self) -> Decimal | None:
        return None if self.baseline is None else self.estimate.total - self.baseline.estimate.total


def money(value: Decimal, signed: bool = False) -> str:
    rounded = value.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ("+" if signed else "")
    return f"{sign}${abs(rounded):,.2f}"


def number(value: Decimal) -> str:
    """All the digits a value has (no exponent), with thousands separators."""
    whole, dot, fraction = f"{value.normalize():f}".partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}{int(whole.lstrip('-')):,}{dot}{fraction}"


def _ordered(components: tuple[Component, ...]) -> list[Component]:
    return sorted(components, key=lambda c: (-c.monthly, c.component, c.resource))


def _changes(report: Report) -> list[tuple[str, str, Decimal, Decimal]]:
    """(component, resource, base monthly, head monthly) for every component that differs."""
    assert report.baseline is not None
    base = {c.key: c.monthly for c in report.baseline.estimate.components}
    head = {c.key: c.monthly for c in report.estimate.components}
    keys = sorted(set(base) | set(head))
    rows = [(*key, base.get(key, Decimal(0)), head.get(key, Decimal(0))) for key in keys]
    changed = [row for row in rows if row[2] != row[3]]
    return sorted(changed, key=lambda row: -abs(row[3] - row[2]))


def _share(part: Decimal, whole: Decimal) -> str:
    return f"{(part / whole * 100).quantize(Decimal(1))}%" if whole else "0%"


def _no_charge_summary(estimate: Estimate) -> str:
    counts = Counter(address.split(".")[0] for address, _ in estimate.no_charge)
    return ", ".join(f"{kind} x{count}" for kind, count in sorted(counts.items()))


# ------------------------------------------------------------------------------------------------ table


def table(report: Report) -> str:
    estimate = report.estimate
    rows = [("Component", "Resource", "Quantity", "Unit", "Unit price", "Monthly")]
    for c in _ordered(estimate.components):
        flag = "" if c.confirmed else " *"
        rows.append(
            (
                c.component,
                c.resource,
                number(c.quantity),
                c.unit,
                number(c.unit_price),
                money(c.monthly) + flag,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    right = {2, 4, 5}
    lines = [
        f"salesflow cost: {estimate.environment}, monthly estimate in {estimate.currency} "
        "(* = rests on an unconfirmed price; see pricing/prices.yaml)",
        "",
    ]
    for row in rows:
        cells = [cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    lines += [
        "",
        f"Total {money(estimate.total)} a month; {money(estimate.unconfirmed_total)} of it "
        f"({_share(estimate.unconfirmed_total, estimate.total)}) rests on unconfirmed prices.",
    ]
    if report.baseline is not None:
        base = report.baseline
        lines += [
            "",
            f"Against {base.ref} ({base.commit}): base {money(base.estimate.total)}, "
            f"delta {money(report.delta or Decimal(0), signed=True)} a month",
        ]
        for component, resource, before, after in _changes(report):
            lines.append(f"  {money(after - before, signed=True):>12}  {component}: {resource}")
        lines += [f"  note: {warning}" for warning in base.warnings]
    if report.what_ifs:
        lines += ["", "What if"]
        width = max(len(answer.question) for answer in report.what_ifs)
        for answer in report.what_ifs:
            lines.append(
                f"  {answer.question.ljust(width)}  {money(answer.estimate.total):>12}  "
                f"{money(answer.delta, signed=True):>12} a month"
            )
    lines += ["", f"No standing charge: {_no_charge_summary(estimate)}"]
    if estimate.unpriced:
        lines.append(f"NOT PRICED (left out of the total): {', '.join(estimate.unpriced)}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------- markdown


def markdown(report: Report) -> str:
    estimate = report.estimate
    lines = [f"### Cost: {estimate.environment}", ""]
    headline = f"Estimated **{money(estimate.total)} a month** ({estimate.currency} list prices)."
    if report.baseline is not None:
        base = report.baseline
        headline += (
            f" Against `{base.ref}` (`{base.commit}`): **{money(report.delta or Decimal(0), signed=True)}"
            f" a month** (base {money(base.estimate.total)})."
        )
    lines += [
        headline,
        f"{money(estimate.unconfirmed_total)} of it rests on unconfirmed prices (marked †; "
        "`pricing/prices.yaml` says why).",
        "",
    ]
    if estimate.unpriced:
        lines += [
            f"**Not priced** (left out of the total): {', '.join(f'`{a}`' for a in estimate.unpriced)}",
            "",
        ]
    if report.baseline is not None:
        changes = _changes(report)
        if changes:
            lines += ["| Component | Resource | Base | Now | Delta |", "| --- | --- | ---: | ---: | ---: |"]
            for component, resource, before, after in changes:
                lines.append(
                    f"| {component} | {_cell(resource)} | {money(before)} | {money(after)} | "
                    f"{money(after - before, signed=True)} |"
                )
        else:
            lines.append("No component changes its monthly cost.")
        lines += [f"> {warning}" for warning in report.baseline.warnings]
        lines.append("")
    lines += [
        f"<details><summary>All {len(estimate.components)} components</summary>",
        "",
        "| Component | Resource | Quantity | Unit | Unit price | Monthly |",
        "| --- | --- | ---: | --- | ---: | ---: |",
    ]
    for c in _ordered(estimate.components):
        flag = "" if c.confirmed else " †"
        lines.append(
            f"| {c.component} | {_cell(c.resource)} | {number(c.quantity)} | {c.unit} | "
            f"{number(c.unit_price)} | {money(c.monthly)}{flag} |"
        )
    lines += ["", f"No standing charge: {_no_charge_summary(estimate)}.", "", "</details>", ""]
    if report.what_ifs:
        lines += [
            "<details><summary>What if</summary>",
            "",
            "| Question | Monthly | Difference |",
            "| --- | ---: | ---: |",
        ]
        for answer in report.what_ifs:
            lines.append(
                f"| {answer.question} | {money(answer.estimate.total)} | {money(answer.delta, signed=True)} |"
            )
        lines += ["", "</details>", ""]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


# ------------------------------------------------------------------------------------------------- json


def _exact(value: Decimal) -> str:
    return f"@@{value:f}@@"


def to_json(report: Report) -> str:
    """One object; money and quantities as exact JSON numbers (parse with Decimal to keep them exact)."""
    estimate, base = report.estimate, report.baseline
    document = {
        "environment": estimate.environment,
        "currency": estimate.currency,
        "total_monthly": _exact(estimate.total),
        "components": [
            {
                "component": c.component,
                "resource": c.resource,
                "quantity": _exact(c.quantity),
                "unit": c.unit,
                "unit_price": _exact(c.unit_price),
                "monthly": _exact(c.monthly),
                "price_source": c.price_source,
                "confirmed": c.confirmed,
            }
            for c in estimate.components
        ],
        "base_ref": base.ref if base else None,
        "base_total_monthly": _exact(base.estimate.total) if base else None,
        "delta_monthly": _exact(report.delta) if base and report.delta is not None else None,
    }
    return _NUMBER.sub(r"\1", json.dumps(document, indent=2, ensure_ascii=False))
