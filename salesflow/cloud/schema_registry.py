"""Confluent Cloud Schema Registry: the latest schema of a subject and compatibility checks against it.

The contract is Confluent's OpenAPI document ``schema-registry_v1_api_openapi.yaml``
(tests/cloud/openapi/). A 404 with error code 40401 (no such subject) or 40402 (no version) means the
subject has no schema yet: the local schema would be its first version.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from salesflow.cloud.confluent_http import ApiCredentials, ConfluentHttp

API = "Schema Registry"
URL_VARIABLE = "SCHEMA_REGISTRY_URL"
KEY_VARIABLE, SECRET_VARIABLE = "SCHEMA_REGISTRY_API_KEY", "SCHEMA_REGISTRY_API_SECRET"
CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
NOT_FOUND_CODES = frozenset({"40401", "40402"})


class CompatibilityResult(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    is_compatible: bool
    messages: list[str] = []


class RegisteredSchema(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    subject: str
    version: int
    id: int
    schema_text: str = Field(alias="schema")
    schema_type: str = Field(default="AVRO", alias="schemaType")


class SchemaRegistry:
    def __init__(self, http: ConfluentHttp) -> None:
        self.http = http

    @classmethod
    def connect(cls, url: str, credentials: ApiCredentials | None = None) -> SchemaRegistry:
        """A client with the key from ``SCHEMA_REGISTRY_API_KEY``/``SCHEMA_REGISTRY_API_SECRET``."""
        credentials = credentials or ApiCredentials.from_environment(KEY_VARIABLE, SECRET_VARIABLE, API)
        return cls(ConfluentHttp(API, url, credentials, headers={"Accept": CONTENT_TYPE}))

    def check_compatibility(
        self, subject: str, schema: str, schema_type: str = "AVRO"
    ) -> CompatibilityResult | None:
        """Is ``schema`` compatible with the subject's latest version, under the subject's rule?
        None when the subject has no version yet (it would be the first)."""
        body: dict[str, Any] = {"schema": schema}
        if schema_type != "AVRO":
            body["schemaType"] = schema_type
        response = self.http.request(
            "POST",
            f"/compatibility/subjects/{quote(subject, safe='')}/versions/latest",
            params={"verbose": "true"},
            json=body,
            headers={"Content-Type": CONTENT_TYPE},
            allow=(404,),
        )
        if response.status_code == 404:
            self._expect_missing_subject(response, subject)
            return None
        return CompatibilityResult.model_validate(response.json())

    def latest(self, subject: str) -> RegisteredSchema | None:
        response = self.http.request(
            "GET", f"/subjects/{quote(subject, safe='')}/versions/latest", allow=(404,)
        )
        if response.status_code == 404:
            self._expect_missing_subject(response, subject)
            return None
        return RegisteredSchema.model_validate(response.json())

    def _expect_missing_subject(self, response: Any, subject: str) -> None:
        """A 404 that is not "no such subject/version" (e.g. a wrong URL) is an error, not a first version."""
        try:
            code = str(response.json().get("error_code"))
        except (ValueError, AttributeError):
            code = ""
        if code not in NOT_FOUND_CODES:
            raise self.http.error_from("GET", f"subject {subject}", response)
