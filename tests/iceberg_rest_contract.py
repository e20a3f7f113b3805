"""The Iceberg REST catalog's published contract, checked on every exchange of the local REST catalog twin.

The document is apache/iceberg's ``open-api/rest-catalog-open-api.yaml`` at commit 533a75c8
(533a75c8a50a4c9ade7f22e03b61f2828e91e742, named by the file's own SOURCE line), as the PyPI sdist of
pysail 0.7.2 ships it (``crates/sail-catalog-iceberg/spec/iceberg-rest-catalog.yaml``): PyPI is reachable
wherever the tests run, GitHub may not be. It is fetched once into a git-ignored cache, the sdist and the
extracted file both pinned by SHA-256, and never committed:

    .venv/bin/python tests/iceberg_rest_contract.py      # make setup does this; the tests do it when missing

``RestContract`` validates each ``salesflow.twin.rest_catalog.Exchange`` (request and response) with
openapi-core and keeps what breaks the document in ``problems``; the fixtures fail a test on any.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import sys
import tarfile
import tempfile
import threading
import urllib.request
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE = REPO_ROOT / ".salesflow" / "cache" / "iceberg-rest-spec"
SDIST_URL = (
    "https://files.pythonhosted.org/packages/50/11/f9a0681c813a005d9a8b32609810ae66bb3a58ba3a9e82e14239d8ec4463/"
    "pysail-0.7.2.tar.gz"
)
SDIST_SHA256 = "59a1bb8f39941dceed2ab975388e93e52ea81dcb88d3f276c76625ffd2a2e165"
MEMBER = "pysail-0.7.2/crates/sail-catalog-iceberg/spec/iceberg-rest-catalog.yaml"
SPEC_SHA256 = "ea3df2231c99d507e45894502c35bfd75157499c436f23cfb3567b3b7e6b7890"
SPEC_FILE = CACHE / f"rest-catalog-open-api-{SPEC_SHA256[:12]}.yaml"
PREFIXED = "/v1/{prefix}/"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def spec_path() -> Path:
    """The cached document, fetched and checked against both pins when missing or altered."""
    if SPEC_FILE.is_file() and _sha256(SPEC_FILE.read_bytes()) == SPEC_SHA256:
        return SPEC_FILE
    try:
        with urllib.request.urlopen(SDIST_URL, timeout=60) as response:
            sdist = response.read()
    except OSError as exc:
        raise RuntimeError(
            f"cannot fetch the Iceberg REST OpenAPI document from PyPI ({SDIST_URL}): {exc}; "
            "the contract tests need it (run `make setup` where PyPI is reachable)"
        ) from None
    if _sha256(sdist) != SDIST_SHA256:
        raise RuntimeError(f"{SDIST_URL} has SHA-256 {_sha256(sdist)}, not the pinned {SDIST_SHA256}")
    with tarfile.open(fileobj=io.BytesIO(sdist), mode="r:gz") as archive:
        member = archive.extractfile(MEMBER)
        if member is None:
            raise RuntimeError(f"{SDIST_URL} has no {MEMBER}")
        document = member.read()
    if _sha256(document) != SPEC_SHA256:
        raise RuntimeError(f"{MEMBER} has SHA-256 {_sha256(document)}, not the pinned {SPEC_SHA256}")
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=CACHE, delete=False) as handle:  # two workers may fetch at once
        handle.write(document)
    Path(handle.name).chmod(0o644)
    Path(handle.name).replace(SPEC_FILE)
    return SPEC_FILE


def load_document(path: Path) -> dict[str, Any]:
    """The document as openapi-core reads it, with two mechanical adjustments (no schema is changed):

    - response codes as strings (YAML reads ``200:`` as an integer);
    - every ``/v1/{prefix}/...`` path also without ``{prefix}``: the spec's prefix is optional (a client
      builds ``/v1/namespaces/...`` when the catalog's config sets none, as Tableflow's does not), but
      OpenAPI cannot mark a path parameter optional (apache/iceberg#9870).
    """
    import yaml

    with path.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=yaml.CSafeLoader)
    paths = document["paths"]
    for item in paths.values():
        for operation in item.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"] = {str(code): value for code, value in operation["responses"].items()}
    for template in [name for name in paths if name.startswith(PREFIXED)]:
        item = copy.deepcopy(paths[template])
        item["parameters"] = [
            parameter
            for parameter in item.get("parameters", [])
            if parameter.get("$ref") != "#/components/parameters/prefix"
        ]
        paths["/v1/" + template.removeprefix(PREFIXED)] = item
    return document


class RestContract:
    """Validates the twin's exchanges against the document; thread-safe (the twin serves on threads)."""

    def __init__(self, path: Path | None = None) -> None:
        from openapi_core import Config, OpenAPI
        from openapi_core.templating.paths.finders import APICallPathFinder

        path = path or spec_path()
        self.document = load_document(path)
        self.name = f"{path.name} (apache/iceberg open-api/rest-catalog-open-api.yaml @ 533a75c8)"
        # The document is Apache Iceberg's, not ours to lint: skip validating the spec itself.
        self.api = OpenAPI.from_dict(self.document, config=Config(spec_validator_cls=None))
        self._finder = APICallPathFinder(self.api.spec)
        self.problems: list[str] = []
        self.operations: Counter[tuple[str, int]] = Counter()  # (operationId, status) validated
        self._lock = threading.Lock()
        self._reported = 0

    def unreported(self) -> list[str]:
        """The problems found since the last call."""
        with self._lock:
            found, self._reported = self.problems[self._reported :], len(self.problems)
        return found

    def __call__(self, exchange: Any) -> None:
        with self._lock, warnings.catch_warnings():
            # openapi-core has no validator for the OAuth2 security scheme (it warns); BearerAuth is checked.
            warnings.filterwarnings("ignore", "Unsupported scheme type", UserWarning)
            try:
                self._check(exchange)
            except Exception as exc:  # a check that cannot run is a failed check, not a silent one
                self.problems.append(f"{exchange.method} {exchange.path}: not checked: {exc!r}")

    def _check(self, exchange: Any) -> None:
        from openapi_core.templating.paths.exceptions import PathError
        from openapi_core.testing import MockRequest, MockResponse
        from werkzeug.datastructures import Headers

        where = f"{exchange.method} {exchange.base}{exchange.path} -> {exchange.status}"
        if not exchange.base:  # not under a catalog URL the twin serves (its own 404): outside the spec
            self.operations[("(no catalog URL)", exchange.status)] += 1
            return
        # The catalog URL's path is the spec's server basePath, whose template allows no "/": the exchange is
        # checked as sent to https://localhost/ (the operations' paths start below the basePath anyway).
        host_url = "https://localhost"
        try:
            found = self._finder.find(exchange.method.lower(), host_url + exchange.path)
        except PathError:
            if exchange.status != 404:
                self.problems.append(
                    f"{where}: answered with {exchange.status}, but the spec has no such operation"
                )
            return  # an operation the spec lacks, answered 404 with the spec's error model
        operation = str((found.operation / "operationId").read_value())
        query = dict(
            item.split("=", 1) if "=" in item else (item, "") for item in exchange.query.split("&") if item
        )
        content_type = Headers(exchange.headers).get("Content-Type", "application/json")
        request = MockRequest(
            host_url, exchange.method.lower(), exchange.path, args=query, headers=exchange.headers,
            data=exchange.body, content_type=content_type,
        )  # fmt: skip
        errors = list(self.api.iter_request_errors(request))
        if errors:
            self.problems.append(f"{where}: request breaks {self.name}: {_details(errors)}")
        # HEAD answers carry no body (HTTP): the status must be one the operation declares.
        body = exchange.response if exchange.method != "HEAD" else b""
        declared = self.document["paths"][found.path_result.pattern][exchange.method.lower()]["responses"]
        if exchange.method == "HEAD":
            if str(exchange.status) not in declared and f"{str(exchange.status)[0]}XX" not in declared:
                self.problems.append(f"{where}: {operation} declares no {exchange.status}")
        else:
            response = MockResponse(body, exchange.status, content_type=exchange.content_type)
            errors = list(self.api.iter_response_errors(request, response))
            if errors:
                self.problems.append(f"{where}: response breaks {self.name}: {_details(errors)}")
            elif operation == "getConfig" and exchange.status == 200:
                self._check_endpoints(where, json.loads(body))
        self.operations[(operation, exchange.status)] += 1

    def _check_endpoints(self, where: str, config: dict[str, Any]) -> None:
        """The config's ``endpoints`` must name operations of the document ("<verb> <resource path>")."""
        for endpoint in config.get("endpoints", []):
            verb, _, resource = endpoint.partition(" ")
            if verb.lower() not in self.document["paths"].get(resource, {}):
                self.problems.append(f"{where}: endpoint {endpoint!r} is not an operation of the spec")


def _details(errors: list[Exception]) -> str:
    details = []
    for error in errors:
        causes = getattr(error, "schema_errors", None) or [getattr(error, "__cause__", None)]
        details.append(
            f"{error}: " + "; ".join(str(getattr(cause, "message", cause)) for cause in causes if cause)
        )
    return " | ".join(details)


if __name__ == "__main__":  # make setup: fetch the document unless the cache holds it
    if not SPEC_FILE.is_file():
        print(f"Iceberg REST OpenAPI document: {spec_path().relative_to(REPO_ROOT)}", file=sys.stderr)
    spec_path()
