"""The Confluent APIs the monitor reads, played on the contract-checking test server (confluent_server.py):
the Metrics API's query (``MetricsState``), Tableflow topics (``TableflowState``) and Tableflow's Iceberg REST
catalog (``IcebergCatalog``), which serves a real PyIceberg table's metadata file and checks every answer with
PyIceberg's own REST models (the ones its ``RestCatalog``, hence the exporter, parses them with).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from confluent_server import Call, ConfluentTestServer, Reply, failure
from pydantic import BaseModel, ValidationError
from werkzeug.wrappers import Request

METRICS_QUERY = "post /v2/metrics/{dataset}/query"
TABLEFLOW_GET = "getTableflowV1TableflowTopic"
CATALOG_PREFIX = "/iceberg/catalog/"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _equalities(node: Any) -> dict[str, str]:
    """The field = value pairs of a filter made of EQ leaves joined by AND."""
    if not node:
        return {}
    if node.get("op") == "AND":
        found: dict[str, str] = {}
        for child in node["filters"]:
            found.update(_equalities(child))
        return found
    if node.get("op") == "EQ":
        return {node["field"]: str(node["value"])}
    raise AssertionError(f"the monitor sends only EQ filters joined by AND, got {node}")


class MetricsState:
    """Per-minute series by (metric, filters); a query returns the points of its interval, newest first."""

    def __init__(self, server: ConfluentTestServer) -> None:
        self.series: dict[tuple[str, frozenset[tuple[str, str]]], list[tuple[datetime, float]]] = {}
        self.queries: list[dict[str, Any]] = []
        server.register(METRICS_QUERY, self._query)

    def reset(self) -> None:
        self.series.clear()
        self.queries.clear()

    def set(self, metric: str, filters: Mapping[str, str], points: list[tuple[datetime, float]]) -> None:
        self.series[(metric, frozenset(filters.items()))] = points

    def _query(self, call: Call) -> Reply:
        if not call.authorized:
            return Reply(401, {"errors": [{"status": "401", "detail": "Invalid API key"}]})
        self.queries.append(call.json)
        assert call.path_params["dataset"] == "cloud"
        assert call.json["granularity"] == "PT1M"
        (aggregation,) = call.json["aggregations"]
        start_text, end_text = call.json["intervals"][0].split("/")
        start, end = _instant(start_text), _instant(end_text)
        key = (aggregation["metric"], frozenset(_equalities(call.json.get("filter")).items()))
        points = [(at, value) for at, value in self.series.get(key, []) if start <= at < end]
        data = [{"timestamp": iso(at), "value": value} for at, value in sorted(points, reverse=True)]
        return Reply(200, {"data": data})


class TableflowState:
    """Tableflow topics of one environment and cluster: phase, suspended, error message."""

    def __init__(self, server: ConfluentTestServer, environment_id: str, cluster_id: str) -> None:
        self.server = server
        self.environment_id = environment_id
        self.cluster_id = cluster_id
        self.topics: dict[str, dict[str, Any]] = {}
        server.register(TABLEFLOW_GET, self._get)

    def reset(self) -> None:
        self.topics.clear()

    def enable(self, topic: str, phase: str = "RUNNING", suspended: bool = False, error: str = "") -> None:
        self.topics[topic] = {"phase": phase, "suspended": suspended, "error_message": error}

    def _get(self, call: Call) -> Reply:
        if not call.authorized:
            return Reply(401, failure(401, "Unauthorized", "Invalid API key"))
        name = call.path_params["display_name"]
        where = (call.query.get("environment"), call.query.get("spec.kafka_cluster"))
        if where != (self.environment_id, self.cluster_id) or name not in self.topics:
            return Reply(404, failure(404, "Not Found", f"tableflow topic {name} not found"))
        state = self.topics[name]
        base = f"{self.server.url}/tableflow/v1/tableflow-topics/{name}"
        crn = f"crn://confluent.cloud/organization=o/environment={self.environment_id}"
        status = {"phase": state["phase"], "write_mode": "APPEND"}
        if state["error_message"]:
            status["error_message"] = state["error_message"]
        return Reply(
            200,
            {
                "api_version": "tableflow/v1",
                "kind": "TableflowTopic",
                "metadata": {"self": base, "resource_name": f"{crn}/tableflow-topic={name}"},
                "spec": {
                    "display_name": name,
                    "suspended": state["suspended"],
                    "storage": {"kind": "Managed"},
                    "table_formats": ["ICEBERG"],
                    "environment": {"id": self.environment_id, "related": base, "resource_name": crn},
                    "kafka_cluster": {
                        "id": self.cluster_id,
                        "environment": self.environment_id,
                        "related": base,
                        "resource_name": f"{crn}/kafka={self.cluster_id}",
                    },
                },
                "status": status,
            },
        )


class IcebergCatalog:
    """Tableflow's Iceberg REST catalog for one environment: OAuth2 client credentials (a Tableflow key,
    scope ``catalog``), ``/v1/config`` and ``loadTable`` of the tables registered with ``serve``. Each answer
    must parse with PyIceberg's model of it, or the server records a problem."""

    def __init__(self, server: ConfluentTestServer, organization_id: str, environment_id: str) -> None:
        self.root = f"{CATALOG_PREFIX}organizations/{organization_id}/environments/{environment_id}"
        self.credentials: tuple[str, str] = ("", "")
        self.tables: dict[tuple[str, str], Callable[[], str]] = {}
        self.tokens: set[str] = set()
        self.overrides: dict[str, str] = {}
        server.mount(CATALOG_PREFIX, self._handle)

    @property
    def path(self) -> str:
        return self.root

    def reset(self) -> None:
        self.tables.clear()
        self.tokens.clear()
        self.overrides = {}

    def serve(self, namespace: str, table: str, metadata_location: Callable[[], str]) -> None:
        """``loadTable`` of (namespace, table) answers with the metadata file ``metadata_location()``."""
        self.tables[(namespace, table)] = metadata_location

    def _handle(self, request: Request) -> tuple[Reply, list[str]]:
        from pyiceberg.catalog.rest import ConfigResponse, TableResponse
        from pyiceberg.catalog.rest.auth import TokenResponse

        path = request.path
        if not path.startswith(self.root + "/"):
            return Reply(404, _iceberg_error(404, "NoSuchCatalog", f"no catalog at {path}")), []
        route = path.removeprefix(self.root)
        if request.method == "POST" and route == "/v1/oauth/tokens":
            return self._token(request, TokenResponse)
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.tokens:
            return Reply(401, _iceberg_error(401, "NotAuthorized", "missing or unknown bearer token")), []
        if request.method == "GET" and route == "/v1/config":
            return _checked(Reply(200, {"defaults": {}, "overrides": self.overrides}), ConfigResponse)
        parts = route.split("/")
        if request.method == "GET" and len(parts) == 6 and parts[2] == "namespaces" and parts[4] == "tables":
            key = (unquote(parts[3]), unquote(parts[5]))
            if key not in self.tables:
                return Reply(404, _iceberg_error(404, "NoSuchTableException", f"no table {key}")), []
            location = self.tables[key]()
            metadata = json.loads(Path(urlsplit(location).path).read_text(encoding="utf-8"))
            reply = Reply(200, {"metadata-location": location, "metadata": metadata, "config": {}})
            return _checked(reply, TableResponse)
        return Reply(404, _iceberg_error(404, "NotFound", f"{request.method} {route}")), [
            f"Iceberg catalog: unexpected {request.method} {route}"
        ]

    def _token(self, request: Request, model: type[BaseModel]) -> tuple[Reply, list[str]]:
        form = request.form
        problems = (
            []
            if form.get("grant_type") == "client_credentials"
            else ["token: grant_type is not client_credentials"]
        )
        if form.get("scope") != "catalog":
            problems.append(f"token: scope {form.get('scope')!r}, Tableflow's is 'catalog'")
        if (form.get("client_id"), form.get("client_secret")) != self.credentials:
            return Reply(401, {"error": "invalid_client", "error_description": "bad credentials"}), problems
        token = uuid.uuid4().hex
        self.tokens.add(token)
        body = {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": 3600,
            "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
        }
        reply, more = _checked(Reply(200, body), model)
        return reply, problems + more


def _iceberg_error(code: int, kind: str, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": code}}


def _checked(reply: Reply, model: type[BaseModel]) -> tuple[Reply, list[str]]:
    try:
        model.model_validate_json(json.dumps(reply.body))
    except ValidationError as exc:
        return reply, [f"Iceberg catalog: answer breaks PyIceberg's {model.__name__}: {exc}"]
    return reply, []
