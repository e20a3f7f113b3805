"""The monthly estimate of one environment: a pure function of its usage model, its synthesized stacks and
the prices.

Each component is one charge on one resource (``quantity`` x ``unit_price`` = ``monthly``). Money stays in
``Decimal``: quantities and monthly figures are kept to a millionth (of a unit, of a dollar), so the total
is exactly the sum of its components; output rounds to cents for display only. Resources that carry no
standing charge are listed with the reason, and resource types the model cannot price are listed as such,
so a change the estimate does not understand is visible rather than silently free.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from salesflow.config import Environment
from salesflow.ops.cost.aws import aws_components
from salesflow.ops.cost.component import Component, Context
from salesflow.ops.cost.confluent import confluent_components
from salesflow.ops.cost.inventory import Inventory
from salesflow.ops.cost.prices import Prices
from salesflow.ops.cost.volumes import Volumes

# Resource types with no standing charge of their own, and why.
NO_CHARGE = {
    "confluent_environment": "no charge",
    "confluent_service_account": "no charge",
    "confluent_api_key": "no charge",
    "confluent_role_binding": "no charge",
    "confluent_subject_config": "no charge",
    "confluent_flink_compute_pool": "a compute pool is free; its running statements are billed",
    "confluent_kafka_topic": "no per-topic charge on eCKU clusters; its data and storage are priced",
    "aws_iam_role": "no charge",
    "aws_iam_role_policy": "no charge",
    "aws_kms_alias": "no charge",
    "aws_s3_bucket_public_access_block": "no charge",
    "aws_s3_bucket_ownership_controls": "no charge",
    "aws_s3_bucket_versioning": "no charge (noncurrent versions count as storage)",
    "aws_s3_bucket_server_side_encryption_configuration": "no charge",
    "aws_s3_bucket_lifecycle_configuration": "no charge",
    "aws_s3_bucket_logging": "no charge (the log objects count as storage)",
    "aws_s3_bucket_policy": "no charge",
    "aws_lambda_function_event_invoke_config": "no charge",
    "aws_secretsmanager_secret_version": "billed with its secret",
    "aws_sns_topic": "billed per use: a few notifications a month, cents",
    "aws_sns_topic_subscription": "billed per use: a few e-mails a month, cents",
    "aws_sqs_queue": "billed per use: idle unless a run fails, cents",
    "aws_scheduler_schedule": "billed per use: a few invocations a month, cents",
    "aws_secretsmanager_secret_policy": "no charge",
    "aws_iam_policy": "no charge",
    "aws_iam_role_policy_attachment": "no charge",
    "aws_iam_openid_connect_provider": "no charge",
    "tls_private_key": "no charge (a key pair made by Terraform)",
    # The analysts' downloads: CloudFront's always-free tier (1 TB out and 10M requests a month) holds a
    # team's weekly CSVs many times over.
    "aws_cloudfront_distribution": "billed per use, within CloudFront's always-free tier (1 TB, 10M calls)",
    "aws_cloudfront_key_group": "no charge",
    "aws_cloudfront_public_key": "no charge",
    "aws_cloudfront_origin_access_control": "no charge",
    "aws_cloudfront_response_headers_policy": "no charge",
    "aws_sesv2_email_identity": "billed per use: $0.10 per 1,000 e-mails, a few a month, cents",
    "aws_sesv2_configuration_set": "no charge",
    "aws_sesv2_configuration_set_event_destination": "no charge (its events go to SNS: cents)",
    "github_repository_environment": "no charge (GitHub)",
    "github_repository_environment_deployment_policy": "no charge (GitHub)",
    "github_actions_environment_secret": "no charge (GitHub)",
    "github_actions_environment_variable": "no charge (GitHub)",
}


@dataclass(frozen=True)
class Estimate:
    environment: str
    currency: str
    components: tuple[Component, ...]
    no_charge: tuple[tuple[str, str], ...] = ()
    unpriced: tuple[str, ...] = ()

    @property
    def total(self) -> Decimal:
        return sum((component.monthly for component in self.components), Decimal(0))

    @property
    def unconfirmed_total(self) -> Decimal:
        return sum((c.monthly for c in self.components if not c.confirmed), Decimal(0))


def estimate(environment: Environment, stacks: Mapping[str, Mapping[str, Any]], prices: Prices) -> Estimate:
    """The monthly estimate of ``environment`` from its synthesized ``stacks`` (name -> cdk.tf.json)."""
    context = Context(environment, Inventory(stacks), Volumes.of(environment), prices)
    components = [*confluent_components(context), *aws_components(context)]
    for block in context.inventory.resources:
        if block.address in context.handled:
            continue
        if block.type in NO_CHARGE:
            context.explain(block.address, NO_CHARGE[block.type])
    unpriced = sorted(
        block.address for block in context.inventory.resources if block.address not in context.handled
    )
    return Estimate(
        environment.name, prices.currency, tuple(components), tuple(sorted(context.notes)), tuple(unpriced)
    )
