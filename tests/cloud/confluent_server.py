"""A local stand-in for Confluent Cloud's REST APIs that checks itself against Confluent's contract.

``ConfluentTestServer`` is a threaded WSGI server on 127.0.0.1 (random port). For every request it
finds the OpenAPI document and operation that cover the path (``openapi/*.yaml``, vendored from
Confluent's SDK repository), validates the request against it, dispatches it to the handler registered
for that ``operationId``, and validates the response it is about to send against the same document.
Any mismatch is recorded in ``problems`` (the test fixture fails the test on it); an invalid request
also gets a 400, as Confluent would answer. It implements only the operations salesflow uses;
``register`` adds more. ``FlinkGateway`` and ``SchemaRegistryState`` below play those two APIs;
``monitor_apis.py`` plays the Metrics API, Tableflow topics and Tableflow's Iceberg REST catalog (which has
no Confluent document: ``mount`` serves it, and PyIceberg's own models check its answers).

Two requirements of the published Flink document have no counterpart in the SDK's generated models:
``spec.statement_name`` in statement responses and a top-level ``data`` in results. The server sends
both so that its responses satisfy the contract; the client reads neither. The Metrics document (2022)
names no operations (they are known as ``<method> <path template>``) and makes an empty answer
(``{"data": []}``) ambiguous: it satisfies both alternatives of a ``oneOf``. That one ambiguity is
accepted; every other mismatch is a problem.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.paths.finders import APICallPathFinder
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

OPENAPI_DIR = Path(__file__).resolve().parent / "openapi"
FLINK_DOCUMENT = "flink-gateway_v1_api_openapi.yaml"
SCHEMA_REGISTRY_DOCUMENT = "schema-registry_v1_api_openapi.yaml"
METRICS_DOCUMENT = "metrics_v2_api_openapi.yaml"
TABLEFLOW_DOCUMENT = "tableflow_v1_api_openapi.yaml"
JSON_VENDOR_TYPES = ("application/vnd.schemaregistry.v1+json", "application/vnd.schemaregistry+json")
STATEMENT_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


class SpecDocument:
    """One OpenAPI document: finds the operation of a request and validates requests and responses."""

    def __init__(self, path: Path) -> None:
        self.name = path.name
        with path.open(encoding="utf-8") as handle:
            document = yaml.load(handle, Loader=yaml.CSafeLoader)
        self.server_url = document["servers"][0]["url"].rstrip("/")
        # The documents are Confluent's, not ours to lint: skip validating the spec itself (seconds of CPU).
        # Schema Registry's vendor media types are JSON.
        config = Config(
            spec_validator_cls=None,
            extra_media_type_deserializers=dict.fromkeys(JSON_VENDOR_TYPES, _json),
        )
        self.api = OpenAPI.from_dict(document, config=config)
        self._finder = APICallPathFinder(self.api.spec)

    def operation(self, method: str, path: str) -> tuple[str, dict[str, str]] | None:
        """(operationId, path parameters) of a request, or None when this document does not cover it."""
        try:
            found = self._finder.find(method.lower(), f"{self.server_url}{path}")
        except PathError:
            return None
        named = "operationId" in found.operation
        operation_id = (found.operation / "operationId").read_value() if named else None
        return str(operation_id or f"{method.lower()} {found.path_result.pattern}"), dict(
            found.path_result.variables
        )


def _json(data: bytes | str, **_: Any) -> Any:
    return json.loads(data)


class _ContractRequest(WerkzeugOpenAPIRequest):
    """The request as sent to the document's own server URL (the host differs, the path does not)."""

    def __init__(self, request: Request, server_url: str) -> None:
        super().__init__(request)
        self._server_url = server_url

    @property
    def host_url(self) -> str:
        return self._server_url


@dataclass
class Call:
    """A validated request, as handlers see it."""

    operation_id: str
    method: str
    path: str
    path_params: dict[str, str]
    query: dict[str, str]
    json: Any
    authorized: bool


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass(frozen=True)
class Exchange:
    """What the server saw and answered (tests assert on these)."""

    operation_id: str | None
    method: str
    path: str
    status: int
    request: Any
    at: float


Handler = Callable[[Call], Reply]
# A handler of a mounted path prefix: gets the request, returns a Reply and the problems it found.
MountHandler = Callable[[Request], tuple[Reply, list[str]]]


