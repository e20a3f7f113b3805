"""The price book (``pricing/prices.yaml``) and an organisation's Confluent price list laid over it.

Every book entry carries its unit, region, source URL, the date it was read and whether the vendor's own
page states it; an entry without a source or a date does not load. ``confluent billing price list --cloud
aws --region <region> -o json`` prints the organisation's Kafka prices as a JSON list of ``{"metric",
"cluster_type", "availability", "network_type", "price"}`` rows (no unit, no region: the command filters by
cloud and region); ``OrganisationPrices`` reads exactly that shape and replaces the matching list prices.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from salesflow.config import REPO_ROOT

PRICE_BOOK = REPO_ROOT / "pricing" / "prices.yaml"
HOURS_PER_MONTH = Decimal(730)

Url = Annotated[str, Field(pattern=r"^https://\S+$")]
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class PriceError(ValueError):
    """A price file is missing, invalid or lacks a needed price; the message names the file and the fix."""


class PriceEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: Annotated[str, Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")]
    description: Annotated[str, Field(min_length=1)]
    value: Annotated[Decimal, Field(ge=0)]
    unit: Annotated[str, Field(min_length=1)]
    included: Annotated[Decimal, Field(ge=0)] = Decimal(0)
    region: Annotated[str, Field(pattern=r"^(all|[a-z]{2}(-[a-z]+)+-\d)$")]
    source: Url
    read_on: date
    confirmed: bool
    evidence: Annotated[str, Field(min_length=1)]
    note: str | None = None
    corroboration: list[Url] = []

    @model_validator(mode="after")
    def _explained(self) -> PriceEntry:
        if not self.confirmed and not (self.note or "").strip():
            raise ValueError("an unconfirmed price needs a note saying why and where the figure comes from")
        if self.read_on > date.today():
            raise ValueError(f"read_on {self.read_on} lies in the future")
        return self


class PriceBookFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: Literal["USD"]
    prices: Annotated[list[PriceEntry], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique(self) -> PriceBookFile:
        seen: set[tuple[str, str]] = set()
        for entry in self.prices:
            if (entry.key, entry.region) in seen:
                raise ValueError(f"{entry.key} is listed twice for region {entry.region}")
            seen.add((entry.key, entry.region))
        return self


@dataclass(frozen=True)
class Price:
    """One price as the estimate uses it: value per unit, what is free, and where the figure comes from."""

    value: Decimal
    unit: str
    source: str
    confirmed: bool
    included: Decimal = Decimal(0)


def _describe(path: Path, exc: ValidationError) -> str:
    lines = [f"{path}: {exc.error_count()} invalid field(s)"]
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        lines.append(f"  {where}: {error['msg'].removeprefix('Value error, ')}")
    lines.append("  every price needs value, unit, region, source (https URL), read_on (date) and confirmed")
    return "\n".join(lines)


class PriceBook:
    """List prices by key and region; an exact region wins over ``all``."""

    def __init__(self, book: PriceBookFile, path: Path = PRICE_BOOK) -> None:
        self.currency = book.currency
        self.path = path
        self.entries = {(entry.key, entry.region): entry for entry in book.prices}

    @classmethod
    def load(cls, path: Path = PRICE_BOOK) -> PriceBook:
        try:
            raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader
        except FileNotFoundError:
            raise PriceError(f"{path}: no such price book") from None
        except yaml.YAMLError as exc:
            raise PriceError(f"{path}: not valid YAML: {exc}") from None
        try:
            return cls(PriceBookFile.model_validate(raw), path)
        except ValidationError as exc:
            raise PriceError(_describe(path, exc)) from None

    def has(self, key: str, region: str) -> bool:
        return (key, region) in self.entries or (key, "all") in self.entries

    def price(self, key: str, region: str) -> Price:
        entry = self.entries.get((key, region)) or self.entries.get((key, "all"))
        if entry is None:
            raise PriceError(
                f"{self.path}: no price {key!r} for {region!r} (nor for 'all'); add one with its source"
            )
        origin = "list" if entry.region == "all" else f"list, {entry.region}"
        return Price(entry.value, entry.unit, f"{entry.key} ({origin})", entry.confirmed, entry.included)


# Confluent CLI price list -> price book keys. Storage is billed per GB-hour (Billing Dimensions).
_CLI_METRICS = {
    "KafkaNumCKUs": ("confluent.kafka.ecku_hour", Decimal(1)),
    "KafkaNetworkWrite": ("confluent.kafka.write_gb", Decimal(1)),
    "KafkaNetworkRead": ("confluent.kafka.read_gb", Decimal(1)),
    "KafkaStorage": ("confluent.kafka.storage_gb_month", HOURS_PER_MONTH),
}


class PriceListRow(BaseModel):
    """One row of ``confluent billing price list -o json``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str
    cluster_type: str
    availability: str
    network_type: str
    price: Annotated[Decimal, Field(ge=0)]


