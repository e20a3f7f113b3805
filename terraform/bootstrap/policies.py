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
# Bucket settings the AWS provider reads when it refreshes a bucket and its satellites.
BUCKET_READS = (
    "s3:GetBucket*",
    "s3:GetAccelerateConfiguration",
    "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration",
    "s3:ListBucket",
)
# What the AWS provider calls to create, change and delete the AWS stack's objects (besides the reads).
BUCKET_WRITES = (
    "s3:CreateBucket",
    "s3:DeleteBucket",
    "s3:PutBucketTagging",
    "s3:PutBucketVersioning",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketOwnershipControls",  # also what DeleteBucketOwnershipControls needs
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketLogging",
)
FUNCTION_WRITES = (
    "lambda:CreateFunction",
    "lambda:DeleteFunction",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
    "lambda:PutFunctionConcurrency",
    "lambda:DeleteFunctionConcurrency",
    "lambda:PutFunctionEventInvokeConfig",
    "lambda:UpdateFunctionEventInvokeConfig",
    "lambda:DeleteFunctionEventInvokeConfig",
    "lambda:TagResource",
    "lambda:UntagResource",
)
TOPIC_WRITES = (
    "sns:CreateTopic",
    "sns:DeleteTopic",
    "sns:SetTopicAttributes",
    "sns:Subscribe",
    "sns:TagResource",
    "sns:UntagResource",
)
QUEUE_WRITES = (
    "sqs:CreateQueue",
    "sqs:DeleteQueue",
    "sqs:SetQueueAttributes",
    "sqs:TagQueue",
    "sqs:UntagQueue",
)
LOG_GROUP_WRITES = (
    "logs:CreateLogGroup",
    "logs:DeleteLogGroup",
    "logs:PutRetentionPolicy",
    "logs:DeleteRetentionPolicy",
    "logs:AssociateKmsKey",
    "logs:DisassociateKmsKey",
    "logs:TagResource",
    "logs:UntagResource",
    "logs:TagLogGroup",
    "logs:UntagLogGroup",
)
ALARM_WRITES = (
    "cloudwatch:PutMetricAlarm",
    "cloudwatch:DeleteAlarms",
    "cloudwatch:TagResource",
    "cloudwatch:UntagResource",
)
KEY_WRITES = (
    "kms:TagResource",
    "kms:UntagResource",
    "kms:EnableKeyRotation",
    "kms:PutKeyPolicy",
    "kms:UpdateKeyDescription",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:GenerateDataKey",
)
SECRET_WRITES = (
    "secretsmanager:CreateSecret",
    "secretsmanager:DeleteSecret",
    "secretsmanager:UpdateSecret",
    "secretsmanager:PutSecretValue",
    "secretsmanager:TagResource",
    "secretsmanager:UntagResource",
    # The monitor's keys carry a resource policy: only the monitor's role (and the pipeline) reads them.
    "secretsmanager:PutResourcePolicy",
    "secretsmanager:DeleteResourcePolicy",
)
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


def _artifact_context(scope: Scope) -> list:
    """KMS use through S3 for the artifact bucket (bucket keys: the context is the bucket's ARN)."""
    return [
        condition("StringEquals", "kms:ViaService", f"s3.{scope.region}.amazonaws.com"),
        condition("StringEquals", "kms:EncryptionContext:aws:s3:arn", scope.artifact_bucket),
        condition("StringEquals", "aws:ResourceTag/environment", scope.environment.name),
    ]


def read(scope: Scope) -> list[Statement]:
    """What ``terraform plan`` of the Confluent, Flink and AWS stacks reads (refresh), and nothing else."""
    buckets = [*scope.managed_buckets, scope.artifact_bucket, scope.state_bucket]
    byob = scope.environment.confluent.tableflow.byob
    via_secrets = condition("StringEquals", "kms:ViaService", f"secretsmanager.{scope.region}.amazonaws.com")
    env_tag = condition("StringEquals", "aws:ResourceTag/environment", scope.environment.name)
    return [
        statement("ReadStackState", ["s3:GetObject"], [f"{scope.state_prefix}/*.tfstate"]),
        statement("ReadArtifacts", ["s3:GetObject"], [f"{scope.artifact_bucket}/exporter/*"]),
        statement("ReadBucketSettings", list(BUCKET_READS), buckets),
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
        statement("ReadTopics", ["sns:GetTopicAttributes", "sns:ListTagsForResource"], [scope.named("sns")]),
        statement(
            "ReadQueues",
            ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags"],
            [scope.named("sqs")],
        ),
        statement(
            "ReadLogGroupTags", ["logs:ListTagsForResource", "logs:ListTagsLogGroup"], [scope.log_groups]
        ),
        statement("ReadSchedules", ["scheduler:GetSchedule"], [scope.schedules]),
        *analyst_delivery(scope, manage=False),
        statement(
            "ReadAlarms", ["cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"], [scope.alarms]
        ),
        statement("ReadDashboards", ["cloudwatch:GetDashboard"], [scope.dashboards]),
        statement(
            "ReadKeys",
            ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
            [scope.keys],
            conditions=[env_tag],
        ),
        # No resource-level permissions exist for these reads: the AWS provider finds a subscription, a
        # log group and an alias by describing or listing them.
        statement(
            "ReadUnscopedListings",
            ["sns:GetSubscriptionAttributes", "logs:DescribeLogGroups", "kms:ListAliases"],
            ["*"],
        ),
        # Plans read the Confluent keys and the pepper (the Flink stack's provider and SQL need them) and
        # refresh the exporter's signing-key secrets.
        statement(
            "ReadPipelineSecrets",
            [
                "secretsmanager:GetSecretValue",
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetResourcePolicy",
            ],
            [scope.confluent_secrets, scope.exporter_secrets, scope.pepper_secret],
        ),
        statement("DecryptPipelineSecrets", ["kms:Decrypt"], [scope.keys], conditions=[via_secrets, env_tag]),
        # The artifact bucket is SSE-KMS with the bootstrap key: reading a zip (the guard, and Lambda
        # fetching code with the deployer's rights) decrypts through S3, for that bucket only.
        statement("DecryptArtifacts", ["kms:Decrypt"], [scope.keys], conditions=_artifact_context(scope)),
        *(
            [statement("ReadTableflowBucketSettings", list(BUCKET_READS), [scope.bucket(byob.bucket)])]
            if byob is not None
            else []
        ),
    ]


