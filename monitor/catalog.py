"""The clean table's current snapshot, read through Tableflow's Iceberg REST catalog: the exporter's catalog,
without PyIceberg and pyarrow (150 MB the monitor does not need: it reads table metadata, never data).

The same code path as the exporter's ``exporter/catalog.py`` in everything that can differ: the same catalog
URL (``CATALOG_URI``, built by the same Terraform function), the same OAuth2 client-credentials exchange at
``<uri>/v1/oauth/tokens`` with scope ``catalog`` and a Tableflow key ``key:secret``, the same table identifier
(namespace = Kafka cluster id, table = topic), and the Iceberg REST protocol PyIceberg's ``RestCatalog``
speaks: ``GET /v1/config`` (its ``prefix`` override honoured), then ``loadTable``. The tests serve one real
Iceberg table through a local REST catalog and require this module and the exporter's PyIceberg path to
report the same snapshot. No ``X-Iceberg-Access-Delegation`` header: no data file is read, so no storage
credential is minted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import urllib3

from monitor.http import ApiError, Credentials, JsonClient

API = "Tableflow catalog"
TOKEN_PATH = "/v1/oauth/tokens"  # noqa: S105 - the exporter's oauth2-server-uri, relative to the catalog URL
SCOPE = "catalog"


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: int
    timestamp_ms: int
    total_records: int | None


def current_snapshot(
    pool: urllib3.PoolManager, catalog_uri: str, credentials: Credentials, namespace: str, table: str
) -> Snapshot | None:
    """The table's current snapshot; None when the table has none yet. ApiError when the catalog fails."""
    anonymous = JsonClient(API, catalog_uri, pool, None, credentials.secrets())
    _, token = anonymous.call(
        "POST",
        TOKEN_PATH,
        form={
            "grant_type": "client_credentials",
            "client_id": credentials.key,
            "client_secret": credentials.secret,
            "scope": SCOPE,
        },
    )
    access_token = (token or {}).get("access_token") if isinstance(token, dict) else None
    if not access_token:
        raise ApiError(f"{API}: the token endpoint answered without an access_token")
    bearer, secrets = f"Bearer {access_token}", (*credentials.secrets(), access_token)
    catalog = JsonClient(API, catalog_uri, pool, bearer, secrets)
    _, config = catalog.call("GET", "/v1/config")
    overrides = (config or {}).get("overrides") or {}
    if overrides.get("uri"):  # the catalog may move itself; PyIceberg follows, so does the monitor
        catalog = JsonClient(API, str(overrides["uri"]), pool, bearer, secrets)
    prefix = str(overrides.get("prefix") or "").strip("/")
    base = f"/v1/{quote(prefix, safe='/')}" if prefix else "/v1"
    _, loaded = catalog.call(
        "GET", f"{base}/namespaces/{quote(namespace, safe='')}/tables/{quote(table, safe='')}"
    )
    return snapshot_of((loaded or {}).get("metadata"))


def snapshot_of(metadata: Any) -> Snapshot | None:
    """The current snapshot of Iceberg table metadata (``current-snapshot-id``, ``snapshots[]``)."""
    if not isinstance(metadata, dict):
        raise ApiError(f"{API}: loadTable answered without table metadata")
    current = metadata.get("current-snapshot-id")
    if current is None or current == -1:
        return None
    for snapshot in metadata.get("snapshots") or []:
        if snapshot.get("snapshot-id") == current:
            total = (snapshot.get("summary") or {}).get("total-records")
            records = int(total) if total is not None else None
            return Snapshot(int(current), int(snapshot["timestamp-ms"]), records)
    raise ApiError(f"{API}: current snapshot {current} is not among the table's snapshots")