class ConfluentTestServer:
    def __init__(self, documents: list[SpecDocument], key: str, secret: str) -> None:
        self.documents = documents
        self.handlers: dict[str, Handler] = {}
        self.mounts: dict[str, MountHandler] = {}
        self.exchanges: list[Exchange] = []
        self.problems: list[str] = []
        self.injected: dict[str, list[Reply]] = {}
        self._auth = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
        self._lock = threading.RLock()
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> ConfluentTestServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def register(self, operation_id: str, handler: Handler) -> None:
        self.handlers[operation_id] = handler

    def mount(self, prefix: str, handler: MountHandler) -> None:
        """Serve every path under ``prefix`` with ``handler`` (an API without an OpenAPI document)."""
        self.mounts[prefix] = handler

    def inject(self, operation_id: str, *replies: Reply) -> None:
        """Answer the next calls of ``operation_id`` with ``replies`` (e.g. a 429, a 500), then normally."""
        with self._lock:
            self.injected.setdefault(operation_id, []).extend(replies)

    def reset(self) -> None:
        with self._lock:
            self.exchanges.clear()
            self.problems.clear()
            self.injected.clear()

    def calls(self, operation_id: str) -> list[Exchange]:
        with self._lock:
            return [exchange for exchange in self.exchanges if exchange.operation_id == operation_id]

    # -- WSGI -----------------------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        response = self._respond(request)
        return response(environ, start_response)

    def _respond(self, request: Request) -> Response:
        for prefix, mounted in self.mounts.items():
            if request.path.startswith(prefix):
                reply, problems = mounted(request)
                with self._lock:
                    self.problems.extend(problems)
                return self._record(f"mount {prefix}", request, dict(request.form) or None, reply)
        document, operation_id, path_params = self._operation(request)
        body = request.get_json(force=True, silent=True) if request.get_data() else None
        if document is None or operation_id is None:
            return self._record(
                None, request, body, Reply(404, {"errors": [{"status": "404", "title": "Not Found"}]})
            )
        contract_request = _ContractRequest(request, document.server_url)
        errors = list(document.api.iter_request_errors(contract_request))
        if errors:
            problem = f"{request.method} {request.path}: request breaks {document.name}: {_errors(errors)}"
            with self._lock:
                self.problems.append(problem)
            reply = Reply(400, {"errors": [{"status": "400", "title": "Bad Request", "detail": problem}]})
            return self._record(operation_id, request, body, reply)
        handler = self.handlers.get(operation_id)
        if handler is None:
            with self._lock:
                self.problems.append(f"{operation_id}: no handler registered")
            return self._record(operation_id, request, body, Reply(501, {"errors": [{"status": "501"}]}))
        call = Call(
            operation_id=operation_id,
            method=request.method,
            path=request.path,
            path_params=path_params,
            query=dict(request.args),
            json=body,
            authorized=request.headers.get("Authorization") == self._auth,
        )
        with self._lock:
            queued = self.injected.get(operation_id)
            reply = queued.pop(0) if queued else handler(call)
        response = self._record(operation_id, request, body, reply)
        errors = [
            error
            for error in document.api.iter_response_errors(
                contract_request, WerkzeugOpenAPIResponse(response)
            )
            if not _ambiguous_one_of(error)
        ]
        if errors:
            with self._lock:
                self.problems.append(
                    f"{operation_id} {reply.status}: response breaks {document.name}: " + _errors(errors)
                )
        return response

    def _operation(self, request: Request) -> tuple[SpecDocument | None, str | None, dict[str, str]]:
        for document in self.documents:
            found = document.operation(request.method, request.path)
            if found is not None:
                return document, *found
        return None, None, {}

    def _record(self, operation_id: str | None, request: Request, body: Any, reply: Reply) -> Response:
        headers = {"X-Request-Id": str(uuid.uuid4()), **reply.headers}
        data = b"" if reply.body is None else json.dumps(reply.body).encode()
        response = Response(data, status=reply.status, headers=headers, content_type=reply.content_type)
        with self._lock:
            self.exchanges.append(
                Exchange(operation_id, request.method, request.path, reply.status, body, time.monotonic())
            )
        return response


