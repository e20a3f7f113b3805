"""One small HTTP layer under every Confluent Cloud REST client (Flink statements, Schema Registry, and
later Tableflow and Metrics): base URL, HTTP Basic credentials from environment variables, timeouts,
retries with backoff, paging, and errors that never carry a credential.

* Retries (urllib3's ``Retry`` on a requests ``Session``): connection errors, 5xx and 429 on the
  idempotent methods; 429 also on POST (a rate-limited request was not processed, so sending it again
  is safe; a 5xx POST is never repeated). ``Retry-After`` is honoured (capped), otherwise exponential
  backoff.
* Paging: :meth:`ConfluentHttp.pages` follows ``metadata.next`` links, only on the same host, so a
  link can never send the credentials elsewhere.
* Redaction: an error names the API, the method, the path (ids and statement names only) and what the
  server said, with the key, the secret and the Basic token replaced by ``***``. Request and response
  bodies are never logged: a statement's text may hold a pepper.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

logger = logging.getLogger("salesflow.cloud.confluent")

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
MAX_RETRIES = 6
BACKOFF_FACTOR = 0.5  # 0.5, 1, 2, 4, 8 s ... (urllib3 caps each wait at 120 s)
MAX_RETRY_AFTER = 60.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
REDACTED = "***"


class ConfluentApiError(RuntimeError):
    """A Confluent API call failed. ``status`` is the HTTP status (None: no response); the message
    names the API, method and path and holds the server's own words, never a credential."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class CredentialsMissing(ConfluentApiError):
    """The environment variables holding an API key or secret are not set."""


@dataclass(frozen=True)
class ApiCredentials:
    """An API key and its secret (HTTP Basic). Never printed: ``repr`` shows the key variable only."""

    key: str = field(repr=False)
    secret: str = field(repr=False)
    source: str = ""

    @classmethod
    def from_environment(cls, key_variable: str, secret_variable: str, what: str) -> ApiCredentials:
        key, secret = os.environ.get(key_variable, ""), os.environ.get(secret_variable, "")
        missing = [name for name, value in ((key_variable, key), (secret_variable, secret)) if not value]
        if missing:
            raise CredentialsMissing(f"{what}: set {' and '.join(missing)} (the API key and its secret)")
        return cls(key=key, secret=secret, source=key_variable)

    def secrets(self) -> tuple[str, ...]:
        """Every form in which these credentials could leak into text."""
        token = base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        return tuple(value for value in (token, self.secret, self.key) if value)


class _Retry(Retry):
    """urllib3's Retry, plus: 429 is retried on POST too, and Retry-After is capped."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 429 and method.upper() == "POST" and self.total:
            return True
        return super().is_retry(method, status_code, has_retry_after)

    def parse_retry_after(self, retry_after: str) -> float:
        return min(super().parse_retry_after(retry_after), MAX_RETRY_AFTER)


def retry_policy(max_retries: int = MAX_RETRIES, backoff_factor: float = BACKOFF_FACTOR) -> Retry:
    return _Retry(
        total=max_retries,
        connect=max_retries,
        read=0,  # a read timeout may mean the server acted: never repeat it blindly
        status=max_retries,
        backoff_factor=backoff_factor,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD", "DELETE", "PUT", "OPTIONS"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )


def check_endpoint(url: str) -> str:
    """``url`` without a trailing slash; plain http only for loopback (tests), never with credentials
    over the network."""
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise ConfluentApiError(f"endpoint {url!r}: expected https://<host>")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ConfluentApiError(f"endpoint {url!r}: use https (credentials would travel in clear text)")
    return url.rstrip("/")


class ConfluentHttp:
    """A session for one Confluent API (``api`` names it in errors and logs)."""

    def __init__(
        self,
        api: str,
        base_url: str,
        credentials: ApiCredentials,
        *,
        timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
        retry: Retry | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.api = api
        self.base_url = check_endpoint(base_url)
        self.timeout = timeout
        self._secrets = credentials.secrets()
        self._session = requests.Session()
        self._session.auth = (credentials.key, credentials.secret)
        self._session.headers.update({"User-Agent": "salesflow", **(headers or {})})
        self._session.trust_env = False  # no ~/.netrc or proxy credentials sneaking in
        adapter = HTTPAdapter(max_retries=retry or retry_policy())
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> ConfluentHttp:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        expect: tuple[int, ...] = (200,),
        allow: tuple[int, ...] = (),
    ) -> requests.Response:
        """Send one request (retried as above). Returns the response when its status is in
        ``expect`` or ``allow``; raises :class:`ConfluentApiError` otherwise."""
        url = path if path.startswith(("https://", "http://")) else f"{self.base_url}{path}"
        shown = urlsplit(url).path
        try:
            response = self._session.request(
                method, url, params=params, json=json, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as exc:
            # requests' messages may name the URL and its connection pool; never the headers, but redact
            # anyway, and drop the chained exception so no traceback repeats the request.
            raise ConfluentApiError(
                self.redact(f"{self.api}: {method} {shown}: {type(exc).__name__}: {exc}")
            ) from None
        retries = getattr(response.raw, "retries", None)
        attempts = len(retries.history) + 1 if retries is not None else 1
        logger.info("%s %s %s -> %s (attempt %d)", self.api, method, shown, response.status_code, attempts)
        if response.status_code in expect or response.status_code in allow:
            return response
        raise self.error_from(method, shown, response)

    def json(self, method: str, path: str, **settings: Any) -> Any:
        response = self.request(method, path, **settings)
        return response.json() if response.content else None

    def pages(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        next_link: Callable[[Any], str | None] = lambda body: (body.get("metadata") or {}).get("next"),
        max_pages: int = 1000,
    ) -> Iterator[Any]:
        """Every page of a paged collection, following ``metadata.next`` (same host only)."""
        url: str | None = f"{self.base_url}{path}"
        base = urlsplit(self.base_url)
        for _ in range(max_pages):
            body = self.json("GET", url, params=params)
            yield body
            link = next_link(body) if isinstance(body, dict) else None
            if not link:
                return
            url, params = urljoin(f"{self.base_url}/", link), None
            target = urlsplit(url)
            if (target.scheme, target.netloc) != (base.scheme, base.netloc):
                raise ConfluentApiError(
                    f"{self.api}: next page {target.path} is on another host; not followed"
                )
        raise ConfluentApiError(f"{self.api}: more than {max_pages} pages of {urlsplit(path).path}")

    def error_from(self, method: str, path: str, response: requests.Response) -> ConfluentApiError:
        detail, code = _server_detail(response)
        reason = response.reason or ""
        message = f"{self.api}: {method} {path}: HTTP {response.status_code} {reason}".rstrip()
        if detail:
            message += f": {detail}"
        if response.status_code == 429:
            message += " (rate limited; retries exhausted)"
        return ConfluentApiError(self.redact(message), status=response.status_code, code=code)


def _server_detail(response: requests.Response) -> tuple[str, str | None]:
    """The server's own explanation: Confluent's ``errors[]`` (title, detail) or Schema Registry's
    ``{error_code, message}``."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300].strip(), None
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        parts, code = [], None
        for error in body["errors"]:
            if isinstance(error, dict):
                code = code or error.get("code")
                parts.append(" - ".join(str(error[k]) for k in ("title", "detail") if error.get(k)))
        return "; ".join(part for part in parts if part), code
    if isinstance(body, dict) and ("message" in body or "error_code" in body):
        code = body.get("error_code")
        return str(body.get("message", "")), None if code is None else str(code)
    return "", None
