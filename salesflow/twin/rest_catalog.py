"""Tableflow's read path, locally: an Iceberg REST catalog over HTTPS on 127.0.0.1, OAuth2 client credentials,
and temporary S3 credentials vended from moto's STS for a table whose files live in moto S3.

    with local_aws() as aws, RestCatalogTwin(aws) as catalog:
        lakehouse = S3Lakehouse(tmp, aws, "tableflow-managed")     # SQL metadata, data in s3://...
        table = create_clean_table(lakehouse.catalog())
        uri = catalog.register(lakehouse)                            # https://127.0.0.1:<port>/iceberg/...
        secret = catalog.store_credential("salesflow/dev/tableflow-api-key")
        # the exporter: CATALOG_TYPE=rest CATALOG_URI=uri CATALOG_CREDENTIAL_SECRET_ID=secret
        #               CATALOG_VENDED_CREDENTIALS=true, and catalog.environ() (trust in the twin's TLS)

Endpoints, as the REST spec names them: ``GET /v1/config``, ``POST /v1/oauth/tokens`` (client_credentials;
a wrong client gets the spec's OAuth error), ``GET|HEAD /v1/namespaces/{namespace}`` and ``GET|HEAD
/v1/namespaces/{namespace}/tables/{table}`` (LoadTableResult; with ``X-Iceberg-Access-Delegation:
vended-credentials`` its ``config`` carries temporary credentials from STS AssumeRole and the S3
endpoint). Everything else answers 404 with the spec's ErrorModel. URLs follow Tableflow's shape:
``/iceberg/catalog/organizations/<org>/environments/<env>``; each registered lakehouse is one environment.
Every request and its answer go, as they were on the wire, to the twin's ``observers`` (the tests check
them against the Iceberg REST OpenAPI document: tests/iceberg_rest_contract.py).
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import secrets
import ssl
import tempfile
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import certifi
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

from salesflow.twin.lakehouse import CATALOG_NAME, Lakehouse
from salesflow.twin.local_aws import FAKE_CREDENTIALS, LocalAws

ORGANIZATION = "00000000-0000-4000-8000-0000000000aa"
SCOPE = "catalog"
READER_ROLE = "arn:aws:iam::000000000000:role/tableflow-vended-reader"
DELEGATION_HEADER = "X-Iceberg-Access-Delegation"
TOKEN_SECONDS = 3600
SUPPORTED = [
    "GET /v1/{prefix}/namespaces/{namespace}",
    "HEAD /v1/{prefix}/namespaces/{namespace}",
    "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}",
    "HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}",
]


@dataclass(frozen=True)
class S3Lakehouse(Lakehouse):
    """The clean table's home for the REST twin: SQL catalog metadata in ``<root>/catalog.db``, metadata and
    data files in ``s3://<bucket>/warehouse`` on the local AWS twin (as Tableflow's managed storage)."""

    aws: LocalAws
    bucket: str

    @property
    def warehouse(self) -> str:
        return f"s3://{self.bucket}/warehouse"

    def io_properties(self) -> dict[str, str]:
        return {
            "s3.endpoint": self.aws.endpoint_url,
            "s3.region": self.aws.region,
            "s3.access-key-id": FAKE_CREDENTIALS["aws_access_key_id"],
            "s3.secret-access-key": FAKE_CREDENTIALS["aws_secret_access_key"],
        }

    def catalog(self, name: str = CATALOG_NAME) -> SqlCatalog:
        self.root.mkdir(parents=True, exist_ok=True)
        s3 = self.aws.client("s3")
        if self.bucket not in {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}:
            self.aws.create_bucket(self.bucket)
        return SqlCatalog(name, uri=self.catalog_uri, warehouse=self.warehouse, **self.io_properties())


@dataclass(frozen=True)
class Exchange:
    """One request the twin answered, as it was on the wire. ``base`` is the catalog URL's path (the REST
    spec's server basePath), ``path`` what follows it (``/v1/...``)."""

    method: str
    base: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int
    content_type: str | None
    response: bytes


