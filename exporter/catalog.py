"""Open the Iceberg catalog and the clean table: Tableflow's REST catalog, or a local SQL catalog."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError
from pyiceberg.table import Table

from exporter.settings import Settings


class CatalogError(RuntimeError):
    """The catalog or the table cannot be read; the message names the cause and the fix."""


SecretReader = Callable[[str], str]
# The SQL catalog keys its tables by catalog name: salesflow.twin.lakehouse creates them under this one.
CATALOG_NAME = "salesflow"


def read_secret_string(secret_id: str) -> str:  # pragma: no cover - exercised against moto in tests
    import boto3

    return boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]


def catalog_properties(settings: Settings, read_secret: SecretReader = read_secret_string) -> dict[str, str]:
    """PyIceberg ``load_catalog`` properties for the configured catalog (the credential is never logged)."""
    if settings.catalog_type == "sql":
        return {"type": "sql", "uri": settings.catalog_uri, "warehouse": settings.catalog_warehouse or ""}
    secret_id = settings.catalog_credential_secret_id or ""
    try:
        credential = read_secret(secret_id).strip()
    except Exception as exc:
        raise CatalogError(
            f"cannot read the Tableflow API key from Secrets Manager secret {secret_id!r} "
            f"({type(exc).__name__}); check that it exists and the Lambda role may GetSecretValue"
        ) from None
    key, sep, secret = credential.partition(":")
    if not sep or not key or not secret:
        raise CatalogError(
            f"Secrets Manager secret {secret_id!r} must hold the Tableflow API key as 'key:secret'"
        )
    properties = {
        "type": "rest",
        "uri": settings.catalog_uri,
        "credential": credential,
        "scope": "catalog",
        # The REST spec's token endpoint under the catalog URL (PyIceberg's implicit default, made explicit).
        "oauth2-server-uri": settings.catalog_uri.rstrip("/") + "/v1/oauth/tokens",
    }
    if settings.catalog_vended_credentials:
        properties["header.X-Iceberg-Access-Delegation"] = "vended-credentials"
    return properties


def open_catalog(settings: Settings, read_secret: SecretReader = read_secret_string) -> Catalog:
    properties: dict[str, Any] = catalog_properties(settings, read_secret)
    try:
        return load_catalog(CATALOG_NAME, **properties)
    except Exception as exc:
        raise CatalogError(
            f"cannot open the {settings.catalog_type} catalog at {settings.catalog_uri}: "
            f"{type(exc).__name__}: {_first_line(exc)}; check CATALOG_URI and the credential"
        ) from None


def load_table(catalog: Catalog, settings: Settings) -> Table:
    identifier = settings.table_identifier
    try:
        return catalog.load_table(identifier)
    except (NoSuchTableError, NoSuchNamespaceError):
        raise CatalogError(
            f"table {'.'.join(identifier)} does not exist in the catalog at {settings.catalog_uri}: check "
            "TABLE_NAMESPACE (the Kafka cluster id) and TABLE_NAME (the clean topic), and that Tableflow "
            "is enabled on the topic"
        ) from None
    except Exception as exc:
        raise CatalogError(
            f"cannot load table {'.'.join(identifier)} from {settings.catalog_uri}: "
            f"{type(exc).__name__}: {_first_line(exc)}"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "(no message)"
