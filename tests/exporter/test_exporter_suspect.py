"""The exporter judges the week it exports against the manifests of the weeks exported before it (issue 16):
a short or empty week is still exported, marked ``suspect`` with the reason, said first to the analysts and
published as the ``SuspectWeek`` metric."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from exporter_testkit import Target, make_line, new_table

from exporter.judge import judge
from exporter.week_summary import suspect_reason
from exporter.weeks import IsoWeek
from salesflow.twin.lakehouse import Lakehouse

HALF = Decimal("0.5")


def _history(*volumes: tuple[int, int]) -> list[dict]:
    """Manifests, newest first: (lines, orders) of 2026-W43, W42, ..."""
    return [
        {"week": f"2026-W{43 - index}", "lines": lines, "orders": orders}
        for index, (lines, orders) in enumerate(volumes)
    ]


def test_the_rule_compares_each_volume_with_its_median_and_flags_empty_weeks() -> None:
    history = _history((100, 40), (80, 30), (120, 50), (60, 20))  # medians: 90 lines, 35 orders
    assert not judge(45, 18, history, HALF).suspect  # exactly half of a median is not below it
    lines_only = judge(44, 20, history, HALF)
    assert lines_only.reason.startswith("only 44 lines: below 50% of normal")
    assert "the median of the 4 previous exported weeks (2026-W43, 2026-W42, 2026-W41, 2026-W40)" in (
        lines_only.reason
    )
    assert lines_only.manifest_entry()["median_lines"] == "90" and lines_only.median_orders == 35
    assert judge(90, 17, history, HALF).reason.startswith("only 17 orders")
    assert judge(0, 0, history, HALF).reason.startswith("the week is empty")
    assert judge(60, 25, history, Decimal("0.75")).reason.startswith("only 60 lines and 25 orders")
    # No earlier export: no baseline, so only an empty week is suspect.
    assert judge(1, 1, [], HALF).reason is None and judge(0, 0, [], HALF).suspect
    assert judge(10, 4, _history((11, 5)), HALF).reason is None  # one earlier week is a baseline too


@pytest.fixture(scope="module")
def weeks_target(aws, tmp_path_factory) -> Iterator[Target]:
    """A table with 4 normal weeks (2026-W40..W43: 4 orders of 2 lines), a short W44 (1 order, 1 line)
    and nothing in W45; W40..W43 exported (real manifests in moto S3). The tests export W43..W45 again
    in any order: each judges against at least 3 normal weeks."""
    with pytest.MonkeyPatch.context() as patch:  # module scope: before the autouse environment fixture
        for name, value in aws.environ().items():
            patch.setenv(name, value)
        yield _exported_history(aws, Lakehouse(tmp_path_factory.mktemp("suspect") / "lakehouse"))


def _exported_history(aws, lakehouse: Lakehouse) -> Target:
    lines = []
    for number in range(40, 45):
        monday = IsoWeek(2026, number).bounds(UTC)[0]
        for order in range(4 if number < 44 else 1):
            moment = (monday + timedelta(days=1, hours=order)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            for line in range(1, 3 if number < 44 else 2):
                lines.append(make_line(f"o-{number}-{order}", moment, line))
    new_table(lakehouse, lines)
    target = Target(aws, lakehouse)
    for number in range(40, 44):
        assert target.export(f"2026-W{number}", env={"REPORTS": "order_lines"}).suspect is None
    return target


def test_a_short_week_is_exported_suspect_said_first_and_measured(weeks_target, capsys) -> None:
    capsys.readouterr()
    result = weeks_target.export("2026-W44", emit_metrics=True)
    manifest = json.loads(weeks_target.objects()["weekly/iso_week=2026-W44/manifest.json"])
    assert (manifest["lines"], manifest["orders"]) == (1, 1)  # exported all the same
    assert manifest["suspect"] == {
        "reason": result.suspect,
        "baseline_weeks": ["2026-W43", "2026-W42", "2026-W41", "2026-W40"],
        "median_lines": "8",
        "median_orders": "4",
    }
    assert result.suspect.startswith("only 1 lines and 1 orders: below 50% of normal")
    message = weeks_target.inbox.messages()[-1]
    assert message["Subject"].startswith("[CHECK BEFORE USE] salesflow dev: weekly sales export 2026-W44")
    assert message["Message"].splitlines()[0] == f"CHECK BEFORE USE: {result.suspect}."
    # The analysts' e-mail (exporter/notice/) puts the same reason first: it reads it from the manifest.
    assert suspect_reason(manifest) == result.suspect
    [document] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "salesflow" and set(directive["Dimensions"][0]) == {
        "Environment",
        "service",
    }
    assert (document["Environment"], document["service"]) == ("dev", "salesflow-exporter")
    assert (document["SuspectWeek"], document["ExportedLines"], document["ExportedOrders"]) == ([1.0],) * 3


def _suspect_metric(out: str) -> list[float]:
    [document] = [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]
    return document["SuspectWeek"]


def test_an_empty_week_is_suspect_and_a_normal_one_is_not(weeks_target, capsys) -> None:
    empty = weeks_target.export("2026-W45", env={"REPORTS": "order_lines"}, emit_metrics=True)
    assert empty.suspect.startswith("the week is empty: no orders at all, while the median of the 4")
    assert _suspect_metric(capsys.readouterr().out) == [1.0]
    normal = weeks_target.export("2026-W43", env={"REPORTS": "order_lines"}, emit_metrics=True)
    manifest = json.loads(weeks_target.objects()["weekly/iso_week=2026-W43/manifest.json"])
    assert normal.suspect is None and manifest["suspect"] is None
    assert _suspect_metric(capsys.readouterr().out) == [0.0]
    first_line = weeks_target.inbox.messages()[-1]["Message"].splitlines()[0]
    assert first_line == "The sales export for ISO week 2026-W43 is ready."


def test_the_fraction_comes_from_the_environment() -> None:
    from exporter.settings import SettingsError, settings_from_env

    env = {
        "SALESFLOW_ENV": "dev", "CATALOG_TYPE": "sql", "CATALOG_URI": "sqlite:////tmp/catalog.db",
        "CATALOG_WAREHOUSE": "file:///tmp/warehouse", "TABLE_NAMESPACE": "lkc-1", "TABLE_NAME": "clean",
        "EXPORT_BUCKET": "exports-dev", "EXPORT_PREFIX": "weekly", "REPORTS": "order_lines",
        "SNS_TOPIC_ARN": "arn:aws:sns:eu-central-1:123456789012:salesflow-dev-exports",
    }  # fmt: skip
    assert settings_from_env(env).suspect_fraction == HALF
    assert settings_from_env({**env, "SUSPECT_FRACTION": "0.3"}).suspect_fraction == Decimal("0.3")
    for wrong in ("0", "1.5", "half", "NaN"):
        with pytest.raises(SettingsError, match="SUSPECT_FRACTION"):
            settings_from_env({**env, "SUSPECT_FRACTION": wrong})
