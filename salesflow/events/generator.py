"""Deterministic generator of realistic sales-order events, duplicates and late arrivals included.

Events are Kafka records (see ``records.py``): the record timestamp is the emission time, which
Confluent Flink sees as ``$rowtime``. The output order is the *arrival* order: mostly by timestamp,
but a late record arrives up to ``max_lateness`` after its timestamp, behind newer records.

Duplicates come in two kinds: a producer *retry* repeats the event_id milliseconds later; a *resend*
repeats the order with a new event_id, seconds to hours later. Both carry the same order payload.
"""

from __future__ import annotations

import gc
import random
import unicodedata
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any

from salesflow.events.records import KafkaRecord, format_epoch_ms

CHANNELS = ("WEB", "MOBILE_APP", "MARKETPLACE", "STORE")
CHANNEL_WEIGHTS = (45, 30, 15, 10)
ONLINE_PAYMENTS = ("CARD", "PAYPAL", "APPLE_PAY", "GOOGLE_PAY", "BANK_TRANSFER", "GIFT_CARD")
ONLINE_PAYMENT_WEIGHTS = (40, 20, 12, 10, 10, 8)
STORE_PAYMENTS = ("CARD", "CASH", "GIFT_CARD")
STORE_PAYMENT_WEIGHTS = (60, 35, 5)

# country -> (currency, phone prefix, [(city, postal code pattern)], street names)
COUNTRIES: dict[str, tuple[str, str, list[tuple[str, str]], list[str]]] = {
    "DE": (
        "EUR",
        "+49",
        [("Berlin", "10###"), ("München", "80###"), ("Köln", "50###"), ("Düsseldorf", "40###")],
        ["Königstraße", "Hauptstraße", "Schloßallee", "Lindenweg", "Gartenstraße"],
    ),
    "FR": (
        "EUR",
        "+33",
        [("Paris", "75###"), ("Lyon", "69###"), ("Besançon", "25###")],
        ["Rue de l'Église", "Avenue des Champs-Élysées", "Boulevard Saint-Germain", "Rue du Château"],
    ),
    "ES": (
        "EUR",
        "+34",
        [("Madrid", "28###"), ("A Coruña", "15###"), ("Málaga", "29###")],
        ["Calle Mayor", "Avenida de la Constitución", "Plaza de España", "Calle Señor de la Peña"],
    ),
    "PL": (
        "PLN",
        "+48",
        [("Łódź", "90-###"), ("Kraków", "30-###"), ("Gdańsk", "80-###")],
        ["ul. Świętokrzyska", "ul. Piękna", "ul. Żeromskiego", "al. Jerozolimskie"],
    ),
    "GB": (
        "GBP",
        "+44",
        [("London", "SW1A #AA"), ("Manchester", "M# #AB"), ("Edinburgh", "EH# #LZ")],
        ["High Street", "Station Road", "Church Lane", "Victoria Road"],
    ),
    "SE": (
        "SEK",
        "+46",
        [("Stockholm", "1## ##"), ("Göteborg", "4## ##"), ("Malmö", "2## ##")],
        ["Drottninggatan", "Storgatan", "Kungsgatan", "Östra Hamngatan"],
    ),
    "US": (
        "USD",
        "+1",
        [("New York", "100##"), ("San José", "951##"), ("Chicago", "606##")],
        ["Main Street", "Oak Avenue", "Maple Drive", "Broadway"],
    ),
    "JP": ("JPY", "+81", [("東京", "1##-####"), ("大阪", "5##-####")], ["銀座", "中央通り", "本町"]),
}
COUNTRY_WEIGHTS = {"DE": 30, "FR": 15, "ES": 10, "PL": 8, "GB": 12, "SE": 5, "US": 15, "JP": 5}