def analyst_delivery(scope: Scope, manage: bool) -> list[Statement]:
    """The analysts' download links (CloudFront) and e-mail sender (SES): reads for every plan, writes for
    deploy. Split by resource type as IAM authorizes them; public keys, key groups and creating an origin
    access control have no resource-level permissions (Resource "*")."""

    def crud(kind: str, *extra: str) -> list[str]:
        verbs = ("Create", "Update", "Delete", "Get") if manage else ("Get",)
        return [f"{verb}{kind}" for verb in verbs] + list(extra)

    def actions(service: str, names: list[str]) -> list[str]:
        return [f"{service}:{name}" for name in names]

    tags = ["TagResource", "UntagResource", "ListTagsForResource"] if manage else ["ListTagsForResource"]
    identity, sets = scope.email_identity, scope.configuration_sets
    identity_writes = ["DeleteEmailIdentity", "PutEmailIdentityDkimSigningAttributes"] if manage else []
    set_writes = [
        f"{verb}ConfigurationSet{what}"
        for verb, what in (
            ("Delete", ""), ("Create", "EventDestination"), ("Update", "EventDestination"),
            ("Delete", "EventDestination"), ("Put", "DeliveryOptions"), ("Put", "ReputationOptions"),
            ("Put", "SendingOptions"), ("Put", "SuppressionOptions"),
        )
    ] if manage else []  # fmt: skip
    verb = "Manage" if manage else "Read"
    return [
        statement(
            f"{verb}DownloadDistributions",
            actions("cloudfront", crud("Distribution", *tags)),
            [scope.cloudfront("distribution")],
        ),
        statement(
            f"{verb}DownloadOriginAccess",
            actions(
                "cloudfront", [name for name in crud("OriginAccessControl") if not name.startswith("Create")]
            ),
            [scope.cloudfront("origin-access-control")],
        ),
        statement(
            f"{verb}DownloadHeaders",
            actions("cloudfront", crud("ResponseHeadersPolicy")),
            [scope.cloudfront("response-headers-policy")],
        ),
        statement(
            f"{verb}DownloadSigningKeys",
            actions(
                "cloudfront",
                crud("PublicKey") + crud("KeyGroup") + (["CreateOriginAccessControl"] if manage else []),
            ),
            ["*"],
        ),
        # Creating an SES identity or configuration set is authorized on "*": bound, like CreateKey, to the
        # tags the AWS provider's default_tags send.
        *(
            [
                statement(
                    "CreateEmailSender",
                    ["ses:CreateEmailIdentity", "ses:CreateConfigurationSet"],
                    ["*"],
                    conditions=[
                        condition("StringEquals", "aws:RequestTag/environment", scope.environment.name),
                        condition(
                            "StringNotEquals", "aws:RequestTag/stack", f"{scope.environment.name}-bootstrap"
                        ),
                    ],
                )
            ]
            if manage
            else []
        ),
        *(
            [
                statement(
                    f"{verb}EmailIdentity",
                    actions(
                        "ses",
                        ["GetEmailIdentity", *identity_writes, *tags],
                    ),
                    identity,
                )
            ]
            if identity
            else []
        ),
        statement(
            f"{verb}EmailConfiguration",
            actions(
                "ses",
                ["GetConfigurationSet", "GetConfigurationSetEventDestinations", *set_writes, *tags]
                + (["PutEmailIdentityConfigurationSetAttributes"] if manage else []),
            ),
            [*identity, sets] if manage else [sets],
        ),
    ]


