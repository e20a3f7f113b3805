"""One small JSON client on urllib3 (which ships with botocore, so the zip needs no requests).

* Bounded: connect 5 s, read 20 s, at most 2 retries of connection errors, 429 and 5xx (GET and POST: every
  call the monitor makes only reads, so repeating one is safe), honouring ``Retry-After`` up to 10 s. A run
  stays well inside the Lambda's timeout even when every API is slow.
* Credentials travel over https only (plain http to loopback: the tests).
* Errors name the API, the method, the path and the server's own words; the key, the secret and any token
  are replaced by ``***``. Bodies are never logged: a statement's text holds the PII pepper.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import urllib3
from urllib3.util.retry import Retry

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_RETRY_AFTER = 10.0
REDACTED = "***"


class ApiError(RuntimeError):
    """A call failed; ``status`` is the HTTP status (None: no response). Never holds a credential."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Credentials:
    """An API key and its secret. ``repr`` never shows them."""

    key: str = field(repr=False)
    secret: str = field(repr=False)

    @classmethod
    def parse(cls, text: str, what: str) -> Credentials:
        """``key:secret`` (the form every salesflow secret holds)."""
        key, sep, secret = text.strip().partition(":")
        if not sep or not key or not secret:
            raise ValueError(f"{what} must be 'key:secret'")
        return cls(key, secret)

    def basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()

    def secrets(self) -> tuple[str, ...]:
        return (self.basic().removeprefix("Basic "), self.secret, self.key)


class _Retry(Retry):
    def parse_retry_after(self, retry_after: str) -> float:
        return min(super().parse_retry_after(retry_after), MAX_RETRY_AFTER)


def pool_manager(retries: int = 2, backoff: float = 0.5) -> urllib3.PoolManager:
    retry = _Retry(
        total=retries,
        connect=retries,
        read=0,
        status=retries,
        backoff_factor=backoff,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET", "POST"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    return urllib3.PoolManager(
        retries=retry,
        timeout=urllib3.Timeout(connect=5.0, read=20.0),
        headers={"User-Agent": "salesflow-monitor"},
    )


def check_endpoint(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise ApiError(f"endpoint {url!r}: expected https://<host>")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ApiError(f"endpoint {url!r}: use https (credentials would travel in clear text)")
    return url.rstrip("/")


class JsonClient:
    """Calls to one API (``api`` names it in errors) at ``base_url`` with one Authorization header."""

    def __init__(
        self,
        api: str,
        base_url: str,
        pool: urllib3.PoolManager,
        authorization: str | None = None,
        secrets: Sequence[str] = (),
    ) -> None:
        self.api = api
        self.base_url = check_endpoint(base_url)
        self._pool = pool
        self._authorization = authorization
        self._secrets = tuple(s for s in secrets if s)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        form: Mapping[str, str] | None = None,
        allow: tuple[int, ...] = (),
    ) -> tuple[int, Any]:
        """(status, parsed JSON body or None) for a 2xx or an allowed status; ApiError otherwise."""
        url = f"{self.base_url}{path}" + (f"?{urlencode(params)}" if params else "")
        headers = {"Accept": "application/json"}
        if self._authorization:
            headers["Authorization"] = self._authorization
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        elif form is not None:
            data, headers["Content-Type"] = urlencode(form).encode(), "application/x-www-form-urlencoded"
        shown = urlsplit(url).path
        try:
            response = self._pool.request(method, url, body=data, headers=headers)
        except urllib3.exceptions.HTTPError as exc:
            failure = f"{self.api}: {method} {shown}: {type(exc).__name__}: {exc}"
            raise ApiError(self.redact(failure)) from None
        parsed = _json(response.data)
        if 200 <= response.status < 300 or response.status in allow:
            return response.status, parsed
        message = f"{self.api}: {method} {shown}: HTTP {response.status}"
        detail = _detail(parsed) or response.data[:200].decode("utf-8", "replace").strip()
        if detail:
            message += f": {detail}"
        raise ApiError(self.redact(message), response.status)


def _json(data: bytes) -> Any:
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def _detail(body: Any) -> str:
    """The server's explanation: Confluent's ``errors[]``, or an Iceberg REST ``error`` object."""
    if not isinstance(body, dict):
        return ""
    if isinstance(body.get("errors"), list):
        parts = []
        for error in body["errors"]:
            if isinstance(error, dict):
                parts.append(" - ".join(str(error[k]) for k in ("title", "detail") if error.get(k)))
        return "; ".join(part for part in parts if part)
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or error.get("type") or "")
    return str(error or body.get("message") or "")
