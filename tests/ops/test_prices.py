"""The price book refuses a price without its evidence, and the organisation's price list (the Confluent
CLI's `billing price list -o json`) replaces exactly the list prices it covers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from salesflow.ops.cost.prices import PRICE_BOOK, OrganisationPrices, PriceBook, PriceError, Prices


def _book_data() -> dict:
    return yaml.safe_load(PRICE_BOOK.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "prices.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_the_price_book_loads_and_every_price_carries_its_evidence() -> None:
    book = PriceBook.load()
    assert book.currency == "USD"
    for entry in book.entries.values():
        assert entry.source.startswith("https://"), entry.key
        assert entry.read_on <= date.today(), entry.key
        assert entry.evidence.strip(), entry.key
        assert entry.confirmed or (entry.note or "").strip(), entry.key
    confirmed = {entry.key for entry in book.entries.values() if entry.confirmed}
    assert confirmed == {"confluent.flink.cfu_hour", "aws.lambda.requests", "aws.kms.key_month"}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda entry: entry.pop("source"), "prices.0.source: Field required"),
        (lambda entry: entry.pop("read_on"), "prices.0.read_on: Field required"),
        (lambda entry: entry.update(source=""), "prices.0.source: String should match pattern"),
        (
            lambda entry: entry.update(source="docs.confluent.io/flink"),
            "prices.0.source: String should match",
        ),
        (lambda entry: entry.update(read_on="last spring"), "prices.0.read_on: Input should be a valid date"),
        (lambda entry: entry.update(read_on="2999-01-01"), "lies in the future"),
        (lambda entry: entry.pop("unit"), "prices.0.unit: Field required"),
        (
            lambda entry: entry.update(value="-1"),
            "prices.0.value: Input should be greater than or equal to 0",
        ),
        (lambda entry: entry.update(confirmed=False, note=None), "unconfirmed price needs a note"),
        (lambda entry: entry.update(region="europe"), "prices.0.region: String should match pattern"),
        (lambda entry: entry.update(price="0.21"), "prices.0.price: Extra inputs are not permitted"),
    ],
    ids=[
        "no-source",
        "no-date",
        "empty-source",
        "source-not-a-url",
        "date-not-a-date",
        "date-in-future",
        "no-unit",
        "negative",
        "unconfirmed-without-note",
        "bad-region",
        "unknown-field",
    ],
)
def test_a_price_without_its_evidence_does_not_load(tmp_path: Path, edit, message: str) -> None:
    data = _book_data()
    edit(data["prices"][0])
    path = _write(tmp_path, data)
    with pytest.raises(PriceError) as error:
        PriceBook.load(path)
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_a_price_listed_twice_for_a_region_is_refused(tmp_path: Path) -> None:
    data = _book_data()
    data["prices"].append(dict(data["prices"][0]))
    with pytest.raises(PriceError, match=r"confluent\.flink\.cfu_hour is listed twice for region all"):
        PriceBook.load(_write(tmp_path, data))


def test_an_exact_region_wins_over_all_and_a_missing_price_names_the_fix() -> None:
    book = PriceBook.load()
    assert book.price("aws.s3.standard_gb_month", "eu-central-1").value == Decimal("0.0245")
    assert book.price("aws.s3.standard_gb_month", "us-east-1").value == Decimal("0.023")
    assert book.price("confluent.flink.cfu_hour", "eu-central-1").value == Decimal("0.21")
    assert book.price("confluent.flink.cfu_hour", "eu-central-1").confirmed
    with pytest.raises(PriceError, match=r"no price 'aws.s3.standard_gb_month' for 'ap-south-2'"):
        book.price("aws.s3.standard_gb_month", "ap-south-2")


def test_the_organisation_price_list_replaces_the_kafka_prices_it_lists(price_list_path: Path) -> None:
    prices = Prices(PriceBook.load(), OrganisationPrices.load(price_list_path))
    cluster = prices.kafka("confluent.kafka.ecku_hour", "standard", "low", "eu-central-1")
    assert (cluster.value, cluster.unit, cluster.confirmed) == (Decimal("0.6"), "eCKU-hour", True)
    assert cluster.source == "KafkaNumCKUs standard/low (organisation price list confluent-price-list.json)"
    # KafkaStorage is a GB-hour price: x 730 hours.
    storage = prices.kafka("confluent.kafka.storage_gb_month", "enterprise", "high", "eu-central-1")
    assert storage.value == Decimal("0.0730")
    assert storage.unit == "GB-month"
    # Internet networking only: the private-link row does not apply.
    assert prices.kafka("confluent.kafka.write_gb", "enterprise", "high", "eu-central-1").value == Decimal(
        "0.04"
    )
    # Basic keeps its free first eCKU at the organisation's price.
    basic = prices.kafka("confluent.kafka.ecku_hour", "basic", "low", "eu-central-1")
    assert (basic.value, basic.included) == (Decimal("0.112"), Decimal(730))
    # Not on the list (enterprise/low): the list price stands, and says so.
    listed = prices.kafka("confluent.kafka.ecku_hour", "enterprise", "low", "eu-central-1")
    assert (listed.value, listed.confirmed) == (Decimal("1.75"), False)
    # Dedicated has no list price; the organisation's list has one.
    assert prices.kafka("confluent.kafka.ecku_hour", "dedicated", "high", "eu-central-1").value == Decimal(
        "2.8"
    )
    with pytest.raises(PriceError, match="priced by quote; pass --prices"):
        Prices(PriceBook.load()).kafka("confluent.kafka.ecku_hour", "dedicated", "high", "eu-central-1")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ('{"metric": "KafkaNumCKUs"}', "expected the JSON list"),
        ("[]", "expected the JSON list"),
        (
            '[{"metric": "KafkaNumCKUs", "cluster_type": "standard", "availability": "low", "price": 0.6}]',
            "row 0: network_type: Field required",
        ),
        (
            '[{"metric": "KafkaNumCKUs", "cluster_type": "standard", "availability": "low", '
            '"network_type": "internet", "price": "cheap"}]',
            "row 0: price: Input should be a valid decimal",
        ),
    ],
)
def test_a_malformed_price_list_is_refused_with_the_row(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "prices.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PriceError, match=message):
        OrganisationPrices.load(path)