FIRST_NAMES = (
    "Anna",
    "Jürgen",
    "Zoë",
    "José",
    "Łukasz",
    "Søren",
    "Chloé",
    "Björn",
    "Mia",
    "Noah",
    "François",
    "Ayşe",
    "Małgorzata",
    "Siobhán",
    "Nguyễn Văn",
    "Oliver",
    "Emma",
    "Mateo",
    "Inés",
    "Henrik",
    "Ольга",
    "Дмитрий",
    "陽菜",
    "蓮",
    "Priya",
    "Chidi",
    "Renée",
    "Åsa",
    "Jiří",
    "Ümit",
)
LAST_NAMES = (
    "Müller",
    "Álvarez",
    "Wójcik",
    "Kierkegaard",
    "Dubois",
    "García",
    "Smith",
    "O'Brien",
    "Nowak",
    "Yılmaz",
    "Johansson",
    "Lefèvre",
    "Schröder",
    "Núñez",
    "Kowalczyk",
    "Brown",
    "Nørgaard",
    "Иванова",
    "佐藤",
    "鈴木",
    "Patel",
    "Okafor",
    "Dvořák",
    "Ferreira",
    "Van der Berg",
)
EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example")

CATEGORIES: dict[str, tuple[tuple[str, ...], tuple[int, int]]] = {
    "Electronics": (("Headphones", "Charger", "Smart Speaker", "Keyboard", "Monitor", "Webcam"), (15, 450)),
    "Books": (("Novel", "Cookbook", "Travel Guide", "Comic", "Atlas"), (8, 45)),
    "Home": (("Lamp", "Cushion", "Kettle", "Towel Set", "Vase", "Blanket"), (10, 120)),
    "Garden": (("Hose", "Planter", "Seed Kit", "Pruner", "Bird Feeder"), (6, 90)),
    "Toys": (("Puzzle", "Building Set", "Plush Bear", "Board Game", "Kite"), (7, 80)),
    "Apparel": (("T-Shirt", "Hoodie", "Sneakers", "Scarf", "Jacket", "Socks"), (9, 180)),
    "Beauty": (("Face Cream", "Shampoo", "Perfume", "Lip Balm"), (4, 95)),
    "Sports": (("Yoga Mat", "Water Bottle", "Running Belt", "Dumbbell", "Tennis Balls"), (5, 140)),
}
ADJECTIVES = ("Classic", "Eco", "Pro", "Mini", "Deluxe", "Nordic", "Urban", "Café", "Süß", "Élan")


@dataclass(frozen=True)
class GeneratorSettings:
    start: datetime
    end: datetime
    events: int
    seed: int = 42
    duplicate_share: float = 0.12
    late_share: float = 0.02
    max_lateness: timedelta = timedelta(minutes=5)
    resend_max_delay: timedelta = timedelta(hours=6)
    repeat_customer_share: float = 0.6

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("start and end must be time-zone aware")
        if self.end <= self.start:
            raise ValueError(f"end ({self.end.isoformat()}) must be after start ({self.start.isoformat()})")
        if self.events < 1:
            raise ValueError("events must be at least 1")
        for name in ("duplicate_share", "late_share", "repeat_customer_share"):
            share = getattr(self, name)
            if not 0 <= share < 1:
                raise ValueError(f"{name} must be in [0, 1), got {share}")
        if self.max_lateness < timedelta(0):
            raise ValueError("max_lateness must not be negative")


@dataclass
class GenerationStats:
    events: int = 0
    orders: int = 0
    retries: int = 0
    resends: int = 0
    late: int = 0
    customers: int = 0
    pii: dict[str, set[str]] = field(
        default_factory=lambda: {
            "customer_id": set(),
            "email": set(),
            "full_name": set(),
            "phone": set(),
            "street": set(),
            "postal_code": set(),
        }
    )

    @property
    def duplicates(self) -> int:
        return self.retries + self.resends


@dataclass(frozen=True, slots=True)
class _Product:
    sku: str
    name: str
    category: str
    price: Decimal


