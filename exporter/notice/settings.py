"""How the analysts hear of an export, from the Lambda's environment (Terraform sets it per environment).

``NOTIFY=sns`` (default): the plain-text SNS message, as before. ``NOTIFY=email``: the HTML e-mail
through SES (``EMAIL_FROM``, ``EMAIL_TO``, ``EMAIL_CONFIGURATION_SET``) with signed download links
(``DOWNLOAD_BASE_URL``, ``DOWNLOAD_KEY_PAIR_ID``, ``DOWNLOAD_SIGNING_KEY_SECRET_ID``,
``DOWNLOAD_LINK_DAYS``, default 7).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from exporter.links import DownloadSettings, LinkError, check_base_url

_ADDRESS = re.compile(r"^[^@\s<>,]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_LINK_DAYS = 90


class NoticeSettingsError(ValueError):
    """A notice setting is missing or invalid; the message names the variable and the fix."""


@dataclass(frozen=True)
class EmailSettings:
    sender: str
    recipients: tuple[str, ...]
    configuration_set: str | None
    ses_endpoint_url: str | None = None


@dataclass(frozen=True)
class NoticeSettings:
    mode: Literal["sns", "email"] = "sns"
    email: EmailSettings | None = None
    downloads: DownloadSettings | None = None


def _get(environ: Mapping[str, str], name: str) -> str:
    return environ.get(name, "").strip()


def _required(environ: Mapping[str, str], name: str, hint: str) -> str:
    value = _get(environ, name)
    if not value:
        raise NoticeSettingsError(f"environment variable {name} is not set: {hint} (NOTIFY=email needs it)")
    return value


def notice_settings_from_env(environ: Mapping[str, str]) -> NoticeSettings:
    mode = _get(environ, "NOTIFY") or "sns"
    if mode not in ("sns", "email"):
        raise NoticeSettingsError(f"NOTIFY must be 'email' (SES, HTML) or 'sns' (plain text), got {mode!r}")
    if mode == "sns":
        return NoticeSettings()
    sender = _required(environ, "EMAIL_FROM", "the sender address on the SES identity's domain")
    if not _ADDRESS.match(sender):
        raise NoticeSettingsError(f"EMAIL_FROM {sender!r} is not an e-mail address")
    recipients = tuple(
        part.strip()
        for part in _required(environ, "EMAIL_TO", "comma-separated analyst addresses").split(",")
        if part.strip()
    )
    bad = [address for address in recipients if not _ADDRESS.match(address)]
    if bad or not recipients:
        raise NoticeSettingsError(f"EMAIL_TO must list e-mail addresses, got {bad or recipients!r}")
    configuration_set = _get(environ, "EMAIL_CONFIGURATION_SET") or None
    if configuration_set is not None and not _NAME.match(configuration_set):
        raise NoticeSettingsError(
            f"EMAIL_CONFIGURATION_SET {configuration_set!r} is not a configuration set name"
        )
    days_text = _get(environ, "DOWNLOAD_LINK_DAYS") or "7"
    if not days_text.isdigit() or not 1 <= int(days_text) <= MAX_LINK_DAYS:
        raise NoticeSettingsError(f"DOWNLOAD_LINK_DAYS must be 1 to {MAX_LINK_DAYS} days, got {days_text!r}")
    try:
        base_url = check_base_url(_required(environ, "DOWNLOAD_BASE_URL", "https://<distribution domain>"))
    except LinkError as exc:
        raise NoticeSettingsError(str(exc)) from None
    downloads = DownloadSettings(
        base_url=base_url,
        key_pair_id=_required(environ, "DOWNLOAD_KEY_PAIR_ID", "the CloudFront public key id that signs"),
        signing_key_secret_id=_required(
            environ, "DOWNLOAD_SIGNING_KEY_SECRET_ID", "the Secrets Manager secret holding the private key"
        ),
        days=int(days_text),
    )
    email = EmailSettings(
        sender=sender,
        recipients=recipients,
        configuration_set=configuration_set,
        ses_endpoint_url=_get(environ, "SES_ENDPOINT_URL") or None,
    )
    return NoticeSettings(mode="email", email=email, downloads=downloads)