@dataclass
class RestCatalogTwin:
    """The REST catalog server (start with ``with``); each of ``observers`` is called with every Exchange."""

    aws: LocalAws
    client_id: str = "TFLOWKEY0000TWIN"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    lakehouses: dict[str, S3Lakehouse] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    catalogs: dict[str, SqlCatalog] = field(default_factory=dict)  # per environment, opened on first use
    _lock: threading.Lock = field(default_factory=threading.Lock)
    observers: list[Callable[[Exchange], None]] = field(default_factory=list)
    vended: int = 0

    def __enter__(self) -> RestCatalogTwin:
        self._folder = tempfile.TemporaryDirectory(prefix="salesflow-rest-twin-")
        cert_file = Path(self._folder.name, "twin-cert.pem")
        key_file = Path(self._folder.name, "twin-key.pem")
        _self_signed(cert_file, key_file)
        # Clients trust the public CAs and the twin: other HTTPS calls of the process (pip, say) still work.
        self.ca_bundle = Path(self._folder.name, "ca-bundle.pem")
        system = ssl.get_default_verify_paths().cafile  # the machine's CAs (a proxy's, too), else certifi's
        public = Path(system if system and Path(system).is_file() else certifi.where()).read_bytes()
        self.ca_bundle.write_bytes(public + b"\n" + cert_file.read_bytes())
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="rest-catalog", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._folder.cleanup()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def register(self, lakehouse: S3Lakehouse, environment: str | None = None) -> str:
        """Serve the lakehouse's tables as one Tableflow environment; returns its catalog URL."""
        environment = environment or f"env-{secrets.token_hex(4)}"
        self.lakehouses[environment] = lakehouse
        return f"https://127.0.0.1:{self.port}/iceberg/catalog/organizations/{ORGANIZATION}/environments/{environment}"

    def catalog(self, environment: str) -> SqlCatalog:
        """The registered environment's table catalog, opened once (not per request)."""
        with self._lock:
            if environment not in self.catalogs:
                self.catalogs[environment] = self.lakehouses[environment].catalog()
            return self.catalogs[environment]

    @property
    def credential(self) -> str:
        return f"{self.client_id}:{self.client_secret}"

    def store_credential(self, secret_id: str) -> str:
        """The API key as the Lambda finds it: a Secrets Manager secret holding 'key:secret'."""
        secrets_manager = self.aws.client("secretsmanager")
        try:
            secrets_manager.create_secret(Name=secret_id, SecretString=self.credential)
        except secrets_manager.exceptions.ResourceExistsException:
            secrets_manager.put_secret_value(SecretId=secret_id, SecretString=self.credential)
        return secret_id

    def environ(self) -> dict[str, str]:
        """What a client needs to trust the twin's self-signed certificate (requests and pip read it)."""
        return {"REQUESTS_CA_BUNDLE": str(self.ca_bundle)}

    # --- answers --------------------------------------------------------------------------------------------
    def vend(self) -> dict[str, str]:
        """Temporary credentials for the table's storage (moto STS) and where that storage is."""
        role = self.aws.client("sts").assume_role(
            RoleArn=READER_ROLE, RoleSessionName="tableflow-vended", DurationSeconds=900
        )["Credentials"]
        self.vended += 1
        return {
            "s3.access-key-id": role["AccessKeyId"],
            "s3.secret-access-key": role["SecretAccessKey"],
            "s3.session-token": role["SessionToken"],
            "s3.endpoint": self.aws.endpoint_url,
            "s3.region": self.aws.region,
            "client.region": self.aws.region,
        }


