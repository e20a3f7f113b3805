"""One charge on one resource (``Component``), and what the builders of components share (``Context``).

Quantities and monthly figures are kept to a millionth (of a unit, of a dollar) in ``Decimal``: the total of
an estimate is then exactly the sum of its components.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from salesflow.config import Environment
from salesflow.ops.cost.inventory import Inventory
from salesflow.ops.cost.prices import Price, Prices
from salesflow.ops.cost.volumes import Volumes

PRECISION = Decimal("0.000001")


@dataclass(frozen=True)
class Component:
    component: str
    resource: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    monthly: Decimal
    price_source: str
    confirmed: bool

    @classmethod
    def of(cls, component: str, resource: str, quantity: Decimal, price: Price) -> Component:
        """A charge of ``price`` on ``quantity``; the price's free quantity is taken off first."""
        billable = max(Decimal(0), quantity - price.included).quantize(PRECISION)
        if price.included:
            resource = f"{resource} ({price.included.normalize():f} {price.unit} free)"
        return cls(
            component,
            resource,
            billable,
            price.unit,
            price.value,
            (billable * price.value).quantize(PRECISION),
            price.source,
            price.confirmed,
        )

    @property
    def key(self) -> tuple[str, str]:
        return self.component, self.resource


@dataclass
class Context:
    """What the component builders read, and the addresses they have priced or explained."""

    environment: Environment
    inventory: Inventory
    volumes: Volumes
    prices: Prices
    handled: set[str] = field(default_factory=set)
    notes: list[tuple[str, str]] = field(default_factory=list)

    def explain(self, address: str, reason: str) -> None:
        self.handled.add(address)
        self.notes.append((address, reason))
