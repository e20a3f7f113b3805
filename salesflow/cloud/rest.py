"""A small JSON-over-HTTPS reader for the control-plane APIs the doctor asks (GitHub, Confluent Cloud).

Standard library only; read-only (GET). 404 is ``None``, 401/403 raise ``PermissionError`` (the caller
may not look, which is not the same as missing); credentials go in a header and never into a message.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any

TIMEOUT_SECONDS = 20


class RestReader:
    def __init__(self, base_url: str, headers: Mapping[str, str]) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"Accept": "application/json", "User-Agent": "salesflow-doctor", **headers}

    def get(self, path: str) -> Any | None:
        request = urllib.request.Request(f"{self.base_url}{path}", headers=self._headers, method="GET")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            if exc.code in (401, 403):
                raise PermissionError(
                    f"{path}: HTTP {exc.code} (the credentials may not read this)"
                ) from None
            raise

    def pages(self, path: str, items: str, next_of: Any) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list; ``next_of(body)`` gives the next path or None."""
        while path:
            body = self.get(path) or {}
            yield from body.get(items) or []
            path = next_of(body)
