"""No PII leaves: every output of an export (CSVs, manifest, SNS message, logs) is searched for the
fixture's customer ids, e-mails, names, phones and streets."""

from __future__ import annotations

import io

from exporter.log import logger
from salesflow.sql.local_io import pii_leaks

# Postal codes are left out: five digits also occur in amounts and order ids by chance.
KINDS = ("customer_id", "email", "full_name", "phone", "street")


def test_outputs_contain_no_input_pii(shared_target, small_events) -> None:
    _records, stats = small_events
    stream = io.StringIO()
    previous = logger.registered_handler.setStream(stream)
    try:
        for week in ("2026-W45", "2026-W46", "2026-W47"):
            shared_target.export(week)
    finally:
        logger.registered_handler.setStream(previous)
    outputs = [body.decode("utf-8") for body in shared_target.objects().values()]
    outputs += [message["Message"] + message["Subject"] for message in shared_target.inbox.messages()]
    outputs.append(stream.getvalue())
    text = "\n".join(outputs)
    assert "customer_key" in text and len(text) > 500_000, "the search runs over real exports"
    assert all(stats.pii[kind] for kind in KINDS)
    # The search the Flink suite and the demo use: every value as a whole token of the outputs.
    assert pii_leaks(text, {kind: stats.pii[kind] for kind in KINDS}) == []


def test_the_pii_search_can_fail(shared_target, small_events) -> None:
    """The same search finds a value planted in an output, so the check above is not vacuous."""
    _records, stats = small_events
    email = sorted(stats.pii["email"])[0]
    text = "order_time,order_id\n" + f"2026-11-10T10:00:00.000Z,{email}\n"
    assert pii_leaks(text, {kind: stats.pii[kind] for kind in KINDS}) == [f"email: {email!r}"]
