"""The IAM documents of the bootstrap stack, as data: trust, plan, deploy, backfill, smoke, boundary.

Who may do what (terraform/README.md has the tables):

* **plan** (pull requests, ``<env>-plan``): reads what the stacks declare and their state; writes only
  saved plans under ``<key prefix>/plans/``;
* **deploy** (``<env>``): manages what the Confluent, Flink and AWS stacks declare; creates IAM roles only
  named ``salesflow-<env>-*`` and only with the workload boundary; never touches the bootstrap's roles,
  buckets, key, OIDC provider, boundary, pepper or its state;
* **backfill** (``<env>``): invokes the exporter, nothing else;
* **smoke** (``<env>``): reads the smoke test's Kafka credentials, nothing else;
* the **workload boundary**: the most any role the pipeline creates can ever do.
"""

from __future__ import annotations

from collections.abc import Sequence

from terraform.aws.iam import Statement, condition, federated, statement
from terraform.bootstrap.scope import Scope

GITHUB_ISSUER = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
# Services the pipeline passes its workload roles to.
WORKLOAD_SERVICES = ("lambda.amazonaws.com", "scheduler.amazonaws.com")
# IAM writes that AWS lets a policy bind to the role's permissions boundary (iam:PermissionsBoundary).
BOUNDED_ROLE_WRITES = (
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
)
# IAM writes without that condition key: allowed on the name prefix only, the bootstrap's roles denied.
PREFIXED_ROLE_WRITES = (
    "iam:DeleteRole",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
    "iam:UpdateAssumeRolePolicy",
)


def trust(scope: Scope, purpose: str, provider_arn: str) -> list[Statement]:
    """GitHub's OIDC tokens for this repository, audience STS, and exactly the role's subjects."""
    return [
        statement(
            "GitHubActionsOfThisRepository",
            ["sts:AssumeRoleWithWebIdentity"],
            [],
            principals=[federated(provider_arn)],
            conditions=[
                condition("StringEquals", f"{GITHUB_ISSUER}:aud", AUDIENCE),
                condition("StringEquals", f"{GITHUB_ISSUER}:sub", *scope.names.github_subjects(purpose)),
            ],
        )
    ]


def _env_tag(scope: Scope) -> list:
    """Keys of this environment that the bootstrap did not make (tags come from the providers' defaults)."""
    return [
        condition("StringEquals", "aws:ResourceTag/environment", scope.environment.name),
        condition("StringNotEquals", "aws:ResourceTag/stack", f"{scope.environment.name}-bootstrap"),
    ]


def read(scope: Scope) -> list[Statement]:
    """What ``terraform plan`` of the Confluent, Flink and AWS stacks reads (refresh), and nothing else."""
    buckets = [*scope.managed_buckets, scope.artifact_bucket, scope.state_bucket]
    byob = scope.environment.confluent.tableflow.byob
    via_secrets = condition("StringEquals", "kms:ViaService", f"secretsmanager.{scope.region}.amazonaws.com")
    return [
        statement("ListStateAndArtifacts", ["s3:ListBucket"], [scope.state_bucket, scope.artifact_bucket]),
        statement("ReadStackState", ["s3:GetObject"], [f"{scope.state_prefix}/*.tfstate"]),
        statement("ReadArtifacts", ["s3:GetObject"], [f"{scope.artifact_bucket}/exporter/*"]),
        # On a bucket ARN, s3:Get* grants bucket settings only (object reads need object ARNs).
        statement("ReadBucketSettings", ["s3:Get*", "s3:ListBucket"], buckets),
        statement(
            "ReadFunctions",
            ["lambda:GetFunction*", "lambda:GetPolicy", "lambda:ListVersionsByFunction", "lambda:ListTags"],
            [scope.functions],
        ),
        statement(
            "ReadWorkloadRoles",
            ["iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies"],
            [scope.workload_roles],
        ),
        statement("ReadBoundary", ["iam:GetPolicy", "iam:GetPolicyVersion"], [scope.boundary]),
        statement(
            "ReadTopics",
            ["sns:GetTopicAttributes", "sns:GetSubscriptionAttributes", "sns:ListTagsForResource"],
            [scope.named("sns")],
        ),
        statement(
            "ReadQueues",
            ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags"],
            [scope.named("sqs")],
        ),
        statement("FindLogGroups", ["logs:DescribeLogGroups"], [scope.arn("logs", "log-group:*")]),
        statement("ReadLogGroupTags", ["logs:ListTagsForResource"], [scope.log_groups]),
        statement(
            "ReadSchedules", ["scheduler:GetSchedule", "scheduler:ListTagsForResource"], [scope.schedules]
        ),
        statement(
            "ReadAlarms", ["cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"], [scope.alarms]
        ),
        statement(
            "ReadKeys",
            ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
            [scope.keys],
            conditions=[condition("StringEquals", "aws:ResourceTag/environment", scope.environment.name)],
        ),
        # ListAliases has no resource-level permissions (the AWS provider finds an alias by listing).
        statement("FindAliases", ["kms:ListAliases"], ["*"]),
        # Plans read the Confluent keys and the pepper: the Flink stack's provider and SQL need them.
        statement(
            "ReadPipelineSecrets",
            [
                "secretsmanager:GetSecretValue",
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetResourcePolicy",
            ],
            [scope.confluent_secrets, scope.pepper_secret],
        ),
        statement(
            "DecryptPipelineSecrets",
            ["kms:Decrypt"],
            [scope.keys],
            conditions=[
                via_secrets,
                condition("StringEquals", "aws:ResourceTag/environment", scope.environment.name),
            ],
        ),
        *(
            [
                statement(
                    "ReadTableflowBucketSettings", ["s3:Get*", "s3:ListBucket"], [scope.bucket(byob.bucket)]
                )
            ]
            if byob is not None
            else []
        ),
    ]


