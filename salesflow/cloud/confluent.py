"""Confluent Cloud's control-plane API, read-only: environments and service accounts by name.
Credentials: a Cloud API key in ``CONFLUENT_CLOUD_API_KEY``/``CONFLUENT_CLOUD_API_SECRET``."""

from __future__ import annotations

import base64
import os
from typing import Any
from urllib.parse import urlsplit

from salesflow.cloud.rest import RestReader

API = "https://api.confluent.cloud"
PAGE_SIZE = 100


def _next_path(body: dict[str, Any]) -> str | None:
    url = (body.get("metadata") or {}).get("next")
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


class ConfluentReader:
    def __init__(self, key: str, secret: str, base_url: str = API) -> None:
        token = base64.b64encode(f"{key}:{secret}".encode()).decode()
        self._rest = RestReader(base_url, {"Authorization": f"Basic {token}"})

    @classmethod
    def from_environment(cls, base_url: str | None = None) -> ConfluentReader | None:
        key, secret = os.environ.get("CONFLUENT_CLOUD_API_KEY"), os.environ.get("CONFLUENT_CLOUD_API_SECRET")
        if not key or not secret:
            return None
        return cls(key, secret, base_url or os.environ.get("SALESFLOW_CONFLUENT_API", API))

    def environment(self, environment_id: str | None, display_name: str) -> str | None:
        """The environment's id, by id when known, else by display name (None: not there)."""
        if environment_id is not None:
            found = self._rest.get(f"/org/v2/environments/{environment_id}")
            return found["id"] if found else None
        for entry in self._rest.pages(f"/org/v2/environments?page_size={PAGE_SIZE}", "data", _next_path):
            if entry.get("display_name") == display_name:
                return entry["id"]
        return None

    def service_account(self, display_name: str) -> str | None:
        for entry in self._rest.pages(f"/iam/v2/service-accounts?page_size={PAGE_SIZE}", "data", _next_path):
            if entry.get("display_name") == display_name:
                return entry["id"]
        return None
