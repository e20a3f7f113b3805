"""SNS topics with e-mail subscribers: the analysts' export notices and the on-call alarms."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from salesflow.config import Environment
from terraform.stacks.common import resource_prefix


class EmailTopic(Construct):
    """A KMS-encrypted SNS topic with one e-mail subscription per address (each must be confirmed).
    Subscriptions are named ``<subscriber>_<n>``."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        display_name: str,
        kms_key_arn: str,
        subscriber: str,
        addresses: Sequence[str],
    ) -> None:
        super().__init__(scope, id_)
        self.topic = SnsTopic(self, id_, name=name, kms_master_key_id=kms_key_arn, display_name=display_name)
        for index, address in enumerate(addresses):
            SnsTopicSubscription(
                self, f"{subscriber}_{index}", topic_arn=self.topic.arn, protocol="email", endpoint=address
            )

    @property
    def arn(self) -> str:
        return self.topic.arn


class Notifications(Construct):
    """``exports``: the analysts hear of each export (``notify: sns``). ``alarms``: on-call hears of every
    alarm, and of the analysts' e-mail bouncing or being marked as spam (``notify: email``)."""

    def __init__(self, scope: Construct, id_: str, environment: Environment, kms_key_arn: str) -> None:
        super().__init__(scope, id_)
        prefix = resource_prefix(environment)
        # With exporter.notify: email the analysts get the SES e-mail instead; the topic stays, so that
        # switching back to sns is a one-line change (they confirm the subscription again).
        self.exports = EmailTopic(
            self,
            "exports_topic",
            name=f"{prefix}-exports",
            display_name="salesflow weekly exports",
            kms_key_arn=kms_key_arn,
            subscriber="analyst",
            addresses=environment.exporter.analysts if environment.exporter.notify == "sns" else [],
        )
        self.alarms = EmailTopic(
            self,
            "alarms_topic",
            name=f"{prefix}-alarms",
            display_name="salesflow exporter alarms",
            kms_key_arn=kms_key_arn,
            subscriber="on_call",
            addresses=environment.exporter.alarm_emails,
        )