def _error(status: int, kind: str, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": status}}


def _handler(twin: RestCatalogTwin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        payload = b""
        base = ""  # the catalog URL's path, once the request names a known one

        def log_message(self, format: str, *args: Any) -> None:  # quiet: observers see every exchange
            return None

        def do_GET(self) -> None:
            self._route("GET")

        def do_HEAD(self) -> None:
            self._route("HEAD")

        def do_POST(self) -> None:
            self._route("POST")

        def _send(self, status: int, body: dict[str, Any] | None) -> None:
            data = b"" if body is None or self.command == "HEAD" else json.dumps(body).encode()
            content_type = "application/json" if body is not None else None
            url = urllib.parse.urlsplit(self.path)
            exchange = Exchange(
                self.command, self.base, url.path.removeprefix(self.base), url.query, dict(self.headers),
                self.payload, status, content_type, data,
            )  # fmt: skip
            for observer in twin.observers:  # before the answer leaves: the client sees a checked exchange
                observer(exchange)
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.payload = self.rfile.read(length) if length else b""
            url = urllib.parse.urlsplit(self.path)
            parts = [urllib.parse.unquote(part) for part in url.path.strip("/").split("/")]
            # iceberg/catalog/organizations/<org>/environments/<env>/v1/...
            if len(parts) < 7 or parts[:3] != ["iceberg", "catalog", "organizations"] or parts[6] != "v1":
                self._send(404, _error(404, "NotFoundException", "not a catalog path"))
                return
            rest = parts[7:]
            if parts[5] not in twin.lakehouses or parts[3] != ORGANIZATION:
                self._send(404, _error(404, "NotFoundException", "unknown organization or environment"))
                return
            catalog = twin.catalog(parts[5])
            self.base = url.path[: url.path.index("/v1/")]
            if method == "POST" and rest == ["oauth", "tokens"]:
                self._token(urllib.parse.parse_qs(self.payload.decode()))
            elif not self._authorized():
                self._send(401, _error(401, "NotAuthorizedException", "missing or unknown bearer token"))
            elif method == "GET" and rest == ["config"]:
                self._send(200, {"defaults": {}, "overrides": {}, "endpoints": SUPPORTED})
            elif method in ("GET", "HEAD") and len(rest) == 2 and rest[0] == "namespaces":
                self._namespace(catalog, rest[1])
            elif (
                method in ("GET", "HEAD")
                and len(rest) == 4
                and rest[0] == "namespaces"
                and rest[2] == "tables"
            ):
                self._table(catalog, rest[1], rest[3])
            else:
                self._send(404, _error(404, "NotFoundException", f"{method} {url.path} is not served"))

        def _authorized(self) -> bool:
            scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
            return scheme.lower() == "bearer" and token in twin.tokens

        def _token(self, form: dict[str, list[str]]) -> None:
            field_value = {name: values[0] for name, values in form.items() if values}
            if field_value.get("grant_type") != "client_credentials":
                self._send(
                    400, {"error": "unsupported_grant_type", "error_description": "use client_credentials"}
                )
            elif (field_value.get("client_id"), field_value.get("client_secret")) != (
                twin.client_id,
                twin.client_secret,
            ):
                body = {"error": "invalid_client", "error_description": "unknown client id or wrong secret"}
                self._send(401, body)
            elif SCOPE not in (field_value.get("scope") or "").split():
                self._send(400, {"error": "invalid_scope", "error_description": f"ask for scope {SCOPE}"})
            else:
                token = secrets.token_urlsafe(32)
                twin.tokens.add(token)
                body = {
                    "access_token": token,
                    "token_type": "bearer",
                    "expires_in": TOKEN_SECONDS,
                    "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                }
                self._send(200, body)

        def _namespace(self, catalog: SqlCatalog, namespace: str) -> None:
            try:
                properties = catalog.load_namespace_properties(namespace)
            except NoSuchNamespaceError:
                message = f"namespace {namespace} does not exist"
                self._send(404, _error(404, "NoSuchNamespaceException", message))
                return
            if self.command == "HEAD":
                self._send(204, None)
            else:
                self._send(200, {"namespace": [namespace], "properties": properties})

        def _table(self, catalog: SqlCatalog, namespace: str, name: str) -> None:
            try:
                table = catalog.load_table((namespace, name))
            except (NoSuchTableError, NoSuchNamespaceError):
                message = f"table {namespace}.{name} does not exist"
                self._send(404, _error(404, "NoSuchTableException", message))
                return
            if self.command == "HEAD":
                self._send(204, None)
                return
            config = {"s3.endpoint": twin.aws.endpoint_url, "s3.region": twin.aws.region}
            if (self.headers.get(DELEGATION_HEADER) or "").strip() == "vended-credentials":
                config = twin.vend()
            body = {
                "metadata-location": table.metadata_location,
                "metadata": json.loads(table.metadata.model_dump_json()),
                "config": config,
            }
            self._send(200, body)

    return Handler


def _self_signed(cert_file: Path, key_file: Path) -> None:
    """A throwaway certificate for 127.0.0.1 (and localhost), valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "salesflow REST catalog twin")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
