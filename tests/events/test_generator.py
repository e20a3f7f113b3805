"""The event generator: deterministic, realistic, contract-valid, with duplicates and late events."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import click
import fastavro
import pytest
from click.testing import CliRunner

from salesflow.cli import main
from salesflow.contracts import SALES_ORDER, load_schema_json, parsed_schema
from salesflow.events.files import read_events, write_events
from salesflow.events.generator import GenerationStats, GeneratorSettings, generate
from salesflow.events.records import KafkaRecord, json_to_datum, parse_timestamp


def _digest(records: list[KafkaRecord]) -> str:
    return hashlib.sha256(b"".join(record.to_json_line() for record in records)).hexdigest()


def test_same_seed_same_bytes_and_other_seed_differs(small_settings: GeneratorSettings) -> None:
    first = list(generate(small_settings))
    assert _digest(first) == _digest(list(generate(small_settings)))
    assert _digest(first) != _digest(list(generate(replace(small_settings, seed=12))))


def test_exact_event_count_and_counters(small_settings, small_events) -> None:
    records, stats = small_events
    assert len(records) == small_settings.events == stats.events
    assert stats.orders + stats.duplicates == stats.events
    assert len({record.key for record in records}) == stats.orders


def test_every_value_is_valid_against_the_input_contract(small_events) -> None:
    records, _ = small_events
    schema, parsed = load_schema_json(SALES_ORDER), parsed_schema(SALES_ORDER)
    for record in records:
        assert record.key == record.value["order_id"]
        fastavro.validation.validate(json_to_datum(record.value, schema), parsed, raise_errors=True)


def test_orders_are_realistic(small_events) -> None:
    records, stats = small_events
    firsts = {}
    for record in records:
        firsts.setdefault(record.key, record.value)
    orders = list(firsts.values())
    assert set(Counter(order["channel"] for order in orders)) == {"WEB", "MOBILE_APP", "MARKETPLACE", "STORE"}
    assert {len(order["items"]) for order in orders} == {1, 2, 3, 4, 5}
    assert len({item["category"] for order in orders for item in order["items"]}) >= 6
    for order in orders:
        total = sum(int(item["quantity"]) * Decimal(item["unit_price"]) for item in order["items"])
        assert total == Decimal(order["order_total"])
        if order["channel"] == "STORE":
            assert order["payment_method"] in {"CARD", "CASH", "GIFT_CARD"}
    per_customer = Counter(order["customer"]["customer_id"] for order in orders)
    assert stats.customers == len(per_customer) < len(orders)
    assert max(per_customer.values()) > 1, "repeat customers exist"
    names = [order["customer"]["full_name"] for order in orders]
    assert any(not name.isascii() for name in names), "unicode names"


def test_pii_is_present_in_every_pii_field(small_events) -> None:
    records, stats = small_events
    for record in records:
        customer = record.value["customer"]
        for value in (
            customer["customer_id"],
            customer["email"],
            customer["full_name"],
            customer["address"]["street"],
            customer["address"]["postal_code"],
        ):
            assert value.strip()
    assert len(stats.pii["customer_id"]) == len(stats.pii["email"]) == stats.customers
    for key in ("full_name", "street", "postal_code", "phone"):
        assert len(stats.pii[key]) > stats.customers / 3, key
    phones = [record.value["customer"]["phone"] for record in records]
    assert 0.7 < sum(phone is not None for phone in phones) / len(phones) < 1
    assert all(
        value in {record.value["customer"]["email"] for record in records} for value in stats.pii["email"]
    )


def test_duplicates_retries_and_resends(small_settings, small_events) -> None:
    records, stats = small_events
    by_order: dict[str, list[KafkaRecord]] = defaultdict(list)
    for record in records:
        by_order[record.key].append(record)
    duplicated = {key: emissions for key, emissions in by_order.items() if len(emissions) > 1}
    assert abs(len(duplicated) / len(by_order) - small_settings.duplicate_share) < 0.04
    retries = resends = 0
    for emissions in duplicated.values():
        by_time = sorted(emissions, key=lambda record: record.timestamp)
        original = by_time[0]
        for later in by_time[1:]:
            assert later.timestamp > original.timestamp
            payload = {k: v for k, v in later.value.items() if k != "event_id"}
            assert payload == {k: v for k, v in original.value.items() if k != "event_id"}
            if later.value["event_id"] == original.value["event_id"]:
                retries += 1
            else:
                resends += 1
                assert later.timestamp - original.timestamp >= 1000
    assert (retries, resends) == (stats.retries, stats.resends)
    assert retries > 0 and resends > 0
    gaps = [max(r.timestamp for r in e) - min(r.timestamp for r in e) for e in duplicated.values()]
    assert max(gaps) > timedelta(hours=1).total_seconds() * 1000, "some re-sends come hours later"


def test_late_records_arrive_behind_newer_ones_within_the_bound(small_settings, small_events) -> None:
    records, stats = small_events
    newest = 0
    behind = []
    for record in records:
        if record.timestamp < newest:
            behind.append(newest - record.timestamp)
        newest = max(newest, record.timestamp)
    assert stats.late > 0 and len(behind) > 0
    assert max(behind) <= small_settings.max_lateness.total_seconds() * 1000
    order_times = [parse_timestamp(record.value["order_time"]) for record in records]
    assert min(order_times) >= small_settings.start and max(order_times) < small_settings.end


def test_out_of_file_order_duplicates_exist(small_events) -> None:
    """Sometimes a later emission of an order is in the file before its first emission."""
    records, _ = small_events
    seen_min: dict[str, int] = {}
    inverted = 0
    for record in records:
        if record.key in seen_min and record.timestamp < seen_min[record.key]:
            inverted += 1
        seen_min[record.key] = min(seen_min.get(record.key, record.timestamp), record.timestamp)
    assert inverted > 0


def test_avro_container_round_trips_to_the_same_records(tmp_path: Path, small_events) -> None:
    records, _ = small_events
    jsonl, avro_file = tmp_path / "events.jsonl", tmp_path / "events.avro"
    assert write_events(records, jsonl, "jsonl") == len(records)
    assert write_events(records, avro_file, "avro") == len(records)
    assert list(read_events(jsonl)) == records
    assert list(read_events(avro_file)) == records


def test_failed_write_leaves_no_partial_file(tmp_path: Path, small_settings) -> None:
    target = tmp_path / "events.jsonl"

    def broken():
        yield from generate(replace(small_settings, events=25_000))
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_events(broken(), target)
    assert list(tmp_path.iterdir()) == []


def test_cli_generate_writes_the_requested_file(tmp_path: Path) -> None:
    out = tmp_path / "sample.jsonl"
    result = CliRunner().invoke(
        main,
        [
            "generate",
            "--events",
            "500",
            "--seed",
            "3",
            "--start",
            "2026-11-02",
            "--end",
            "2026-11-09",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "500 events" in result.output
    records = list(read_events(out))
    assert len(records) == 500
    assert records == list(
        generate(
            GeneratorSettings(
                start=parse_timestamp("2026-11-02T00:00:00.000Z"),
                end=parse_timestamp("2026-11-09T00:00:00.000Z"),
                events=500,
                seed=3,
            )
        )
    )


def test_cli_help_explains_every_option() -> None:
    result = CliRunner().invoke(main, ["generate", "--help"])
    assert result.exit_code == 0
    command = main.get_command(click.Context(main), "generate")
    for option in command.params:
        assert option.help, f"--{option.name} has no help"
        assert option.opts[0] in result.output


def test_cli_rejects_bad_input() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["generate", "--start", "2026-11-09", "--end", "2026-11-02"])
    assert result.exit_code != 0 and "must be after start" in result.output
    result = runner.invoke(main, ["generate", "--start", "yesterday"])
    assert result.exit_code != 0 and "use YYYY-MM-DD" in result.output
    result = runner.invoke(main, ["generate", "--format", "avro"])
    assert result.exit_code != 0 and "needs --output" in result.output


def test_stats_collect_pii_for_downstream_checks() -> None:
    stats = GenerationStats()
    settings = GeneratorSettings(
        start=parse_timestamp("2026-11-02T00:00:00.000Z"),
        end=parse_timestamp("2026-11-03T00:00:00.000Z"),
        events=50,
        seed=5,
    )
    records = list(generate(settings, stats))
    emails = {record.value["customer"]["email"] for record in records}
    assert emails == stats.pii["email"]
