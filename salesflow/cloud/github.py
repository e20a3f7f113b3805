"""GitHub's REST API, read-only: does a repository environment exist, and which variables and secrets
(names only) does it have. Token: ``GITHUB_TOKEN``."""

from __future__ import annotations

import os

from salesflow.cloud.rest import RestReader

API = "https://api.github.com"


class GitHubReader:
    def __init__(self, token: str, base_url: str = API) -> None:
        self._rest = RestReader(
            base_url, {"Authorization": f"Bearer {token}", "X-GitHub-Api-Version": "2022-11-28"}
        )

    @classmethod
    def from_environment(cls, base_url: str | None = None) -> GitHubReader | None:
        token = os.environ.get("GITHUB_TOKEN")
        return cls(token, base_url or os.environ.get("SALESFLOW_GITHUB_API", API)) if token else None

    def environment(self, repository: str, name: str) -> dict[str, set[str]] | None:
        """``{"variables": names, "secrets": names}`` of ``repository``'s environment, or None."""
        base = f"/repos/{repository}/environments/{name}"
        if self._rest.get(base) is None:
            return None
        found: dict[str, set[str]] = {}
        for kind in ("variables", "secrets"):
            body = self._rest.get(f"{base}/{kind}?per_page=100") or {}
            found[kind] = {entry["name"] for entry in body.get(kind) or []}
        return found
