"""The analysts' e-mail (NOTIFY=email): figures from the published reports, the change against the previous
week, signed links that verify, the small reports attached, SES through moto, every value escaped."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email import message_from_bytes
from email.policy import default

import exporter_testkit as reference
import pytest
from analyst_kit import (
    BASE_URL,
    CONFIGURATION_SET,
    KEY_PAIR_ID,
    RECIPIENTS,
    SENDER,
    new_signing_key,
    verify_signed_url,
)
from cryptography.exceptions import InvalidSignature

from exporter.notice import NoticeError
from exporter.notice.message import message_parts
from exporter.settings import SettingsError, settings_from_env
from exporter.weeks import IsoWeek

AGGREGATES = ["product_demand.csv", "customer_behavior.csv", "week_totals.csv", "daily_revenue.csv"]


def week_lines(generated_lines, week: str):
    start, end = IsoWeek.parse(week).bounds(UTC)
    return reference.week_lines(generated_lines, start, end)


def revenue_by_currency(lines) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        totals[line["currency"]] += Decimal(line["line_amount"])
    return totals


def test_one_mime_message_text_and_html_alternatives_and_the_small_reports_attached(email_run) -> None:
    run, _first, (result, sent), _ = email_run
    message = message_from_bytes(sent.raw, policy=default)
    assert message.get_content_type() == "multipart/mixed"
    alternative, *attachments = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in alternative.iter_parts()] == ["text/plain", "text/html"]
    assert [part.get_filename() for part in attachments] == AGGREGATES, "order_lines stays a link"
    objects = run.target.objects("weekly/iso_week=2026-W46/")
    for part in attachments:
        assert part.get_payload(decode=True) == objects[f"weekly/iso_week=2026-W46/{part.get_filename()}"]
    assert message["Subject"] == f"Weekly sales 2026-W46: {result.orders:,} orders, {result.lines:,} lines"
    assert SENDER in message["From"] and [a.strip() for a in message["To"].split(",")] == list(RECIPIENTS)
    assert sent.source == SENDER and set(sent.destinations) == set(RECIPIENTS)  # moto adds the To: header's
    assert run.calls[-1]["Destinations"] == list(RECIPIENTS)
    assert run.calls[-1]["ConfigurationSetName"] == CONFIGURATION_SET
    assert result.message_id and not run.target.inbox.messages(), "e-mail mode sends no SNS text"


def test_headline_figures_and_the_change_against_the_previous_week(email_run, generated_lines) -> None:
    _run, (_, sent_first), (_, sent), _ = email_run
    text, html, _ = message_parts(sent.raw)
    this, last = week_lines(generated_lines, "2026-W46"), week_lines(generated_lines, "2026-W45")
    [[orders, customers, repeat, lines, _units]] = reference.week_totals(this)
    [[orders_before, customers_before, repeat_before, lines_before, _]] = reference.week_totals(last)
    for body in (text, html):
        for now, before in ((orders, orders_before), (lines, lines_before), (customers, customers_before),
                            (repeat, repeat_before)):  # fmt: skip
            delta = int(now) - int(before)
            assert f"{int(now):,}" in body and f"{int(before):,}" in body
            assert f"{'+' if delta > 0 else '-'}{abs(delta):,} ({'+' if delta > 0 else '-'}" in body
        revenue, revenue_before = revenue_by_currency(this), revenue_by_currency(last)
        assert len(revenue) >= 3
        for currency, amount in revenue.items():
            assert f"{currency} {amount:,.2f}" in body
            assert f"{currency} {revenue_before[currency]:,.2f}" in body
    first_text, _, _ = message_parts(sent_first.raw)
    assert "No previous week: 2026-W44 was not exported" in first_text


def test_top_products_and_the_revenue_chart_per_channel_and_day(email_run, generated_lines) -> None:
    _run, _first, (_, sent), _ = email_run
    text, html, _ = message_parts(sent.raw)
    this = week_lines(generated_lines, "2026-W46")
    units: dict[str, int] = defaultdict(int)
    names = {}
    for line in this:
        units[line["sku"]] += line["quantity"]
        names[line["sku"]] = line["product_name"]
    top = sorted(units, key=lambda sku: (-units[sku], sku))[:5]
    listed = [re.search(rf"\d\. (.+?) \({re.escape(sku)}, ", text) for sku in top]
    assert all(listed) and [m.group(1) for m in listed] == [names[sku] for sku in top]
    positions = [text.index(f"({sku}, ") for sku in top]
    assert positions == sorted(positions), "ranked by units"
    # The chart: one bar row per day for the leading currency, each day's total and a segment per channel.
    daily = reference.daily_revenue(this, UTC)
    orders_per_currency: dict[str, int] = defaultdict(int)
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for day, _channel, currency, day_orders, _lines, revenue in daily:
        orders_per_currency[currency] += int(day_orders)
        totals[(currency, day)] += Decimal(revenue)
    leading = max(orders_per_currency, key=lambda currency: (orders_per_currency[currency], currency))
    for day in range(9, 16):
        label = datetime(2026, 11, day).strftime("%a %d %b")
        assert label in html
        assert f"{leading} {totals[(leading, f'2026-11-{day:02d}')]:,.2f}" in html
    assert html.count('height="14" bgcolor="#') >= 7 * 2, "stacked channel segments"
    for channel in {line["channel"] for line in this}:
        assert f">{channel}</td>" in html


def test_links_are_cloudfront_signed_urls_valid_for_the_configured_days(email_run) -> None:
    run, _first, (result, sent), (started, finished) = email_run
    text, html, _ = message_parts(sent.raw)
    urls = re.findall(r'href="([^"]+)"', html)
    files = [*result.keys.values(), result.manifest_key]
    assert len(urls) == len(files) == 6
    public_key = run.key.public_key()
    for url, key in zip(urls, files, strict=True):
        url = url.replace("&amp;", "&")
        assert url in text, "the plain-text part carries the same links"
        unsigned, expires, key_pair_id = verify_signed_url(url, public_key)
        assert unsigned == f"{BASE_URL}/{key.removeprefix('weekly/')}" and key_pair_id == KEY_PAIR_ID
        issued = datetime.fromtimestamp(expires, UTC) - timedelta(days=7)
        assert started.replace(microsecond=0) <= issued <= finished
        assert "X-Amz-" not in url and "s3.amazonaws.com" not in url
    tampered = urls[0].replace("&amp;", "&").replace("order_lines.csv", "product_demand.csv")
    with pytest.raises(InvalidSignature):
        verify_signed_url(tampered, public_key)
    with pytest.raises(InvalidSignature):
        verify_signed_url(urls[0].replace("&amp;", "&"), new_signing_key().public_key())
    assert "until " + datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%d %H:%M UTC") in text


def test_the_html_is_mail_client_safe_and_fetches_nothing(email_run) -> None:
    _run, _first, (_, sent), _ = email_run
    _, html, _ = message_parts(sent.raw)
    assert re.findall(r"https?://[^\s\"'<>]+", html) == [
        url for url in re.findall(r'href="([^"]+)"', html) if url.startswith(BASE_URL)
    ], "the download links are the only URLs"
    for forbidden in ("<style", "<script", "<img", "<link", " class=", "url(", "@import"):
        assert forbidden not in html.lower()


def test_the_suspect_warning_comes_first(email_run) -> None:
    from exporter.notice.render import NoticeContext, render_notice
    from exporter.week_summary import figures_from_reports, read_reports, suspect_reason

    run, _first, (result, _), _ = email_run
    manifest = {**result.manifest, "suspect": {"reason": "orders fell 80% below the 8-week median"}}
    figures = figures_from_reports(manifest, read_reports(run.aws.client("s3"), run.target.bucket, manifest))
    context = NoticeContext("dev", "UTC", result.window_utc, 0, {}, {}, [], suspect_reason(manifest))
    rendered = render_notice(figures, None, "2026-W45", context)
    assert rendered.text.splitlines()[0] == "CHECK BEFORE USE: orders fell 80% below the 8-week median"
    body = rendered.html.split("<body", 1)[1]
    assert body.index("Check before use: orders fell 80% below") < body.index("Weekly sales 2026-W46")
    assert rendered.subject.startswith("[CHECK BEFORE USE] Weekly sales 2026-W46")
    assert suspect_reason({"suspect": True}) and suspect_reason({"suspect": False}) is None


def test_product_names_are_escaped(email_run) -> None:
    from exporter.notice.render import NoticeContext, render_notice
    from exporter.week_summary import Product, WeekFigures

    _run, _first, (result, _), _ = email_run
    name = '<script>alert("x")</script> Öl & <b>Essig</b>'
    figures = WeekFigures("2026-W46", 1, 1, top_products=[Product("S-1", name, "<i>Food</i>", 3, 1, {})])
    context = NoticeContext("dev", "UTC", result.window_utc, 0, {}, {}, [])
    rendered = render_notice(figures, None, "2026-W45", context)
    assert (
        "<script>" not in rendered.html and "<b>Essig" not in rendered.html and "<i>Food" not in rendered.html
    )
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Öl &amp; &lt;b&gt;Essig&lt;/b&gt;" in rendered.html
    )
    assert name in rendered.text


def test_an_unverified_sender_fails_after_a_complete_export(email_run) -> None:
    run, _first, _second, _ = email_run
    with pytest.raises(
        NoticeError, match=r"the export is complete but the e-mail .* failed: MessageRejected"
    ):
        run.export("2026-W47", EMAIL_FROM="someone@not-verified.example.org")
    assert "weekly/iso_week=2026-W47/manifest.json" in run.target.objects("weekly/iso_week=2026-W47/")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"NOTIFY": "pigeon"}, "NOTIFY must be 'email'"),
        ({"EMAIL_FROM": ""}, "EMAIL_FROM is not set"),
        ({"EMAIL_TO": "analyst"}, "EMAIL_TO must list e-mail addresses"),
        ({"DOWNLOAD_BASE_URL": "http://d1.cloudfront.net"}, "DOWNLOAD_BASE_URL must be https://"),
        ({"DOWNLOAD_LINK_DAYS": "0"}, "DOWNLOAD_LINK_DAYS must be 1 to 90"),
        ({"DOWNLOAD_SIGNING_KEY_SECRET_ID": ""}, "DOWNLOAD_SIGNING_KEY_SECRET_ID is not set"),
    ],
)
def test_email_settings_are_validated(shared_target, override, message) -> None:
    from analyst_kit import email_environment

    with pytest.raises(SettingsError, match=message):
        settings_from_env({**shared_target.env, **email_environment("secret"), **override})


def test_the_emails_contain_no_input_pii(email_run, small_events) -> None:
    _records, stats = small_events
    _run, (_, first), (_, second), _ = email_run
    bodies = []
    for sent in (first, second):
        text, html, attachments = message_parts(sent.raw)
        bodies += [text, html, *(data.decode("utf-8-sig") for data in attachments.values())]
    everything = "\n".join(bodies)
    assert "Weekly sales 2026-W46" in everything and len(everything) > 100_000
    for kind in ("customer_id", "email", "full_name", "phone", "street"):
        assert stats.pii[kind], kind
        leaked = sorted(value for value in stats.pii[kind] if value in everything)
        assert not leaked, f"{kind} leaked into the e-mail: {leaked[:5]}"