class _Catalog:
    """Products, customers and PII drawn from one seeded random source."""

    def __init__(self, rng: random.Random, stats: GenerationStats) -> None:
        self.rng = rng
        self.stats = stats
        self.products = self._products()
        self.customers: list[dict[str, Any]] = []

    def _products(self) -> list[_Product]:
        products = []
        for category, (nouns, (low, high)) in sorted(CATEGORIES.items()):
            for noun in nouns:
                for adjective in self.rng.sample(ADJECTIVES, 4):
                    cents = self.rng.randint(low * 100, high * 100)
                    price = Decimal(cents // 10 * 10 + 9) / 100  # prices end in 9 cents
                    sku = f"{category[:3].upper()}-{len(products) + 1:05d}"
                    products.append(_Product(sku, f"{adjective} {noun}", category, price))
        return products

    def customer(self, repeat_share: float) -> dict[str, Any]:
        if self.customers and self.rng.random() < repeat_share:
            return self.rng.choice(self.customers)
        rng = self.rng
        number = len(self.customers) + 1
        country = COUNTRY.pick(rng)
        _currency, phone_prefix, cities, streets = COUNTRIES[country]
        city, postal_pattern = rng.choice(cities)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        full_name = f"{first} {last}"
        local = _ascii_fold(f"{first}.{last}").lower().replace(" ", "").replace("'", "")
        local = local.strip(".") or "customer"
        customer = {
            "customer_id": f"CUST-{number:07d}-{rng.randrange(16**4):04x}",
            "email": f"{local}.{number}@{rng.choice(EMAIL_DOMAINS)}",
            "full_name": full_name,
            "phone": None if rng.random() < 0.15 else f"{phone_prefix}{rng.randrange(10**8, 10**10)}",
            "address": {
                "street": f"{rng.choice(streets)} {rng.randint(1, 240)}",
                "city": city,
                "postal_code": "".join(str(rng.randrange(10)) if ch == "#" else ch for ch in postal_pattern),
                "country": country,
            },
        }
        self.customers.append(customer)
        pii = self.stats.pii
        for key in ("customer_id", "email", "full_name", "phone"):
            if customer[key] is not None:
                pii[key].add(customer[key])
        pii["street"].add(customer["address"]["street"])
        pii["postal_code"].add(customer["address"]["postal_code"])
        self.stats.customers = len(self.customers)
        return customer


class _Weighted:
    """A weighted choice with precomputed cumulative weights (``random.choices`` recomputes them)."""

    __slots__ = ("cumulative", "options")

    def __init__(self, options: Sequence[Any], weights: Sequence[float]) -> None:
        self.options = list(options)
        self.cumulative = list(accumulate(weights))

    def pick(self, rng: random.Random) -> Any:
        return rng.choices(self.options, cum_weights=self.cumulative)[0]


CHANNEL = _Weighted(CHANNELS, CHANNEL_WEIGHTS)
ONLINE_PAYMENT = _Weighted(ONLINE_PAYMENTS, ONLINE_PAYMENT_WEIGHTS)
STORE_PAYMENT = _Weighted(STORE_PAYMENTS, STORE_PAYMENT_WEIGHTS)
COUNTRY = _Weighted(list(COUNTRY_WEIGHTS), list(COUNTRY_WEIGHTS.values()))
LINE_COUNT = _Weighted((1, 2, 3, 4, 5), (35, 30, 18, 10, 7))
QUANTITY = _Weighted((1, 2, 3, 4), (70, 20, 7, 3))


def finished_weeks(now: datetime, weeks: int = 3) -> tuple[datetime, datetime]:
    """``weeks`` full ISO weeks (UTC) ending at the Monday 00:00 that starts the current week."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(weeks=weeks), monday


def _ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def generate(settings: GeneratorSettings, stats: GenerationStats | None = None) -> Iterator[KafkaRecord]:
    """Yield exactly ``settings.events`` records in arrival order.

    ``stats`` (if given) is filled in as the records are produced: counts and every PII value used.
    """
    stats = stats if stats is not None else GenerationStats()
    rng = random.Random(settings.seed)
    catalog = _Catalog(rng, stats)

    # Pass 1: how many extra emissions each order gets, so the total is exactly `events`.
    extras: list[int] = []
    remaining = settings.events
    while remaining > 0:
        extra = (1 if rng.random() < 0.8 else 2) if rng.random() < settings.duplicate_share else 0
        extra = min(extra, remaining - 1)
        extras.append(extra)
        remaining -= 1 + extra

    # Pass 2: build orders and emissions as (arrival, sequence, record) for a stable sort. The objects
    # are acyclic, so the cyclic garbage collector only costs time here (half of it, measured).
    pending: list[tuple[int, int, KafkaRecord]] = []
    collecting = gc.isenabled()
    gc.disable()
    try:
        _build(rng, catalog, settings, stats, extras, pending)
    finally:
        if collecting:
            gc.enable()

    pending.sort(key=lambda item: (item[0], item[1]))
    for _arrival, _sequence, record in pending:
        stats.events += 1
        yield record


def _build(
    rng: random.Random,
    catalog: _Catalog,
    settings: GeneratorSettings,
    stats: GenerationStats,
    extras: list[int],
    pending: list[tuple[int, int, KafkaRecord]],
) -> None:
    start_ms, end_ms = _epoch_ms(settings.start), _epoch_ms(settings.end)
    order_times = sorted(start_ms + rng.randrange(end_ms - start_ms) for _ in extras)
    late_ms = int(settings.max_lateness.total_seconds() * 1000)
    resend_ms = int(settings.resend_max_delay.total_seconds() * 1000)
    for index, (order_ms, extra) in enumerate(zip(order_times, extras, strict=True)):
        value = _order_value(rng, catalog, settings, index, order_ms)
        emitted_ms = min(order_ms + rng.randrange(2000), end_ms - 1)
        emissions = [(emitted_ms, value)]
        for _ in range(extra):
            if rng.random() < 0.5:
                stats.retries += 1
                emissions.append((emissions[-1][0] + rng.randint(5, 500), value))
            else:
                stats.resends += 1
                resent = dict(value, event_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)))
                emissions.append((emissions[-1][0] + rng.randint(1000, max(1000, resend_ms)), resent))
        for timestamp, payload in emissions:
            arrival = timestamp
            if late_ms and rng.random() < settings.late_share:
                stats.late += 1
                arrival += rng.randint(1, late_ms)
            pending.append((arrival, len(pending), KafkaRecord(value["order_id"], timestamp, payload)))
        stats.orders += 1


def _order_value(
    rng: random.Random, catalog: _Catalog, settings: GeneratorSettings, index: int, order_ms: int
) -> dict[str, Any]:
    channel = CHANNEL.pick(rng)
    customer = catalog.customer(settings.repeat_customer_share)
    currency = COUNTRIES[customer["address"]["country"]][0]
    payment = (STORE_PAYMENT if channel == "STORE" else ONLINE_PAYMENT).pick(rng)
    line_count = LINE_COUNT.pick(rng)
    items, total = [], Decimal("0.00")
    for product in rng.sample(catalog.products, line_count):
        quantity = QUANTITY.pick(rng)
        total += product.price * quantity
        items.append(
            {
                "sku": product.sku,
                "product_name": product.name,
                "category": product.category,
                "quantity": quantity,
                "unit_price": str(product.price),
            }
        )
    return {
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "order_id": f"SO-{settings.seed % 10000:04d}-{index + 1:08d}",
        "channel": channel,
        "order_time": format_epoch_ms(order_ms),
        "customer": customer,
        "items": items,
        "currency": currency,
        "payment_method": payment,
        "order_total": str(total),
    }
