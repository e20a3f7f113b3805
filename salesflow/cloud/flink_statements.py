"""Confluent Cloud Flink statements (``sql/v1``): create, read, wait, read results, delete.

Typed on what salesflow reads of a statement (name, ``status.phase``, ``status.detail``,
``status.traits``); unknown fields are ignored, so new server fields never break a run. The contract is
Confluent's OpenAPI document ``flink-gateway_v1_api_openapi.yaml`` (tests/cloud/openapi/).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from salesflow.cloud.confluent_http import ApiCredentials, ConfluentApiError, ConfluentHttp

API = "Flink SQL API"
KEY_VARIABLE, SECRET_VARIABLE = "FLINK_API_KEY", "FLINK_API_SECRET"
DRY_RUN = "sql.dry-run"
# A statement stays in a terminal phase; everything else (including phases added later) is "not yet".
TERMINAL_PHASES = frozenset({"COMPLETED", "FAILED", "STOPPED"})


def flink_endpoint(cloud: str, region: str) -> str:
    """The regional Flink REST endpoint: ``https://flink.<region>.<cloud>.confluent.cloud``."""
    return f"https://flink.{region}.{cloud.lower()}.confluent.cloud"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class DataType(_Model):
    """A column type as the API describes it (Flink's logical type root, e.g. ``VARCHAR``)."""

    type: str
    nullable: bool = True
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    fractional_precision: int | None = None
    element_type: DataType | None = None
    key_type: DataType | None = None
    value_type: DataType | None = None
    fields: list[RowField] | None = None


class RowField(_Model):
    name: str
    field_type: DataType


DataType.model_rebuild()


class ResultColumn(_Model):
    name: str
    type: DataType


class ResultSchema(_Model):
    columns: list[ResultColumn] = []


class Traits(_Model):
    sql_kind: str | None = None
    is_bounded: bool | None = None
    is_append_only: bool | None = None
    upsert_columns: list[int] | None = None
    result_schema: ResultSchema | None = Field(default=None, alias="schema")


class StatementStatus(_Model):
    phase: str
    detail: str | None = None
    traits: Traits | None = None


class Statement(_Model):
    name: str
    status: StatementStatus

    @property
    def phase(self) -> str:
        return self.status.phase

    @property
    def detail(self) -> str:
        return self.status.detail or ""


class StatementExists(ConfluentApiError):
    """409: a statement with this name exists in the environment."""


class StatementTimeout(ConfluentApiError):
    """A statement did not reach a terminal phase within the wait."""

    def __init__(self, message: str, last: Statement | None) -> None:
        super().__init__(message)
        self.last = last


class FlinkStatements:
    """The statements of one organization and environment, through one regional endpoint."""

    def __init__(self, http: ConfluentHttp, organization_id: str, environment_id: str) -> None:
        self.http = http
        self._base = (
            f"/sql/v1/organizations/{quote(organization_id, safe='')}"
            f"/environments/{quote(environment_id, safe='')}/statements"
        )

    @classmethod
    def connect(
        cls,
        endpoint: str,
        organization_id: str,
        environment_id: str,
        credentials: ApiCredentials | None = None,
    ) -> FlinkStatements:
        """A client with the Flink API key from ``FLINK_API_KEY``/``FLINK_API_SECRET``."""
        credentials = credentials or ApiCredentials.from_environment(KEY_VARIABLE, SECRET_VARIABLE, API)
        return cls(ConfluentHttp(API, endpoint, credentials), organization_id, environment_id)

    def _path(self, name: str, suffix: str = "") -> str:
        return f"{self._base}/{quote(name, safe='')}{suffix}"

    def create(
        self,
        name: str,
        statement: str,
        *,
        properties: Mapping[str, str],
        compute_pool_id: str | None = None,
    ) -> Statement:
        spec: dict[str, Any] = {"statement": statement, "properties": dict(properties)}
        if compute_pool_id:
            spec["compute_pool_id"] = compute_pool_id
        response = self.http.request(
            "POST", self._base, json={"name": name, "spec": spec}, expect=(200, 201), allow=(409,)
        )
        if response.status_code == 409:
            raise StatementExists(f"{API}: a statement named {name} already exists", status=409)
        return Statement.model_validate(response.json())

    def get(self, name: str) -> Statement | None:
        """The statement, or None when it does not exist (any more)."""
        response = self.http.request("GET", self._path(name), allow=(404,))
        return None if response.status_code == 404 else Statement.model_validate(response.json())

    def delete(self, name: str) -> bool:
        """Ask for deletion (202); False when there was nothing to delete (404)."""
        response = self.http.request("DELETE", self._path(name), expect=(200, 202, 204), allow=(404,))
        return response.status_code != 404

    def wait(
        self,
        name: str,
        *,
        timeout: float,
        poll_interval: float,
        done: Callable[[Statement], bool] = lambda s: s.phase in TERMINAL_PHASES,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Statement:
        """Poll until ``done`` (by default: a terminal phase); :class:`StatementTimeout` after ``timeout``."""
        deadline, last = clock() + timeout, None
        while True:
            last = self.get(name)
            if last is None:
                raise ConfluentApiError(
                    f"{API}: statement {name} disappeared while waiting for it", status=404
                )
            if done(last):
                return last
            if clock() >= deadline:
                raise StatementTimeout(
                    f"{API}: statement {name} still {last.phase} after {timeout:g} s", last=last
                )
            sleep(poll_interval)

    def wait_deleted(self, name: str, *, timeout: float, poll_interval: float) -> None:
        deadline = time.monotonic() + timeout
        while self.get(name) is not None:
            if time.monotonic() >= deadline:
                raise StatementTimeout(f"{API}: statement {name} still exists after {timeout:g} s", None)
            time.sleep(poll_interval)

    def results(self, name: str) -> Iterator[dict[str, Any]]:
        """Every result row ``{op, row}`` of a statement, page after page (``metadata.next``)."""
        for page in self.http.pages(self._path(name, "/results")):
            data = ((page or {}).get("results") or {}).get("data") or []
            yield from (row for row in data if isinstance(row, dict))
