"""Is a fresh plan the plan that was reviewed? Compare two ``terraform show -json`` plans.

Prod applies the saved plan its reviewers approved; right before, it plans again and stops when an
upstream apply changed what this stack would do. Sensitive values are masked before comparing, so no
difference report can print one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _mask(value: Any, sensitive: Any) -> Any:
    """``value`` with every leaf Terraform flags as sensitive replaced by a marker."""
    if sensitive is True:
        return "(sensitive)"
    if isinstance(value, dict):
        marks = sensitive if isinstance(sensitive, dict) else {}
        return {key: _mask(item, marks.get(key)) for key, item in value.items()}
    if isinstance(value, list):
        marks = sensitive if isinstance(sensitive, list) else []
        return [_mask(item, marks[index] if index < len(marks) else None) for index, item in enumerate(value)]
    return value


def shown_changes(plan: Mapping[str, Any]) -> dict[str, Any]:
    """What a reviewer saw of a plan: every resource and output change, sensitive values masked."""
    resources = {}
    for entry in plan.get("resource_changes", []):
        change = entry.get("change") or {}
        resources[entry["address"]] = {
            "actions": change.get("actions"),
            "before": _mask(change.get("before"), change.get("before_sensitive")),
            "after": _mask(change.get("after"), change.get("after_sensitive")),
            "after_unknown": change.get("after_unknown"),
        }
    outputs = {
        name: {
            "actions": change.get("actions"),
            "after": _mask(change.get("after"), change.get("after_sensitive")),
        }
        for name, change in (plan.get("output_changes") or {}).items()
    }
    return {"resources": resources, "outputs": outputs}


def compare_plans(shown: Mapping[str, Any], fresh: Mapping[str, Any]) -> list[str]:
    """Differences between the plan that was shown and a fresh one (empty: the same plan)."""
    old, new = shown_changes(shown), shown_changes(fresh)
    differences = []
    for kind in ("resources", "outputs"):
        for address in sorted(set(old[kind]) | set(new[kind])):
            if address not in new[kind]:
                differences.append(f"{address}: in the shown plan only")
            elif address not in old[kind]:
                differences.append(f"{address}: in the fresh plan only")
            elif old[kind][address] != new[kind][address]:
                differences.append(f"{address}: planned differently")
    return differences
