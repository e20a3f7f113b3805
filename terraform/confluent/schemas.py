"""The contracts in Schema Registry: compatibility of both value subjects, and the raw value schema.

The clean subject's schema is registered by Flink's ``CREATE TABLE`` (derived from the DDL); Terraform
sets that subject's compatibility ahead of time.
"""

from __future__ import annotations

import json

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from salesflow.config import REPO_ROOT, Environment
from terraform.confluent.platform import ConfluentPlatform
from terraform.confluent_provider import Credentials, Schema, SubjectConfig, meta

RAW_VALUE_SCHEMA = REPO_ROOT / "schemas" / "sales_order.avsc"


class SchemaSubjects(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        environment: Environment,
        platform: ConfluentPlatform,
        credentials: Credentials,
        keep: TerraformResourceLifecycle | None,
    ) -> None:
        super().__init__(scope, id_)
        confluent = environment.confluent
        registry = platform.registry
        settings = {
            "schema_registry_cluster": platform.registry_ref,
            "rest_endpoint": registry.rest_endpoint,
            "credentials": credentials,
        }
        raw_subject = f"{confluent.topics.raw.name}-value"
        compatibility = confluent.schema_registry.compatibility
        raw_config = SubjectConfig(
            self,
            "raw_value_subject_config",
            **settings,
            subject_name=raw_subject,
            compatibility_level=compatibility,
            meta=meta(lifecycle=keep),
        )
        SubjectConfig(
            self,
            "clean_value_subject_config",
            **settings,
            subject_name=f"{confluent.topics.clean.name}-value",
            compatibility_level=compatibility,
            meta=meta(lifecycle=keep),
        )
        Schema(
            self,
            "raw_value_schema",
            **settings,
            subject_name=raw_subject,
            format="AVRO",
            # The contract itself, compacted: the plan shows a schema change as a diff of this string.
            schema=json.dumps(
                json.loads(RAW_VALUE_SCHEMA.read_text(encoding="utf-8")), separators=(",", ":")
            ),
            meta=meta(depends_on=[raw_config], lifecycle=keep),
        )
