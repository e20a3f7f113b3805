"""``salesflow doctor``: AWS checks against moto in server mode (real HTTP), GitHub and Confluent checks
against a local HTTP server answering with the shapes those APIs document. Nothing reads a secret value."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import boto3
import pytest
from click.testing import CliRunner

from salesflow.cli import main
from salesflow.cloud.aws import aws_client
from salesflow.cloud.confluent import ConfluentReader
from salesflow.cloud.github import GitHubReader
from salesflow.config import load_environment
from salesflow.delivery.doctor import Doctor, Status, render

PEPPER_VALUE = "doctor-pepper-value-never-printed-5d1e"
ISSUER = "token.actions.githubusercontent.com"


def _trust(subjects: tuple[str, ...], provider: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{ISSUER}:aud": "sts.amazonaws.com",
                            f"{ISSUER}:sub": list(subjects),
                        }
                    },
                }
            ],
        }
    )


def _bootstrapped(environment: Any, *, wrong_trust: str | None = None) -> None:
    """What ``make bootstrap`` leaves in AWS, made directly in moto."""
    names = environment.names
    region = environment.aws.region
    s3 = boto3.client("s3", region_name=region)
    for bucket in (environment.aws.state_backend.bucket, environment.aws.artifact_bucket):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=environment.aws.state_backend.bucket, Key=names.state_key, Body=b"{}")
    iam = boto3.client("iam", region_name=region)
    provider = iam.create_open_id_connect_provider(
        Url=f"https://{ISSUER}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["0" * 40]
    )["OpenIDConnectProviderArn"]
    boundary = {"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}
    iam.create_policy(
        PolicyName=names.boundary_policy,
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [boundary]}),
    )
    for purpose in names.ROLES:
        subjects = names.github_subjects(purpose)
        if purpose == wrong_trust:
            subjects = ("repo:someone-else/fork:*",)
        iam.create_role(RoleName=names.role(purpose), AssumeRolePolicyDocument=_trust(subjects, provider))
    secrets = boto3.client("secretsmanager", region_name=region)
    secrets.create_secret(Name=environment.confluent.pii.pepper_secret, SecretString=PEPPER_VALUE)
    for purpose in ("deploy", "plan"):
        secrets.create_secret(Name=names.confluent_key_secret(purpose), SecretString="KEY:SECRET")


def _doctor(environment: Any, **readers: Any) -> list[Any]:
    return Doctor(
        environment, aws=lambda service: aws_client(service, environment.aws.region), **readers
    ).run()


def test_an_empty_account_is_missing_everything_and_says_how_to_fix_it(s3_endpoint: str) -> None:
    environment = load_environment("dev")
    checks = _doctor(environment)
    aws = [check for check in checks if check.area == "aws"]
    assert len(aws) == 12 and {check.status for check in aws} == {Status.MISSING}
    assert all("make bootstrap ENV=dev" in check.fix for check in aws)
    others = [check for check in checks if check.area != "aws"]
    assert others and {check.status for check in others} == {Status.CANNOT_CHECK}
    result = CliRunner().invoke(
        main, ["doctor", "--env", "dev"], env={"GITHUB_TOKEN": "", "CONFLUENT_CLOUD_API_KEY": ""}
    )
    assert result.exit_code == 1
    assert "0 OK, 12 missing, 5 cannot check" in result.output


def test_a_bootstrapped_account_passes_and_a_widened_trust_is_caught(s3_endpoint: str) -> None:
    environment = load_environment("dev")
    _bootstrapped(environment, wrong_trust="deploy")
    checks = {check.item: check for check in _doctor(environment) if check.area == "aws"}
    assert [item for item, check in checks.items() if check.status is not Status.OK] == [
        "role salesflow-dev-github-deploy"
    ]
    deploy = checks["role salesflow-dev-github-deploy"]
    assert deploy.status is Status.CANNOT_CHECK and "repo:someone-else/fork:*" in deploy.detail
    assert checks["pepper secret salesflow/dev/pii-pepper"].detail.endswith("(value not read)")
    text = render(list(checks.values()))
    assert PEPPER_VALUE not in text and "KEY:SECRET" not in text
    assert "11 OK, 0 missing, 1 cannot check" in text


class _Api(BaseHTTPRequestHandler):
    """GitHub's and Confluent's read endpoints the doctor uses, with their documented shapes."""

    routes: ClassVar[dict[str, Any]] = {}
    seen: ClassVar[list[tuple[str, str]]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization", "")))
        body = self.routes.get(self.path)
        self.send_response(404 if body is None else 200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body or {"message": "Not Found"}).encode())

    def log_message(self, *_: Any) -> None:
        return


@pytest.fixture
def api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        _Api.routes, _Api.seen = {}, []


def test_github_and_confluent_checks_read_names_only(api: str) -> None:
    environment = load_environment("dev")
    repo = "/repos/example-org/salesflow/environments"
    variables = [
        "AWS_BACKFILL_ROLE_ARN",
        "AWS_REGION",
        "AWS_ROLE_ARN",
        "AWS_SMOKE_ROLE_ARN",
        "EXPORTER_FUNCTION_NAME",
    ]
    secrets = [{"name": "CONFLUENT_CLOUD_API_KEY"}, {"name": "CONFLUENT_CLOUD_API_SECRET"}]
    _Api.routes = {
        f"{repo}/dev": {"name": "dev"},
        f"{repo}/dev/variables?per_page=100": {"variables": [{"name": name} for name in variables]},
        f"{repo}/dev/secrets?per_page=100": {"secrets": secrets},
        f"{repo}/dev-plan": {"name": "dev-plan"},
        f"{repo}/dev-plan/variables?per_page=100": {"variables": [{"name": "AWS_REGION"}]},
        f"{repo}/dev-plan/secrets?per_page=100": {"secrets": secrets},
        "/org/v2/environments?page_size=100": {
            "data": [{"id": "env-other", "display_name": "other"}],
            "metadata": {"next": f"{api}/org/v2/environments?page_size=100&page_token=2"},
        },
        "/org/v2/environments?page_size=100&page_token=2": {
            "data": [{"id": "env-abc123", "display_name": "salesflow-dev"}],
            "metadata": {},
        },
        "/iam/v2/service-accounts?page_size=100": {
            "data": [{"id": "sa-terraform1", "display_name": "salesflow-dev-terraform"}],
            "metadata": {},
        },
    }
    doctor = Doctor(
        environment,
        aws=lambda _: pytest.fail("AWS is not asked here"),
        github=GitHubReader("gh-token", api),
        confluent=ConfluentReader("CKEY", "csecret", api),
    )
    checks = {check.item: check for check in [*doctor._github_checks(), *doctor._confluent_checks()]}
    assert checks["GitHub environment example-org/salesflow:dev"].status is Status.OK
    plan = checks["GitHub environment example-org/salesflow:dev-plan"]
    assert plan.status is Status.MISSING and plan.detail == "lacks AWS_ROLE_ARN"
    assert checks["Confluent environment salesflow-dev"].detail == "env-abc123"
    assert checks["service account salesflow-dev-terraform"].status is Status.OK
    assert checks["service account salesflow-dev-terraform-plan"].status is Status.MISSING
    assert {auth.split()[0] for _, auth in _Api.seen} == {"Bearer", "Basic"}