def plan(scope: Scope) -> list[Statement]:
    """Beside ``read`` (a managed policy it shares with deploy): the one write, saved plans under
    ``<key prefix>/plans/`` (deploy.yml's prod-plan job)."""
    return [
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
    """Beside ``read``: manage what the stacks declare; IAM only under the prefix and with the workload
    boundary."""
    state = scope.state_prefix
    environment = scope.environment.name
    return [
        statement(
            "WriteStackStateAndLocks",
            ["s3:PutObject", "s3:DeleteObject"],
            [f"{state}/*.tfstate", f"{state}/*.tflock"],
        ),
        statement("ReadSavedPlans", ["s3:GetObject"], [f"{state}/plans/*"]),
        # Content-addressed zips: written once per content (make package), never deleted.
        statement("PublishArtifacts", ["s3:PutObject"], [f"{scope.artifact_bucket}/exporter/*"]),
        statement(
            "EncryptArtifacts", ["kms:GenerateDataKey"], [scope.keys], conditions=_artifact_context(scope)
        ),
        statement("ManageExportBuckets", list(BUCKET_WRITES), scope.managed_buckets),
        # It manages these buckets' policies and lifecycle rules, so it could grant itself their objects
        # anyway: said outright rather than left implicit.
        statement(
            "ObjectsOfTheBucketsItManages",
            ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            [f"{bucket}/*" for bucket in scope.managed_buckets],
        ),
        statement("ManageFunctions", list(FUNCTION_WRITES), [scope.functions]),
        statement("ManageTopics", list(TOPIC_WRITES), [scope.named("sns")]),
        # Subscriptions have no resource-level permissions for these two calls.
        statement("ManageSubscriptions", ["sns:Unsubscribe", "sns:SetSubscriptionAttributes"], ["*"]),
        statement("ManageQueues", list(QUEUE_WRITES), [scope.named("sqs")]),
        statement("ManageLogGroups", list(LOG_GROUP_WRITES), [scope.log_groups, f"{scope.log_groups}:*"]),
        statement(
            "ManageSchedules",
            ["scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule"],
            [scope.schedules],
        ),
        statement("ManageAlarms", list(ALARM_WRITES), [scope.alarms]),
        statement(
            "ManageDashboards", ["cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards"], [scope.dashboards]
        ),
        # CreateKey has no resource: it is bound to the tags the AWS provider's default_tags send.
        statement(
            "CreateEnvironmentKeys",
            ["kms:CreateKey"],
            ["*"],
            conditions=[
                condition("StringEquals", "aws:RequestTag/environment", environment),
                condition("StringNotEquals", "aws:RequestTag/stack", f"{environment}-bootstrap"),
            ],
        ),
        statement("ManageEnvironmentKeys", list(KEY_WRITES), [scope.keys], conditions=_env_tag(scope)),
        # An alias action is authorized on the alias and on its key: both resources, in one statement.
        # Naming a key grants no use of it; the bootstrap's alias is denied below.
        statement(
            "ManageKeyAliases",
            ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
            [scope.aliases, scope.keys],
        ),
        statement(
            "ManagePipelineSecrets", list(SECRET_WRITES), [scope.confluent_secrets, scope.exporter_secrets]
        ),
        statement(
            "CreateRolesWithTheBoundary",
            list(BOUNDED_ROLE_WRITES),
            [scope.workload_roles],
            conditions=[condition("ArnEquals", "iam:PermissionsBoundary", scope.boundary)],
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
            [scope.bootstrap_roles, scope.bootstrap_policies, scope.oidc_provider],
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
        statement("WorkloadNotifies", ["sns:Publish"], [scope.named("sns")]),
        statement("WorkloadQueues", ["sqs:SendMessage"], [scope.named("sqs")]),
        statement("WorkloadLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{scope.log_groups}:*"]),
        statement("WorkloadInvokes", ["lambda:InvokeFunction"], [scope.functions]),
        statement(
            "WorkloadReadsPipelineSecrets",
            ["secretsmanager:GetSecretValue"],
            [scope.confluent_secrets, scope.exporter_secrets],
        ),
        statement(
            "WorkloadSendsEmail", ["ses:SendRawEmail"], [*scope.email_identity, scope.configuration_sets]
        ),
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
        # The monitor compares with its own earlier datapoints; GetMetricData takes no resource but "*".
        statement("WorkloadReadsMetrics", ["cloudwatch:GetMetricData"], ["*"]),
        statement("WorkloadNeverManagesIdentities", ["iam:*", "sts:AssumeRole"], ["*"], effect="Deny"),
        statement(
            "WorkloadNeverReadsState",
            ["s3:*"],
            [scope.state_bucket, f"{scope.state_bucket}/*"],
            effect="Deny",
        ),
        # Own-bucket Tableflow (byob): the exporter reads the Iceberg files itself.
        *(
            [statement("WorkloadReadsTableflowBucket", ["s3:GetObject", "s3:ListBucket"], readable)]
            if readable
            else []
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
