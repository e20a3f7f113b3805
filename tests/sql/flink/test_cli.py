"""Acceptance: `salesflow sql run` on 10k generated events (>= 10 % duplicates)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from salesflow.cli import main
from salesflow.events.files import write_events
from salesflow.events.generator import GenerationStats, GeneratorSettings, generate
from salesflow.sql.local_io import pii_leaks


@pytest.mark.slow
def test_sql_run_on_10k_events_gives_one_line_set_per_order_and_no_pii(tmp_path: Path) -> None:
    stats = GenerationStats()
    settings = GeneratorSettings(
        start=datetime(2026, 11, 2, tzinfo=UTC),
        end=datetime(2026, 11, 23, tzinfo=UTC),
        events=10_000,
        seed=2026,
        duplicate_share=0.15,
    )
    records = list(generate(settings, stats))
    assert stats.duplicates / stats.events >= 0.10
    events, lines = tmp_path / "events.jsonl", tmp_path / "lines.jsonl"
    write_events(records, events)

    result = CliRunner().invoke(
        main, ["sql", "run", "--env", "dev", "--input", str(events), "--output", str(lines)]
    )

    assert result.exit_code == 0, result.output
    assert f"{stats.events} records in" in result.stderr
    assert f"{stats.duplicates} duplicate emissions dropped" in result.stderr
    text = lines.read_text(encoding="utf-8")
    rows = [orjson.loads(line) for line in text.splitlines()]
    items_of_first = {}
    for record in sorted(records, key=lambda r: r.timestamp, reverse=True):
        items_of_first[record.value["order_id"]] = len(record.value["items"])
    numbers = defaultdict(list)
    for row in rows:
        numbers[row["order_id"]].append(row["line_number"])
    assert numbers.keys() == items_of_first.keys()  # every order, none dropped as late
    assert all(sorted(n) == list(range(1, items_of_first[o] + 1)) for o, n in numbers.items())
    assert pii_leaks(text, stats.pii) == []
