"""The analysts' e-mail as HTML and plain text, from the week's figures, the previous week's and the links.

Templates (``templates/``) are Jinja2 with autoescaping on for HTML: product names and every other value
are data and are escaped. The HTML is built for mail clients: tables and inline styles only, no
``<style>``, classes, images, scripts or web fonts; the chart is a table of coloured cells whose widths
are percentages, so it renders in Gmail and Outlook alike. The only URLs are the download links.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from exporter.links import Link
from exporter.week_summary import WeekFigures

TEMPLATES = Path(__file__).with_name("templates")
# Channel colours of the chart (assigned in channel-name order; readable on white, distinct in greyscale).
PALETTE = ("#1d4ed8", "#059669", "#d97706", "#be185d", "#6d28d9", "#0e7490", "#4d7c0f", "#b91c1c")
CHART_CURRENCIES = 3  # charts for the currencies with the most orders; the CSV has them all
HEADLINE = (("orders", "Orders"), ("lines", "Order lines"), ("customers", "Customers"),
            ("repeat_customers", "Repeat customers (more than one order)"))  # fmt: skip


@dataclass(frozen=True)
class RenderedNotice:
    subject: str
    html: str
    text: str


@dataclass(frozen=True)
class NoticeContext:
    """Everything the e-mail says beyond the figures."""

    env: str
    time_zone: str
    window_utc: tuple[str, str]
    duplicates_dropped: int
    links: dict[str, Link]  # report name or "manifest" -> signed link
    rows: dict[str, int]  # report -> rows
    attached: list[str]  # file names attached to the e-mail
    suspect: str | None = None


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters.update(
        count=count, money=money, rows=lambda n: f"{count(n)} row{'' if n == 1 else 's'}"
    )
    return environment


def count(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def money(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return "n/a"
    places = max(0, -int(amount.as_tuple().exponent)) if isinstance(amount.as_tuple().exponent, int) else 2
    return f"{currency} {amount:,.{places}f}"


def change(current: int | Decimal | None, previous: int | Decimal | None) -> str:
    """``+1,234 (+4.4%)``; ``n/a`` when either week lacks the figure; ``new`` after a zero."""
    if current is None or previous is None:
        return "n/a"
    delta = current - previous
    sign = "+" if delta > 0 else "-" if delta < 0 else "±"
    if isinstance(delta, Decimal):
        places = max(0, -int(delta.as_tuple().exponent)) if isinstance(delta.as_tuple().exponent, int) else 2
        amount = f"{abs(delta):,.{places}f}"
    else:
        amount = f"{abs(delta):,}"
    if not previous:
        return f"{sign}{amount} (new)" if delta else "±0"
    return f"{sign}{amount} ({sign if delta else ''}{abs(delta) / previous * 100:.1f}%)"


def _headline(figures: WeekFigures, previous: WeekFigures | None) -> list[dict[str, str]]:
    rows = [
        {
            "label": label,
            "value": count(figures.figure(name)),
            "previous": count(previous.figure(name)) if previous else "n/a",
            "change": change(figures.figure(name), previous.figure(name) if previous else None),
        }
        for name, label in HEADLINE
    ]
    for currency, amount in figures.revenue.items():
        before = previous.revenue.get(currency) if previous else None
        rows.append(
            {
                "label": f"Revenue {currency}",
                "value": money(amount, currency),
                "previous": money(before, currency),
                "change": change(amount, before),
            }
        )
    return rows


def _percentages(parts: list[Decimal], whole: Decimal) -> list[int]:
    """Integer percentages of ``whole`` summing to exactly 100 (largest remainders get the rest)."""
    raw = [part / whole * 100 for part in parts]
    floors = [int(value) for value in raw]
    order = sorted(range(len(raw)), key=lambda index: -(raw[index] - floors[index]))
    for index in order[: 100 - sum(floors)]:
        floors[index] += 1
    return floors


def _charts(
    figures: WeekFigures, monday: date
) -> tuple[list[dict[str, Any]], list[dict[str, str]], list[str]]:
    """Per currency, a row per day: a bar as wide as the day's revenue relative to the best day, split
    into channel segments. Returns (charts, legend, currencies left out)."""
    channels = sorted(
        {channel for days in figures.daily.values() for day in days.values() for channel in day}
    )
    colours = {channel: PALETTE[index % len(PALETTE)] for index, channel in enumerate(channels)}
    by_orders = sorted(
        figures.daily, key=lambda currency: (-figures.orders_by_currency.get(currency, 0), currency)
    )
    days = [monday + timedelta(days=offset) for offset in range(7)]
    charts = []
    for currency in by_orders[:CHART_CURRENCIES]:
        totals = {
            day: sum(figures.daily[currency].get(day.isoformat(), {}).values(), Decimal(0)) for day in days
        }
        best = max(totals.values()) or Decimal(1)
        rows = []
        for day in days:
            revenue = figures.daily[currency].get(day.isoformat(), {})
            present = [channel for channel in channels if revenue.get(channel)]
            shares = _percentages([revenue[channel] for channel in present], totals[day]) if present else []
            rows.append(
                {
                    "label": f"{day:%a %d %b}",
                    "total": money(totals[day], currency),
                    "width": max(1, round(totals[day] / best * 100)) if totals[day] else 0,
                    "segments": [
                        {"channel": channel, "colour": colours[channel], "width": share}
                        for channel, share in zip(present, shares, strict=True)
                        if share
                    ],
                }
            )
        charts.append({"currency": currency, "rows": rows})
    legend = [{"channel": channel, "colour": colours[channel]} for channel in channels]
    return charts, legend, by_orders[CHART_CURRENCIES:]


def _products(figures: WeekFigures) -> list[dict[str, Any]]:
    return [
        {
            "rank": rank,
            "name": product.name,
            "sku": product.sku,
            "category": product.category,
            "units": count(product.units),
            "orders": count(product.orders),
            "revenue": ", ".join(money(amount, currency) for currency, amount in product.revenue.items()),
        }
        for rank, product in enumerate(figures.top_products, start=1)
    ]


def render_notice(
    figures: WeekFigures, previous: WeekFigures | None, previous_week: str, context: NoticeContext
) -> RenderedNotice:
    monday = date.fromisocalendar(int(figures.week[:4]), int(figures.week[6:]), 1)
    charts, legend, uncharted = _charts(figures, monday)
    expires = min((link.expires for link in context.links.values()), default=None)
    view = {
        "week": figures.week,
        "env": context.env,
        "period": f"{monday:%a %d %b} to {monday + timedelta(days=6):%a %d %b %Y} ({context.time_zone})",
        "window_utc": context.window_utc,
        "suspect": context.suspect,
        "headline": _headline(figures, previous),
        "previous_week": previous_week,
        "has_previous": previous is not None,
        "charts": charts,
        "legend": legend,
        "uncharted": uncharted,
        "products": _products(figures),
        "links": [
            {"name": name, "file": _file_name(name), "url": link.url, "rows": context.rows.get(name)}
            for name, link in context.links.items()
        ],
        "expires": _utc(expires) if expires else None,
        "attached": context.attached,
        "duplicates_dropped": context.duplicates_dropped,
        "orders": figures.orders,
    }
    environment = _environment()
    subject = f"Weekly sales {figures.week}: {count(figures.orders)} orders, {count(figures.lines)} lines"
    if context.suspect:
        subject = f"[CHECK BEFORE USE] {subject}"
    html = environment.get_template("email.html.j2").render(view, subject=subject)
    text = environment.get_template("email.txt.j2").render(view, subject=subject)
    return RenderedNotice(subject=subject, html=html, text=text)


def _file_name(name: str) -> str:
    return "manifest.json" if name == "manifest" else f"{name}.csv"


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
