"""``salesflow doctor --env ENV``: does everything the first deploy needs exist?

Each check answers OK, MISSING (with the fix) or CANNOT CHECK (no credentials, or access refused: say
which). It only reads, and never a secret's value: the pepper and the Confluent keys are checked with
``DescribeSecret`` (a current version exists), not ``GetSecretValue``. AWS checks use the caller's
credentials (boto3's chain); GitHub checks run when ``GITHUB_TOKEN`` is set, Confluent checks when
``CONFLUENT_CLOUD_API_KEY``/``CONFLUENT_CLOUD_API_SECRET`` are.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import unquote

from salesflow.config import Environment

GITHUB_ISSUER = "token.actions.githubusercontent.com"
BOOTSTRAP_FIX = "run `make bootstrap ENV={env}` as an administrator (docs/runbook.md, From zero)"
# The variables and secrets the workflows read, per GitHub environment kind.
PLAN_VARIABLES = ("AWS_REGION", "AWS_ROLE_ARN")
DEPLOY_VARIABLES = (
    "AWS_BACKFILL_ROLE_ARN",
    "AWS_REGION",
    "AWS_ROLE_ARN",
    "AWS_SMOKE_ROLE_ARN",
    "EXPORTER_FUNCTION_NAME",
)
SECRETS = ("CONFLUENT_CLOUD_API_KEY", "CONFLUENT_CLOUD_API_SECRET")


class Status(Enum):
    OK = "OK"
    MISSING = "MISSING"
    CANNOT_CHECK = "CANNOT CHECK"


@dataclass(frozen=True)
class Check:
    area: str
    item: str
    status: Status
    detail: str = ""
    fix: str = ""


class CannotCheck(Exception):
    """The caller may not look (no credentials, access denied): not the same as missing."""


def _aws_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


NOT_FOUND = {"404", "NoSuchBucket", "NoSuchKey", "NotFound", "NoSuchEntity", "ResourceNotFoundException"}
DENIED = {"403", "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "ExpiredToken"}


class Doctor:
    """Runs every check; ``aws(service)`` returns a boto3 client, ``github``/``confluent`` are REST
    clients (``salesflow.cloud``) or None when their credentials are absent."""

    def __init__(
        self,
        environment: Environment,
        aws: Callable[[str], Any],
        github: Any | None = None,
        confluent: Any | None = None,
    ) -> None:
        self.environment = environment
        self.names = environment.names
        self._aws = aws
        self._clients: dict[str, Any] = {}
        self.github = github
        self.confluent = confluent
        self.fix = BOOTSTRAP_FIX.format(env=environment.name)

    def aws(self, service: str) -> Any:
        """One client per service for the whole run."""
        if service not in self._clients:
            self._clients[service] = self._aws(service)
        return self._clients[service]

    def run(self) -> list[Check]:
        checks = list(self._aws_checks())
        checks += list(self._github_checks())
        checks += list(self._confluent_checks())
        return checks

    # --- AWS -----------------------------------------------------------------------------------------

    def _aws_checks(self) -> Iterator[Check]:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        backend = self.environment.aws.state_backend
        probes: list[tuple[str, Callable[[], str]]] = [
            (f"state bucket s3://{backend.bucket}", lambda: self._bucket(backend.bucket)),
            (
                f"bootstrap state s3://{backend.bucket}/{self.names.state_key}",
                lambda: self._object(backend.bucket, self.names.state_key),
            ),
            (
                f"artifact bucket s3://{self.environment.aws.artifact_bucket}",
                lambda: self._bucket(self.environment.aws.artifact_bucket),
            ),
            (f"OIDC provider {GITHUB_ISSUER}", self._oidc_provider),
            (f"boundary policy {self.names.boundary_policy}", self._boundary),
            *(
                (f"role {self.names.role(purpose)}", self._role_probe(purpose))
                for purpose in self.names.ROLES
            ),
            (
                f"pepper secret {self.environment.confluent.pii.pepper_secret}",
                lambda: self._secret(self.environment.confluent.pii.pepper_secret),
            ),
            *(
                (f"secret {self.names.confluent_key_secret(purpose)}", self._secret_probe(purpose))
                for purpose in ("deploy", "plan")
            ),
        ]
        for item, probe in probes:
            try:
                yield Check("aws", item, Status.OK, probe())
            except CannotCheck as exc:
                yield Check("aws", item, Status.CANNOT_CHECK, str(exc), "use credentials that may read it")
            except NoCredentialsError:
                yield Check("aws", item, Status.CANNOT_CHECK, "no AWS credentials", "sign in to the account")
            except ClientError as exc:
                code = _aws_code(exc)
                if code in NOT_FOUND:
                    yield Check("aws", item, Status.MISSING, code, self.fix)
                elif code in DENIED:
                    yield Check(
                        "aws", item, Status.CANNOT_CHECK, f"access denied ({code})", "use admin credentials"
                    )
                else:
                    yield Check("aws", item, Status.CANNOT_CHECK, f"{code}: {exc}", "see the error")
            except BotoCoreError as exc:
                yield Check("aws", item, Status.CANNOT_CHECK, str(exc), "check the network and region")

    def _bucket(self, name: str) -> str:
        s3 = self.aws("s3")
        s3.head_bucket(Bucket=name)
        versioning = s3.get_bucket_versioning(Bucket=name).get("Status", "off")
        if versioning != "Enabled":
            raise CannotCheck(f"exists, but versioning is {versioning}: {self.fix}")
        return "exists, versioned"

    def _object(self, bucket: str, key: str) -> str:
        self.aws("s3").head_object(Bucket=bucket, Key=key)
        return "bootstrap applied, state in the bucket"

    def _oidc_provider(self) -> str:
        iam = self.aws("iam")
        for entry in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
            if entry["Arn"].endswith(f"/{GITHUB_ISSUER}"):
                audiences = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=entry["Arn"])[
                    "ClientIDList"
                ]
                if "sts.amazonaws.com" not in audiences:
                    raise CannotCheck(f"{entry['Arn']} lacks audience sts.amazonaws.com: {self.fix}")
                return entry["Arn"]
        from botocore.exceptions import ClientError

        raise ClientError(
            {"Error": {"Code": "NoSuchEntity", "Message": "no provider"}}, "ListOpenIDConnectProviders"
        )

    def _boundary(self) -> str:
        account = self.aws("sts").get_caller_identity()["Account"]
        arn = f"arn:aws:iam::{account}:policy/{self.names.boundary_policy}"
        self.aws("iam").get_policy(PolicyArn=arn)
        return arn

    def _role_probe(self, purpose: str) -> Callable[[], str]:
        def probe() -> str:
            role = self.aws("iam").get_role(RoleName=self.names.role(purpose))["Role"]
            document = role["AssumeRolePolicyDocument"]
            if isinstance(document, str):
                document = json.loads(unquote(document))
            trusted = {
                value
                for statement in document.get("Statement", [])
                for value in _as_list(
                    statement.get("Condition", {}).get("StringEquals", {}).get(f"{GITHUB_ISSUER}:sub")
                )
            }
            expected = set(self.names.github_subjects(purpose))
            if trusted != expected:
                raise CannotCheck(
                    f"trusts {sorted(trusted) or 'no GitHub subject'}, "
                    f"expected {sorted(expected)}: {self.fix}"
                )
            return f"trusts {', '.join(sorted(expected))}"

        return probe

    def _secret(self, name: str) -> str:
        described = self.aws("secretsmanager").describe_secret(SecretId=name)
        stages = described.get("VersionIdsToStages") or {}
        if not any("AWSCURRENT" in labels for labels in stages.values()):
            raise CannotCheck(f"exists without a value: {self.fix}")
        return "exists with a current value (value not read)"

    def _secret_probe(self, purpose: str) -> Callable[[], str]:
        return lambda: self._secret(self.names.confluent_key_secret(purpose))  # type: ignore[arg-type]

    # --- GitHub and Confluent ------------------------------------------------------------------------

    def _github_checks(self) -> Iterator[Check]:
        repository = self.environment.bootstrap.github_repository
        plan_env, deploy_env = self.names.github_environments
        wanted = {plan_env: PLAN_VARIABLES, deploy_env: DEPLOY_VARIABLES}
        for name, variables in wanted.items():
            item = f"GitHub environment {repository}:{name}"
            if self.github is None:
                yield Check(
                    "github", item, Status.CANNOT_CHECK, "GITHUB_TOKEN is not set", "export GITHUB_TOKEN"
                )
                continue
            try:
                found = self.github.environment(repository, name)
            except (CannotCheck, PermissionError) as exc:
                yield Check(
                    "github", item, Status.CANNOT_CHECK, str(exc), "use a token that may read the repo"
                )
                continue
            if found is None:
                yield Check("github", item, Status.MISSING, "no such environment", self.fix)
                continue
            missing = sorted(set(variables) - found["variables"]) + sorted(set(SECRETS) - found["secrets"])
            if missing:
                yield Check("github", item, Status.MISSING, f"lacks {', '.join(missing)}", self.fix)
            else:
                yield Check("github", item, Status.OK, "variables and secrets set")

    def _confluent_checks(self) -> Iterator[Check]:
        settings = self.environment.confluent.environment
        items = [
            (f"Confluent environment {settings.id or settings.display_name}", "environment"),
            (
                f"service account {self.names.confluent_terraform_account}",
                self.names.confluent_terraform_account,
            ),
            (f"service account {self.names.confluent_plan_account}", self.names.confluent_plan_account),
        ]
        for item, what in items:
            if self.confluent is None:
                yield Check(
                    "confluent",
                    item,
                    Status.CANNOT_CHECK,
                    "CONFLUENT_CLOUD_API_KEY/SECRET are not set",
                    "export a Cloud API key that may list environments and service accounts",
                )
                continue
            try:
                if what == "environment":
                    found = self.confluent.environment(settings.id, settings.display_name)
                else:
                    found = self.confluent.service_account(what)
            except (CannotCheck, PermissionError) as exc:
                yield Check("confluent", item, Status.CANNOT_CHECK, str(exc), "use a key that may read it")
                continue
            if found is None:
                yield Check("confluent", item, Status.MISSING, "not found", self.fix)
            else:
                yield Check("confluent", item, Status.OK, found)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def render(checks: list[Check]) -> str:
    width = max(len(check.item) for check in checks)
    lines = []
    for check in checks:
        line = f"{check.status.value:<12} {check.area:<9} {check.item:<{width}}  {check.detail}"
        if check.status is not Status.OK and check.fix:
            line += f"\n{'':<12} {'':<9} {'':<{width}}  fix: {check.fix}"
        lines.append(line.rstrip())
    counts = {status: sum(check.status is status for check in checks) for status in Status}
    lines.append(
        f"{counts[Status.OK]} OK, {counts[Status.MISSING]} missing, "
        f"{counts[Status.CANNOT_CHECK]} cannot check"
    )
    return "\n".join(lines)
