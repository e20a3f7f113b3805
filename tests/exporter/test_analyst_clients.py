"""The analyst's Monday with real clients: the e-mail rendered by headless Chromium (Debian's chromium),
the CSVs opened by a real spreadsheet program (LibreOffice Calc, headless) and read back from xlsx.

Nothing is skipped: without the programs these tests fail and name the install command (.ci/run
installs both). One browser run and one LibreOffice run per session.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from io import BytesIO

import exporter_testkit as reference
import pytest
from analyst_kit import BASE_URL, convert_to_xlsx, xlsx_rows
from PIL import Image

from exporter.notice.message import message_parts
from exporter.notice.render import PALETTE
from exporter.weeks import IsoWeek
from salesflow.twin.browser import render

WEEK = "2026-W46"
REPORTS = ["order_lines", "product_demand", "customer_behavior", "week_totals", "daily_revenue"]


@pytest.fixture(scope="module")
def page(email_run, tmp_path_factory):
    _run, _first, (_, sent), _ = email_run
    text, html, _ = message_parts(sent.raw)
    path = tmp_path_factory.mktemp("mail") / "email.html"
    path.write_text(html, encoding="utf-8")
    return path, text, html, render(path)


def _expected_figures(generated_lines) -> list[str]:
    """Every figure the e-mail must show, computed from the generated lines (not from the e-mail)."""
    figures = []
    for week in (WEEK, str(IsoWeek.parse(WEEK).previous())):
        start, end = IsoWeek.parse(week).bounds(UTC)
        lines = reference.week_lines(generated_lines, start, end)
        [[orders, customers, repeat, count, _units]] = reference.week_totals(lines)
        figures += [f"{int(value):,}" for value in (orders, customers, repeat, count)]
        revenue: dict[str, Decimal] = defaultdict(Decimal)
        for line in lines:
            revenue[line["currency"]] += Decimal(line["line_amount"])
        figures += [f"{currency} {amount:,.2f}" for currency, amount in revenue.items()]
    return figures


@pytest.mark.slow
def test_chromium_renders_every_figure_and_link_and_fetches_nothing(page, email_run, generated_lines) -> None:
    path, text, _html, rendered = page
    _run, _first, (result, _), _ = email_run
    assert rendered.requests == [path.as_uri()], "the page loaded nothing but itself"
    missing = [figure for figure in _expected_figures(generated_lines) if figure not in rendered.text]
    assert not missing, f"not on the rendered page: {missing}"
    assert "Top products by units" in rendered.text and "Revenue per channel and day" in rendered.text
    signed = [line.strip() for line in text.splitlines() if line.strip().startswith(BASE_URL)]
    assert rendered.links == signed and len(signed) == len(result.keys) + 1
    for name in [*result.keys, "manifest"]:
        assert (f"{name}.csv" if name != "manifest" else "manifest.json") in rendered.text


@pytest.mark.slow
def test_the_screenshot_is_the_email_not_a_blank_page(page) -> None:
    _path, _text, _html, rendered = page
    image = Image.open(BytesIO(rendered.png)).convert("RGB")
    assert image.size == rendered.size and image.size[1] > 1000, "the whole e-mail, not a viewport"
    colours = image.getcolors(maxcolors=1 << 16)
    assert colours is not None and len(colours) > 50, "text and bars, not a single colour"
    most, _ = max(colours)
    assert most < 0.9 * image.size[0] * image.size[1]
    present = {colour for _count, colour in colours}
    chart = [tuple(int(code[i : i + 2], 16) for i in (1, 3, 5)) for code in PALETTE[:4]]
    assert all(colour in present for colour in chart), "the chart's channel colours are drawn"


@pytest.fixture(scope="module")
def workbooks(email_run, tmp_path_factory):
    run, _first, _second, _ = email_run
    folder = tmp_path_factory.mktemp("csv")
    objects = run.target.objects(f"weekly/iso_week={WEEK}/")
    files = []
    for name in REPORTS:
        path = folder / f"{name}.csv"
        path.write_bytes(objects[f"weekly/iso_week={WEEK}/{name}.csv"])
        files.append(path)
    xlsx = convert_to_xlsx(files, tmp_path_factory.mktemp("xlsx"), tmp_path_factory.mktemp("profile"))
    return {name: (objects[f"weekly/iso_week={WEEK}/{name}.csv"], xlsx_rows(xlsx[name])) for name in REPORTS}


def _same(cell: object, text: str) -> bool:
    """A spreadsheet cell equals the CSV field: text exactly, numbers by value, empty as empty."""
    if text == "":
        return cell in (None, "")
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        return Decimal(str(cell)) == Decimal(text) or abs(float(text) - cell) < 1e-9
    if isinstance(cell, datetime):
        return cell == datetime.fromisoformat(text.replace("Z", ""))
    return cell == text


@pytest.mark.slow
def test_libreoffice_reads_every_cell_and_every_non_ascii_name_intact(workbooks) -> None:
    for name, (data, cells) in workbooks.items():
        assert data.startswith(b"\xef\xbb\xbf")
        expected = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
        assert cells[0] == expected[0], f"{name}: the header (the byte-order mark is not part of it)"
        assert len(cells) == len(expected), name
        wrong = [
            (row_number, column, cell, field)
            for row_number, (row, fields) in enumerate(zip(cells, expected, strict=True))
            for column, (cell, field) in enumerate(zip(row, fields, strict=True))
            if not _same(cell, field)
        ]
        assert not wrong, f"{name}: cells differ from the CSV: {wrong[:5]}"
    _data, lines = workbooks["order_lines"]
    header = lines[0]
    cities = {row[header.index("customer_city")] for row in lines[1:]}
    products = {row[header.index("product_name")] for row in lines[1:]}
    assert {"Köln", "München", "Düsseldorf"} & cities and any(not city.isascii() for city in cities)
    assert any(not name.isascii() for name in products)
    assert not any("Ã" in str(value) for row in lines for value in row), "no mojibake"