def _ambiguous_one_of(error: Exception) -> bool:
    """The body satisfies more than one alternative of a ``oneOf`` (see the module docstring)."""
    causes = getattr(error.__cause__, "schema_errors", None) or getattr(error, "schema_errors", None) or ()
    return bool(causes) and all(
        getattr(cause, "validator", None) == "oneOf" and "is valid under each of" in str(cause.message)
        for cause in causes
    )


def _errors(errors: list[Exception]) -> str:
    details = []
    for error in errors:
        causes = getattr(error, "schema_errors", None) or [getattr(error, "__cause__", None)]
        details.append(f"{error}: " + "; ".join(str(getattr(c, "message", c)) for c in causes if c))
    return " | ".join(details)


def failure(status: int, title: str, detail: str = "") -> dict[str, Any]:
    error = {"id": str(uuid.uuid4()), "status": str(status), "title": title}
    return {"errors": [{**error, "detail": detail} if detail else error]}


# -- Flink SQL statements ------------------------------------------------------------------------------


@dataclass
class Outcome:
    """How a submitted statement behaves: the phases successive GETs show (the last one stays), its
    detail, its traits, and the result rows (pages of ``{op, row}``) it serves."""

    phases: tuple[str, ...] = ("PENDING", "COMPLETED")
    detail: str | None = None
    traits: dict[str, Any] | None = None
    pages: list[list[dict[str, Any]]] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)  # more of status: scaling_status, warnings, offsets


@dataclass
class StoredStatement:
    name: str
    spec: dict[str, Any]
    outcome: Outcome
    gets: int = 0

    @property
    def phase(self) -> str:
        return self.outcome.phases[min(self.gets, len(self.outcome.phases) - 1)]


Planner = Callable[[str, str, dict[str, str]], Outcome]


class FlinkGateway:
    """``sql/v1`` statements: create (409 on a taken name), get
    (advances the phases), delete (202), results (paged by ``page_token``). ``planner`` decides each
    statement's outcome from its name, text and properties."""

    def __init__(self, server: ConfluentTestServer, organization_id: str, environment_id: str) -> None:
        self.server = server
        self.organization_id = organization_id
        self.environment_id = environment_id
        self.statements: dict[str, StoredStatement] = {}
        self.planner: Planner = lambda name, text, properties: Outcome()
        self.next_link_base: str | None = None  # another host for the results' next links (a test)
        for operation_id, handler in {
            "createSqlv1Statement": self._create,
            "getSqlv1Statement": self._get,
            "deleteSqlv1Statement": self._delete,
            "getSqlv1StatementResult": self._results,
        }.items():
            server.register(operation_id, handler)

    def reset(self) -> None:
        self.statements.clear()
        self.planner = lambda name, text, properties: Outcome()
        self.next_link_base = None

    def preload(
        self,
        name: str,
        text: str = "SELECT 1;",
        phase: str = "COMPLETED",
        detail: str | None = None,
        status: dict[str, Any] | None = None,
    ) -> None:
        """A statement that exists before the run (a deployed one, or a leftover)."""
        self.statements[name] = StoredStatement(
            name, {"statement": text, "properties": {}}, Outcome((phase,), detail, status=status or {})
        )

    def _checks(self, call: Call) -> Reply | None:
        if not call.authorized:
            reply = failure(
                401, "Authentication Required", "Valid authentication credentials must be provided"
            )
            return Reply(401, reply, {"WWW-Authenticate": 'Basic error="invalid_key"'})
        ids = (call.path_params.get("organization_id"), call.path_params.get("environment_id"))
        if ids != (self.organization_id, self.environment_id):
            return Reply(404, failure(404, "Not Found", "no such organization or environment"))
        return None

    def _create(self, call: Call) -> Reply:
        if (refused := self._checks(call)) is not None:
            return refused
        name, spec = call.json["name"], call.json["spec"]
        if not STATEMENT_NAME.fullmatch(name) or len(name) > 100:
            return Reply(400, failure(400, "Bad Request", f"invalid statement name {name!r}"))
        if name in self.statements:
            return Reply(409, failure(409, "Conflict", f"statement {name} already exists"))
        outcome = self.planner(name, spec["statement"], dict(spec.get("properties", {})))
        self.statements[name] = StoredStatement(name, spec, outcome)
        return Reply(201, self._resource(self.statements[name]))

    def _get(self, call: Call) -> Reply:
        if (refused := self._checks(call)) is not None:
            return refused
        stored = self.statements.get(call.path_params["statement_name"])
        if stored is None:
            return Reply(404, failure(404, "Not Found"))
        stored.gets += 1
        return Reply(200, self._resource(stored))

    def _delete(self, call: Call) -> Reply:
        if (refused := self._checks(call)) is not None:
            return refused
        if self.statements.pop(call.path_params["statement_name"], None) is None:
            return Reply(404, failure(404, "Not Found"))
        return Reply(202)

    def _results(self, call: Call) -> Reply:
        if (refused := self._checks(call)) is not None:
            return refused
        stored = self.statements.get(call.path_params["name"])
        if stored is None:
            return Reply(404, failure(404, "Not Found"))
        page = int(call.query.get("page_token", "0"))
        pages = stored.outcome.pages or [[]]
        metadata: dict[str, Any] = {"self": f"{self.server.url}{call.path}"}
        if page + 1 < len(pages):
            metadata["next"] = f"{self.next_link_base or self.server.url}{call.path}?page_token={page + 1}"
        body = {
            "api_version": "sql/v1",
            "kind": "StatementResult",
            "metadata": metadata,
            "results": {"data": pages[page]},
            "data": [],  # required by the published document (see the module docstring)
        }
        return Reply(200, body)

    def _resource(self, stored: StoredStatement) -> dict[str, Any]:
        status: dict[str, Any] = {"phase": stored.phase, **stored.outcome.status}
        if stored.outcome.detail is not None and stored.phase in {"FAILED", "FAILING", "DEGRADED"}:
            status["detail"] = stored.outcome.detail
        if stored.outcome.traits is not None and stored.phase == "COMPLETED":
            status["traits"] = stored.outcome.traits
        ids = f"organizations/{self.organization_id}/environments/{self.environment_id}"
        base = f"{self.server.url}/sql/v1/{ids}"
        return {
            "api_version": "sql/v1",
            "kind": "Statement",
            "metadata": {"self": f"{base}/statements/{stored.name}", "created_at": "2026-12-01T10:00:00Z"},
            "name": stored.name,
            "organization_id": self.organization_id,
            "environment_id": self.environment_id,
            # statement_name: required by the published document (see the module docstring)
            "spec": {**stored.spec, "statement_name": stored.name},
            "status": status,
        }


