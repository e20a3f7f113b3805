"""The questions a team asks first, answered by editing a copy of the synthesized stacks and estimating again:
the cluster on Basic, Tableflow in your own bucket (or on managed storage), one more continuous statement.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from salesflow.config import Environment
from salesflow.ops.cost.estimate import Estimate, estimate
from salesflow.ops.cost.inventory import CLUSTER_TYPES
from salesflow.ops.cost.prices import Prices

Stacks = Mapping[str, Mapping[str, Any]]
EXTRA_STATEMENT = "statement_what_if_extra"


@dataclass(frozen=True)
class WhatIf:
    question: str
    estimate: Estimate
    delta: Decimal


def _resources(stacks: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    return [
        body
        for document in stacks.values()
        for body in ((document.get("resource") or {}).get(type_) or {}).values()
    ]


def with_cluster_type(stacks: Stacks, cluster_type: str) -> dict[str, Any]:
    """The stacks with the created Kafka cluster switched to ``cluster_type`` (single zone)."""
    edited = copy.deepcopy(dict(stacks))
    for body in _resources(edited, "confluent_kafka_cluster"):
        for kind in CLUSTER_TYPES:
            body.pop(kind, None)
        body[cluster_type] = [{}]
        body["availability"] = "SINGLE_ZONE"
    return edited


def with_tableflow_storage(stacks: Stacks, own_bucket: str | None) -> dict[str, Any]:
    """Every Tableflow topic on managed storage (``own_bucket`` None) or in ``own_bucket``."""
    edited = copy.deepcopy(dict(stacks))
    for body in _resources(edited, "confluent_tableflow_topic"):
        body.pop("managed_storage", None)
        body.pop("byob_aws", None)
        if own_bucket:
            body["byob_aws"] = [{"bucket_name": own_bucket, "provider_integration_id": "cspi-what-if"}]
        else:
            body["managed_storage"] = [{}]
    return edited


def with_extra_statement(stacks: Stacks, environment: Environment) -> dict[str, Any]:
    """One more continuous statement, reading the raw topic like the existing one."""
    edited = copy.deepcopy(dict(stacks))
    raw = environment.confluent.topics.raw.name
    for document in edited.values():
        statements = (document.get("resource") or {}).get("confluent_flink_statement")
        if statements is not None:
            statements[EXTRA_STATEMENT] = {
                "statement_name": f"{environment.name}-what-if-extra-v1",
                # SQL text the estimate reads, never executed.
                "statement": f"INSERT INTO `what_if_sink` SELECT * FROM `{raw}`;",  # noqa: S608
            }
            return edited
    raise ValueError("the stacks declare no Flink statements; there is nowhere to add one")


def what_ifs(environment: Environment, stacks: Stacks, prices: Prices, current: Estimate) -> list[WhatIf]:
    """The what-ifs that apply to this environment, each with its monthly difference from ``current``."""
    questions: list[tuple[str, Callable[[], dict[str, Any]]]] = []
    cluster = environment.confluent.kafka_cluster
    created_cluster = bool(_resources(dict(stacks), "confluent_kafka_cluster"))
    if created_cluster and cluster.type != "basic":
        questions.append(
            ("The Kafka cluster on Basic (single zone)", lambda: with_cluster_type(stacks, "basic"))
        )
    tableflow = _resources(dict(stacks), "confluent_tableflow_topic")
    if tableflow and any("managed_storage" in body for body in tableflow):
        bucket = f"salesflow-tableflow-{environment.name}"
        questions.append(
            (f"Tableflow in your own bucket (s3://{bucket})", lambda: with_tableflow_storage(stacks, bucket))
        )
    elif tableflow:
        questions.append(
            ("Tableflow on Confluent managed storage", lambda: with_tableflow_storage(stacks, None))
        )
    if _resources(dict(stacks), "confluent_flink_statement"):
        questions.append(("One more continuous statement", lambda: with_extra_statement(stacks, environment)))
    answers = []
    for question, edit in questions:
        answer = estimate(environment, edit(), prices)
        answers.append(WhatIf(question, answer, answer.total - current.total))
    return answers