def plan(scope: Scope) -> list[Statement]:
    """Read-only, plus the one write: saved plans under ``<key prefix>/plans/`` (deploy.yml's prod-plan)."""
    return [
        *read(scope),
        statement("WriteSavedPlans", ["s3:PutObject"], [f"{scope.state_prefix}/plans/*"]),
        *_bootstrap_secrets_stay_closed(scope),
    ]


def _bootstrap_secrets_stay_closed(scope: Scope) -> list[Statement]:
    """The bootstrap's state and secrets hold Confluent keys: no pipeline role reads them."""
    return [
        statement("DenyBootstrapState", ["s3:*"], [scope.bootstrap_state], effect="Deny"),
        statement(
            "DenyBootstrapSecretReads",
            ["secretsmanager:GetSecretValue"],
            [scope.bootstrap_secrets],
            effect="Deny",
        ),
    ]


def deploy(scope: Scope) -> list[Statement]:
    """Manage what the stacks declare; IAM only under the prefix and with the workload boundary."""
    state = scope.state_prefix
    return [
        *read(scope),
        statement(
            "WriteStackStateAndLocks",
            ["s3:PutObject", "s3:DeleteObject"],
            [f"{state}/*.tfstate", f"{state}/*.tflock"],
        ),
        statement("ReadSavedPlans", ["s3:GetObject"], [f"{state}/plans/*"]),
        # Content-addressed zips: written once (make package), never overwritten or deleted.
        statement("PublishArtifacts", ["s3:PutObject"], [f"{scope.artifact_bucket}/exporter/*"]),
        statement(
            "ManageExportBuckets",
            ["s3:*"],
            [*scope.managed_buckets, *(f"{b}/*" for b in scope.managed_buckets)],
        ),
        statement("ManageFunctions", ["lambda:*"], [scope.functions]),
        statement("ManageTopics", ["sns:*"], [scope.named("sns")]),
        statement("ManageQueues", ["sqs:*"], [scope.named("sqs")]),
        statement("ManageLogGroups", ["logs:*"], [scope.log_groups, f"{scope.log_groups}:*"]),
        statement("ManageSchedules", ["scheduler:*"], [scope.schedules]),
        statement("ManageAlarms", ["cloudwatch:*"], [scope.alarms]),
        statement(
            "CreateEnvironmentKeys",
            ["kms:CreateKey", "kms:TagResource"],
            ["*"],
            conditions=[
                condition("StringEquals", "aws:RequestTag/environment", scope.environment.name),
                condition("StringNotEquals", "aws:RequestTag/stack", f"{scope.environment.name}-bootstrap"),
            ],
        ),
        statement("ManageEnvironmentKeys", ["kms:*"], [scope.keys], conditions=_env_tag(scope)),
        statement(
            "ManageKeyAliases", ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"], [scope.aliases]
        ),
        statement("ManageConfluentSecrets", ["secretsmanager:*"], [scope.confluent_secrets]),
        statement(
            "CreateRolesWithTheBoundary",
            list(BOUNDED_ROLE_WRITES),
            [scope.workload_roles],
            conditions=[condition("StringEquals", "iam:PermissionsBoundary", scope.boundary)],
        ),
        statement("ManageWorkloadRoles", list(PREFIXED_ROLE_WRITES), [scope.workload_roles]),
        statement(
            "PassWorkloadRoles",
            ["iam:PassRole"],
            [scope.workload_roles],
            conditions=[condition("StringEquals", "iam:PassedToService", *WORKLOAD_SERVICES)],
        ),
        *guardrails(scope),
    ]


