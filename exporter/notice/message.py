"""The e-mail as MIME: multipart/mixed holding multipart/alternative (text, then HTML) and the CSVs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, formatdate

from exporter.notice.render import RenderedNotice

SENDER_NAME = "salesflow exports"


def build_message(
    rendered: RenderedNotice, sender: str, recipients: Sequence[str], attachments: Mapping[str, bytes]
) -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["Subject"] = rendered.subject
    message["From"] = formataddr((SENDER_NAME, sender))
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(usegmt=True)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to a robot
    message.set_content(rendered.text, subtype="plain", charset="utf-8")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    for name, data in attachments.items():
        # Bytes as published (byte-order mark included), base64: mail servers never re-encode them.
        message.add_attachment(data, maintype="text", subtype="csv", filename=name)
    return message


def message_parts(raw: bytes) -> tuple[str, str, dict[str, bytes]]:
    """(text, html, attachments by file name) of a raw message: what a mail client shows."""
    from email import message_from_bytes
    from email.policy import default

    message = message_from_bytes(raw, policy=default)
    body_text = message.get_body(preferencelist=("plain",))
    body_html = message.get_body(preferencelist=("html",))
    attachments = {part.get_filename(): part.get_payload(decode=True) for part in message.iter_attachments()}
    text = body_text.get_content() if body_text is not None else ""
    html = body_html.get_content() if body_html is not None else ""
    return text.replace("\r\n", "\n"), html.replace("\r\n", "\n"), attachments  # as a client shows them