class OrganisationPrices:
    """Kafka prices from an organisation's price list, keyed like the CLI prints them."""

    def __init__(self, rows: list[PriceListRow], path: Path) -> None:
        self.path = path
        self.rows = {(row.metric, row.cluster_type, row.availability, row.network_type): row for row in rows}

    @classmethod
    def load(cls, path: Path) -> OrganisationPrices:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        except FileNotFoundError:
            raise PriceError(f"{path}: no such price list") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise PriceError(
                f"{path}: not JSON ({exc}); write it with "
                "`confluent billing price list --cloud aws --region <region> -o json`"
            ) from None
        if not isinstance(raw, list) or not raw:
            raise PriceError(
                f"{path}: expected the JSON list `confluent billing price list -o json` prints, "
                "one object per metric, cluster type, availability and network type"
            )
        rows = []
        for index, item in enumerate(raw):
            try:
                rows.append(PriceListRow.model_validate(item))
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(map(str, error['loc'])) or 'row'}: {error['msg']}" for error in exc.errors()
                )
                raise PriceError(f"{path}: row {index}: {problems}") from None
        return cls(rows, path)

    def kafka(self, key: str, cluster_type: str, availability: str) -> Price | None:
        """The organisation's price for a Kafka price-book key (internet networking), if the list has it."""
        for metric, (book_key, per_month) in _CLI_METRICS.items():
            if book_key != key:
                continue
            row = self.rows.get((metric, cluster_type, availability, "internet"))
            if row is None:
                return None
            return Price(
                row.price * per_month,
                "",
                f"{metric} {cluster_type}/{availability} (organisation price list {self.path.name})",
                confirmed=True,
            )
        return None


@dataclass(frozen=True)
class Prices:
    """The price book, with an organisation's Kafka prices over it when given."""

    book: PriceBook
    organisation: OrganisationPrices | None = None

    @property
    def currency(self) -> str:
        return self.book.currency

    def price(self, key: str, region: str) -> Price:
        return self.book.price(key, region)

    def kafka(self, key: str, cluster_type: str, availability: str, region: str) -> Price:
        """A Kafka price by cluster type and availability: organisation list, then the most specific
        list price (``<key>.<type>.<availability>``, ``<key>.<type>``, ``<key>``)."""
        listed = self.organisation.kafka(key, cluster_type, availability) if self.organisation else None
        candidates = (f"{key}.{cluster_type}.{availability}", f"{key}.{cluster_type}", key)
        book_key = next((candidate for candidate in candidates if self.book.has(candidate, region)), None)
        if listed is not None:
            fallback = self.book.price(book_key, region) if book_key else None
            unit = fallback.unit if fallback else ("eCKU-hour" if key.endswith("ecku_hour") else "GB")
            included = fallback.included if fallback else Decimal(0)
            return Price(listed.value, unit, listed.source, True, included)
        if book_key is None:
            raise PriceError(
                f"no list price for {key} on a {cluster_type} cluster ({availability} availability): "
                f"{cluster_type} clusters are priced by quote; pass --prices with the organisation's "
                "`confluent billing price list -o json`"
            )
        return self.book.price(book_key, region)