def guardrails(scope: Scope) -> list[Statement]:
    """Explicit denials (they win over any allow): the bootstrap's own objects stay an administrator's."""
    protected_buckets = [scope.state_bucket, scope.artifact_bucket, scope.access_log_bucket]
    return [
        statement(
            "DenyBootstrapIdentities",
            ["iam:*"],
            [scope.bootstrap_roles, scope.boundary, scope.oidc_provider],
            effect="Deny",
        ),
        statement(
            "DenyRemovingBoundaries",
            ["iam:DeleteRolePermissionsBoundary"],
            [scope.workload_roles],
            effect="Deny",
        ),
        statement(
            "DenyBootstrapBucketSettings",
            [
                "s3:DeleteBucket",
                "s3:DeleteBucketPolicy",
                "s3:PutBucket*",
                "s3:PutEncryptionConfiguration",
                "s3:PutLifecycleConfiguration",
                "s3:PutReplicationConfiguration",
            ],
            protected_buckets,
            effect="Deny",
        ),
        statement(
            "DenyRewritingHistory",
            ["s3:DeleteObjectVersion", "s3:PutObjectRetention", "s3:PutObjectLegalHold"],
            [f"{bucket}/*" for bucket in protected_buckets],
            effect="Deny",
        ),
        *_bootstrap_secrets_stay_closed(scope),
        statement(
            "DenyBootstrapKeyAdministration",
            [
                "kms:CreateGrant",
                "kms:DisableKey",
                "kms:DisableKeyRotation",
                "kms:PutKeyPolicy",
                "kms:ScheduleKeyDeletion",
                "kms:UpdateKeyDescription",
            ],
            [scope.keys],
            effect="Deny",
            conditions=[
                condition("StringEquals", "aws:ResourceTag/stack", f"{scope.environment.name}-bootstrap")
            ],
        ),
        statement(
            "DenyBootstrapAlias",
            ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
            [scope.bootstrap_alias],
            effect="Deny",
        ),
        statement(
            "DenyPepperAndBootstrapSecretChanges",
            [
                "secretsmanager:DeleteSecret",
                "secretsmanager:PutSecretValue",
                "secretsmanager:UpdateSecret",
                "secretsmanager:PutResourcePolicy",
                "secretsmanager:RotateSecret",
            ],
            [scope.pepper_secret, scope.bootstrap_secrets],
            effect="Deny",
        ),
    ]


def boundary(scope: Scope) -> list[Statement]:
    """The ceiling of every role the pipeline creates: data-plane actions on this environment's objects.

    A new workload permission must fit here too (tests/terraform/test_bootstrap_iam.py checks the AWS
    stack's roles against it).
    """
    export = scope.environment.aws.export.bucket
    byob = scope.environment.confluent.tableflow.byob
    readable = [scope.bucket(byob.bucket), f"{scope.bucket(byob.bucket)}/*"] if byob is not None else []
    return [
        statement(
            "WorkloadObjects",
            ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
            [scope.bucket(export), f"{scope.bucket(export)}/*"],
        ),
        *(
            [statement("WorkloadReadsTableflowBucket", ["s3:GetObject", "s3:ListBucket"], readable)]
            if readable
            else []
        ),
        statement("WorkloadNotifies", ["sns:Publish"], [scope.named("sns")]),
        statement("WorkloadQueues", ["sqs:SendMessage"], [scope.named("sqs")]),
        statement("WorkloadLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{scope.log_groups}:*"]),
        statement("WorkloadInvokes", ["lambda:InvokeFunction"], [scope.functions]),
        statement("WorkloadReadsConfluentKeys", ["secretsmanager:GetSecretValue"], [scope.confluent_secrets]),
        statement(
            "WorkloadUsesEnvironmentKeys",
            ["kms:Decrypt", "kms:GenerateDataKey"],
            [scope.keys],
            conditions=_env_tag(scope),
        ),
        statement(
            "WorkloadMetrics",
            ["cloudwatch:PutMetricData"],
            ["*"],
            conditions=[condition("StringLike", "cloudwatch:namespace", "salesflow*")],
        ),
        statement("WorkloadNeverManagesIdentities", ["iam:*", "sts:AssumeRole"], ["*"], effect="Deny"),
        statement(
            "WorkloadNeverReadsState",
            ["s3:*"],
            [scope.state_bucket, f"{scope.state_bucket}/*"],
            effect="Deny",
        ),
    ]


def backfill(scope: Scope, function_name: str) -> list[Statement]:
    return [
        statement(
            "InvokeTheExporter",
            ["lambda:InvokeFunction"],
            [scope.arn("lambda", f"function:{function_name}")],
        )
    ]


def smoke(scope: Scope) -> list[Statement]:
    """The smoke test's Kafka and Schema Registry credentials (written by the Confluent stack)."""
    secret = scope.arn("secretsmanager", f"secret:salesflow/{scope.environment.name}/confluent/smoke-*")
    return [
        statement("ReadSmokeCredentials", ["secretsmanager:GetSecretValue"], [secret]),
        statement(
            "DecryptSmokeCredentials",
            ["kms:Decrypt"],
            [scope.keys],
            conditions=[
                condition("StringEquals", "kms:ViaService", f"secretsmanager.{scope.region}.amazonaws.com"),
                condition("StringEquals", "aws:ResourceTag/environment", scope.environment.name),
            ],
        ),
    ]


def actions_of(statements: Sequence[Statement]) -> list[str]:
    return [action for item in statements for action in (item.actions or [])]
