"""A local AWS twin for S3, SNS, SES, Secrets Manager (whatever moto serves): moto server on 127.0.0.1.

The exporter's boto3 clients talk real HTTP to it, exactly as they would to AWS; only the endpoint
URL differs. SNS messages are read back through an SQS queue subscribed to the topic; e-mails sent
through SES are read from the server's outbox (moto runs in this process).

    with local_aws() as aws:
        aws.create_bucket("salesflow-exports-dev")
        topic = aws.create_topic("salesflow-dev-exports")
        inbox = aws.subscribe_inbox(topic)
        ...  # run the exporter with S3_ENDPOINT_URL=aws.endpoint_url
        inbox.messages()
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

DEFAULT_REGION = "eu-central-1"
# moto accepts any credentials; these fixed ones keep a developer's real credentials out of every call.
FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclass
class SnsInbox:
    """An SQS queue subscribed (raw delivery off) to an SNS topic; returns what was published."""

    sqs: Any
    queue_url: str
    _seen: list[dict[str, Any]] = field(default_factory=list)

    def messages(self, wait_seconds: int = 0) -> list[dict[str, Any]]:
        """All SNS notifications received so far: dicts with Subject, Message, TopicArn."""
        while True:
            response = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
            )
            received = response.get("Messages", [])
            if not received:
                return list(self._seen)
            for message in received:
                self._seen.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            wait_seconds = 0


@dataclass(frozen=True)
class SentEmail:
    source: str
    destinations: list[str]
    raw: bytes


@dataclass(frozen=True)
class LocalAws:
    endpoint_url: str
    region: str = DEFAULT_REGION

    def environ(self) -> dict[str, str]:
        """Environment variables that point boto3 (and the exporter) at this endpoint."""
        return {
            "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "S3_ENDPOINT_URL": self.endpoint_url,
            "SNS_ENDPOINT_URL": self.endpoint_url,
            "SES_ENDPOINT_URL": self.endpoint_url,
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": self.endpoint_url,
        }

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service, endpoint_url=self.endpoint_url, region_name=self.region, **FAKE_CREDENTIALS
        )

    def create_bucket(self, name: str) -> None:
        self.client("s3").create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region}
        )

    def create_topic(self, name: str) -> str:
        return self.client("sns").create_topic(Name=name)["TopicArn"]

    def subscribe_inbox(self, topic_arn: str, queue_name: str | None = None) -> SnsInbox:
        sqs = self.client("sqs")
        queue_url = sqs.create_queue(QueueName=queue_name or topic_arn.rsplit(":", 1)[-1] + "-inbox")[
            "QueueUrl"
        ]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        return SnsInbox(sqs, queue_url)

    def verify_sender_domain(self, domain: str) -> None:
        """An SES domain identity that may send (in AWS: verified through its DKIM records)."""
        self.client("ses").verify_domain_identity(Domain=domain)

    def put_secret(self, name: str, value: str) -> str:
        return self.client("secretsmanager").create_secret(Name=name, SecretString=value)["ARN"]

    def sent_emails(self) -> list[SentEmail]:
        """Every message sent through this server's SES, oldest first."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        backend = ses_backends[DEFAULT_ACCOUNT_ID][self.region]
        return [
            SentEmail(message.source, list(message.destinations), message.raw_data.encode("utf-8"))
            for message in backend.sent_messages
            if hasattr(message, "raw_data")
        ]

    def objects(self, bucket: str, prefix: str = "") -> dict[str, bytes]:
        """Every object under ``prefix``: key -> bytes."""
        s3 = self.client("s3")
        found: dict[str, bytes] = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                found[item["Key"]] = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        return found


@contextmanager
def local_aws(region: str = DEFAULT_REGION, port: int = 0) -> Iterator[LocalAws]:
    """Start moto's server on 127.0.0.1 on a free port (or ``port``); stop it on exit."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    _remember_backends(getattr(getattr(server, "_server", None), "app", None))
    try:
        host, port = server.get_host_and_port()
        yield LocalAws(endpoint_url=f"http://{host}:{port}", region=region)
    finally:
        server.stop()


def _remember_backends(dispatcher: Any) -> None:
    """moto 5 finds a request's service by listing its own package directory, twice a request (about 40% of
    the server's CPU time in the exporter tests); the answer for a host never changes, so remember it."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    if not isinstance(dispatcher, DomainDispatcherApplication):
        return  # another moto layout: it works, only slower
    find = dispatcher.get_backend_for_host
    known: dict[str | None, Any] = {}

    def remembered(host: str | None) -> Any:
        if host not in known:  # callers hold the dispatcher's lock
            known[host] = find(host)
        return known[host]

    dispatcher.get_backend_for_host = remembered


def main() -> None:
    """``python -m salesflow.twin.local_aws PORT``: the server in a process of its own, until terminated."""
    import sys
    import threading

    with local_aws(port=int(sys.argv[1])):
        threading.Event().wait()


if __name__ == "__main__":
    main()