# -- Schema Registry ------------------------------------------------------------------------------------

SR_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


class SchemaRegistryState:
    """Subjects with their latest schema, and the compatibility answer per subject."""

    def __init__(self, server: ConfluentTestServer) -> None:
        self.latest: dict[str, dict[str, Any]] = {}
        self.compatibility: dict[str, tuple[bool, list[str]]] = {}
        server.register("testCompatibilityBySubjectName", self._compatibility)
        server.register("getSchemaByVersion", self._get_version)

    def reset(self) -> None:
        self.latest.clear()
        self.compatibility.clear()

    def register_schema(self, subject: str, schema: str, version: int = 1, id_: int = 100001) -> None:
        self.latest[subject] = {"subject": subject, "version": version, "id": id_, "schema": schema}

    def _subject(self, call: Call) -> tuple[str, Reply | None]:
        """The subject of the call, and the refusal (401, or 404 40401 for an unknown subject) if any."""
        subject = call.path_params["subject"]
        if not call.authorized:
            return subject, Reply(401, {"error_code": 401, "message": "Unauthorized"})
        if subject not in self.latest:
            missing = {"error_code": 40401, "message": f"Subject '{subject}' not found."}
            return subject, Reply(404, missing, {}, SR_CONTENT_TYPE)
        return subject, None

    def _compatibility(self, call: Call) -> Reply:
        subject, refused = self._subject(call)
        if refused is not None:
            return refused
        compatible, messages = self.compatibility.get(subject, (True, []))
        return Reply(200, {"is_compatible": compatible, "messages": messages}, {}, SR_CONTENT_TYPE)

    def _get_version(self, call: Call) -> Reply:
        subject, refused = self._subject(call)
        return refused or Reply(200, self.latest[subject], {}, SR_CONTENT_TYPE)
