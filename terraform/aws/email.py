"""The analysts' e-mail through SES: a domain identity signed with Easy DKIM, a configuration set, and
bounces and complaints to the on-call topic.

The identity is verified once its three DKIM CNAME records are published in the domain's DNS (the
``email_dkim_records`` output; the DNS zone is outside this repo). A new account's SES is in the sandbox:
it only sends to verified addresses until production access is granted (docs/runbook.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdktf import Fn
from cdktf_cdktf_provider_aws.sesv2_configuration_set import Sesv2ConfigurationSet
from cdktf_cdktf_provider_aws.sesv2_configuration_set_event_destination import (
    Sesv2ConfigurationSetEventDestination,
)
from cdktf_cdktf_provider_aws.sesv2_email_identity import Sesv2EmailIdentity
from constructs import Construct

from salesflow.config import AnalystEmail, Environment
from terraform.aws.downloads import DownloadLinks
from terraform.aws.iam import Statement, read_secret, statement
from terraform.stacks.common import resource_prefix

# Delivery problems on-call acts on: addresses that bounce or complain (SES suppresses them afterwards),
# messages SES rejected (e.g. a virus scan) and e-mails its renderer could not build.
FEEDBACK_EVENTS = ("BOUNCE", "COMPLAINT", "REJECT", "RENDERING_FAILURE")


class AnalystEmailSender(Construct):
    """``analyst_email_identity`` (domain, Easy DKIM with 2048-bit keys), ``analyst_email_configuration``
    (TLS required, reputation metrics, account-level suppression of bounces and complaints) and
    ``analyst_email_feedback`` (those events to ``on_call_topic_arn``)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        environment: Environment,
        email: AnalystEmail,
        on_call_topic_arn: str,
    ) -> None:
        super().__init__(scope, id_)
        self.email = email
        configuration = Sesv2ConfigurationSet(
            self,
            "analyst_email_configuration",
            configuration_set_name=f"{resource_prefix(environment)}-analyst-email",
            delivery_options={"tls_policy": "REQUIRE"},
            reputation_options={"reputation_metrics_enabled": True},
            sending_options={"sending_enabled": True},
            suppression_options={"suppressed_reasons": ["BOUNCE", "COMPLAINT"]},
        )
        self.configuration_set_name = configuration.configuration_set_name
        self.configuration_set_arn = configuration.arn
        self.identity = Sesv2EmailIdentity(
            self,
            "analyst_email_identity",
            email_identity=email.sender_domain,
            configuration_set_name=configuration.configuration_set_name,
            dkim_signing_attributes={"next_signing_key_length": "RSA_2048_BIT"},
        )
        Sesv2ConfigurationSetEventDestination(
            self,
            "analyst_email_feedback",
            configuration_set_name=configuration.configuration_set_name,
            event_destination_name="on-call",
            event_destination={
                "enabled": True,
                "matching_event_types": list(FEEDBACK_EVENTS),
                "sns_destination": {"topic_arn": on_call_topic_arn},
            },
        )

    @property
    def identity_arn(self) -> str:
        return self.identity.arn

    def dkim_tokens(self) -> str:
        """Easy DKIM's three tokens, comma-separated: publish ``<token>._domainkey.<domain>`` as a CNAME
        of ``<token>.dkim.amazonses.com`` for each."""
        return Fn.join(",", self.identity.dkim_signing_attributes.tokens)

    def key_statement(self, account_id: str) -> dict[str, Any]:
        """For the exporter key's policy: SES may encrypt the events it publishes to the (encrypted)
        on-call topic, for this configuration set only."""
        return {
            "Sid": "SesPublishesDeliveryEventsToOnCall",
            "Effect": "Allow",
            "Principal": {"Service": "ses.amazonaws.com"},
            "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account_id},
                "ArnLike": {"aws:SourceArn": self.configuration_set_arn},
            },
        }


@dataclass(frozen=True)
class AnalystNotice:
    """What the exporter needs to e-mail the analysts (``exporter.notify: email``): its settings and the
    permissions to send through SES and to read the signing key (exporter/notice/settings.py)."""

    environment: Environment
    sender: AnalystEmailSender
    downloads: DownloadLinks

    def variables(self) -> dict[str, str]:
        exporter = self.environment.exporter
        assert exporter.downloads is not None
        return {
            "NOTIFY": "email",
            "EMAIL_FROM": self.sender.email.from_address,
            "EMAIL_TO": ",".join(exporter.analysts),
            "EMAIL_CONFIGURATION_SET": self.sender.configuration_set_name,
            "DOWNLOAD_BASE_URL": self.downloads.base_url,
            "DOWNLOAD_KEY_PAIR_ID": self.downloads.key_pair_id,
            "DOWNLOAD_SIGNING_KEY_SECRET_ID": self.downloads.active_secret.arn,
            "DOWNLOAD_LINK_DAYS": str(exporter.downloads.link_days),
        }

    def permissions(self, kms_key_arn: str) -> list[Statement]:
        region = self.environment.aws.region
        return [
            statement(
                "SendAnalystEmail",
                ["ses:SendRawEmail"],
                [self.sender.identity_arn, self.sender.configuration_set_arn],
            ),
            *read_secret("DownloadSigningKey", self.downloads.active_secret.arn, kms_key_arn, region),
        ]
