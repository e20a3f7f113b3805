"""The IAM documents as data: trust, what each role may write, the boundary, and a policy linter.

Every ``aws_iam_policy_document`` and KMS key policy of every synthesized stack is rendered to IAM JSON
(``iam_documents.py``) and checked: the roles' trust conditions, that the plan role writes nothing
outside ``plans/``, that every IAM write of the deploy role is bound to the name prefix and the
boundary, that no statement allows a wildcard action on every resource, that the AWS stack's roles
carry the boundary and fit inside it, and ``parliament`` (duo-labs' IAM linter, pinned in uv.lock)
finds nothing above LOW, each LOW finding justified below.
"""

from __future__ import annotations

import fnmatch
import json
import warnings
from functools import cache
from typing import Any

import pytest
from iam_documents import ACCOUNT, PolicyDocument, actions, documents, resources
from infra_support import Synthesis

from salesflow.config import load_environment

pytestmark = pytest.mark.slow

ENVIRONMENTS = ["dev", "prod"]
PURPOSES = ("plan", "deploy", "backfill", "smoke")
ISSUER = "token.actions.githubusercontent.com"
# IAM's access levels that change something. IAM files KMS cryptographic operations under Write too;
# decrypting (what plans do with the pepper and the Confluent keys) changes nothing.
WRITE_LEVELS = {"Write", "Permissions management", "Tagging"}
NOT_A_CHANGE = {"kms:Decrypt"}
# Inline role policies share 10,240 characters per role; a managed policy holds 6,144 (whitespace aside).
INLINE_LIMIT, MANAGED_LIMIT = 10_240, 6_144

# parliament's LOW findings that stay, by (document, issue): each says why it is right.
JUSTIFIED_LOW = {
    ("*.policy", "RESOURCE_STAR"): "in a KMS key policy Resource '*' means the key itself",
}
# parliament's community auditors (opinions beyond the core checks): what they report, and why it stays.
JUSTIFIED_COMMUNITY = {
    ("deploy_permissions", "PERMISSIONS_MANAGEMENT_ACTIONS"): (
        "deploying the exporter means creating its roles and their inline policies: only roles named "
        "salesflow-<env>-*, only with the workload boundary (test above)"
    ),
    ("deploy_permissions", "PRIVILEGE_ESCALATION"): (
        "creating and updating a Lambda with a passed role is what deploying one is; the roles it can "
        "pass carry the workload boundary, which never manages identities or reads state"
    ),
    ("*.policy", "PERMISSIONS_MANAGEMENT_ACTIONS"): (
        "a key policy's first statement lets the account administer the key through IAM (AWS's default "
        "key policy); no principal outside the account is named"
    ),
}


@cache
def _linter() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # parliament still imports pkg_resources
        import parliament

    return parliament


def _documents(synthesis: Synthesis) -> list[PolicyDocument]:
    return list(documents(synthesis.stacks))


def _document(synthesis: Synthesis, stack: str, name: str) -> PolicyDocument:
    (found,) = [doc for doc in _documents(synthesis) if doc.stack == stack and doc.name == name]
    return found


def _access_level(action: str) -> set[str]:
    """Access levels of an action (wildcards expanded) from parliament's IAM definitions."""
    parliament = _linter()
    levels = set()
    for expanded in parliament.expand_action(action):
        service = next(s for s in parliament.iam_definition if s["prefix"] == expanded["service"])
        levels |= {
            privilege["access_level"]
            for privilege in service["privileges"]
            if privilege["privilege"] == expanded["action"]
        }
    return levels


def _matches(action: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in patterns)


# --- trust ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_role_trusts_this_repository_audience_sts_and_exact_subjects(
    synthesis: Synthesis, env: str
) -> None:
    repository = load_environment(env).bootstrap.github_repository
    expected = {
        "plan": [f"repo:{repository}:pull_request", f"repo:{repository}:environment:{env}-plan"],
        "deploy": f"repo:{repository}:environment:{env}",
        "backfill": f"repo:{repository}:environment:{env}",
        "smoke": f"repo:{repository}:environment:{env}",
    }
    for purpose in PURPOSES:
        (statement,) = _document(synthesis, f"{env}-bootstrap", f"{purpose}_trust").statements
        assert statement["Effect"] == "Allow"
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Principal"] == {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"}
        # Exact matches only: no StringLike, no wildcard, no subject of another environment.
        assert statement["Condition"] == {
            "StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com", f"{ISSUER}:sub": expected[purpose]}
        }
        subjects = expected[purpose] if isinstance(expected[purpose], list) else [expected[purpose]]
        assert not [subject for subject in subjects if "*" in subject or "?" in subject]
    document = synthesis.stack(f"{env}-bootstrap")
    roles = document["resource"]["aws_iam_role"]
    assert {body["name"] for body in roles.values()} == {f"salesflow-{env}-github-{p}" for p in PURPOSES}
    assert all(body["max_session_duration"] == 3600 for body in roles.values())


# --- what each role may write --------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_plan_role_writes_nothing_outside_saved_plans(synthesis: Synthesis, env: str) -> None:
    backend = load_environment(env).aws.state_backend
    plans = f"arn:aws:s3:::{backend.bucket}/{backend.key_prefix}/plans/"
    writes = []
    statements = [
        *_document(synthesis, f"{env}-bootstrap", "plan_permissions").statements,
        *_document(synthesis, f"{env}-bootstrap", "pipeline_read_document").statements,
    ]
    for statement in statements:
        if statement["Effect"] != "Allow":
            continue
        for action in actions(statement):
            if action not in NOT_A_CHANGE and _access_level(action) & WRITE_LEVELS:
                writes.append(action)
                assert all(resource.startswith(plans) for resource in resources(statement)), (
                    action,
                    statement,
                )
    assert writes == ["s3:PutObject"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_iam_write_of_the_deploy_role_is_bound_to_the_prefix_and_the_boundary(
    synthesis: Synthesis, env: str
) -> None:
    prefix_roles = f"arn:aws:iam::{ACCOUNT}:role/salesflow-{env}-*"
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/salesflow-{env}-workload-boundary"
    parliament = _linter()
    iam = next(s for s in parliament.iam_definition if s["prefix"] == "iam")
    boundable = {
        f"iam:{p['privilege']}".lower()
        for p in iam["privileges"]
        if any("iam:PermissionsBoundary" in rt["condition_keys"] for rt in p["resource_types"])
    }
    statements = _document(synthesis, f"{env}-bootstrap", "deploy_permissions").statements
    iam_writes = []
    for statement in statements:
        if statement["Effect"] != "Allow":
            continue
        for action in actions(statement):
            if not action.startswith("iam:") or not _access_level(action) & WRITE_LEVELS:
                continue
            iam_writes.append(action)
            assert resources(statement) == [prefix_roles], (action, statement)
            condition = statement.get("Condition", {})
            if action.lower() in boundable:
                assert condition == {"ArnEquals": {"iam:PermissionsBoundary": boundary}}, action
            if action == "iam:PassRole":
                assert condition == {
                    "StringEquals": {
                        "iam:PassedToService": ["lambda.amazonaws.com", "scheduler.amazonaws.com"]
                    }
                }
    assert "iam:CreateRole" in iam_writes and "iam:PutRolePolicy" in iam_writes
    assert not [
        a
        for a in iam_writes
        if a.lower() in {"iam:createpolicy", "iam:createpolicyversion", "iam:createuser"}
    ]
    denied = {
        statement["Sid"]: (actions(statement), resources(statement))
        for statement in statements
        if statement["Effect"] == "Deny"
    }
    # The bootstrap's roles, its managed policies (the boundary among them) and the OIDC provider.
    assert denied["DenyBootstrapIdentities"] == (
        ["iam:*"],
        [
            f"arn:aws:iam::{ACCOUNT}:role/salesflow-{env}-github-*",
            f"arn:aws:iam::{ACCOUNT}:policy/salesflow-{env}-*",
            f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}",
        ],
    )
    assert fnmatch.fnmatchcase(boundary, denied["DenyBootstrapIdentities"][1][1])
    assert denied["DenyRemovingBoundaries"] == (["iam:DeleteRolePermissionsBoundary"], [prefix_roles])
    environment = load_environment(env)
    state = f"arn:aws:s3:::{environment.aws.state_backend.bucket}"
    assert state in denied["DenyBootstrapBucketSettings"][1]
    assert f"arn:aws:s3:::{environment.aws.artifact_bucket}" in denied["DenyBootstrapBucketSettings"][1]
    assert denied["DenyBootstrapState"] == (["s3:*"], [f"{state}/{environment.names.state_key}*"])


def test_no_statement_allows_a_wildcard_action_on_every_resource(synthesis: Synthesis) -> None:
    checked = 0
    for doc in _documents(synthesis):
        key_policy = doc.name.endswith(".policy")
        for statement in doc.statements:
            checked += 1
            if statement["Effect"] != "Allow" or key_policy:
                continue  # a key policy's "*" is the key itself; denials cannot widen anything
            assert "*" not in actions(statement), (doc.stack, doc.name, statement)
            if "*" in resources(statement):
                assert not [a for a in actions(statement) if a.endswith(":*") or a.endswith("*")], (
                    doc.stack,
                    doc.name,
                    statement,
                )
    assert checked > 150


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_workload_roles_carry_the_boundary_and_fit_inside_it(synthesis: Synthesis, env: str) -> None:
    document = synthesis.stack(f"{env}-aws")
    account = "${data.aws_caller_identity.account.account_id}"
    boundary_arn = f"arn:aws:iam::{account}:policy/salesflow-{env}-workload-boundary"
    roles = document["resource"]["aws_iam_role"]
    assert roles and all(body["permissions_boundary"] == boundary_arn for body in roles.values())
    boundary = _document(synthesis, f"{env}-bootstrap", "workload_boundary_document").statements

    def covered(action: str, resource: str, effect: str) -> bool:
        return any(
            _matches(action, actions(s)) and any(fnmatch.fnmatchcase(resource, r) for r in resources(s))
            for s in boundary
            if s["Effect"] == effect
        )

    # Every inline policy of every role of the stack (a new workload's role is checked without a change here).
    inline = [
        body["policy"].removeprefix("${data.aws_iam_policy_document.").removesuffix(".json}")
        for body in document["resource"]["aws_iam_role_policy"].values()
    ]
    assert {"exporter_permissions", "scheduler_permissions"} <= set(inline)
    granted = [
        (action, resource)
        for name in inline
        for statement in _document(synthesis, f"{env}-aws", name).statements
        for action in actions(statement)
        for resource in resources(statement)
    ]
    outside = [(a, r) for a, r in granted if not covered(a, r, "Allow") or covered(a, r, "Deny")]
    assert len(granted) >= 10 and outside == []
    assert "aws_iam_role_policy_attachment" not in document["resource"], "managed policies: check them too"
    denied = [a for s in boundary if s["Effect"] == "Deny" for a in actions(s)]
    # The boundary itself never lets a workload manage identities or read state.
    assert _matches("iam:CreateRole", denied) and _matches("sts:AssumeRole", denied)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_bootstrap_state_and_secrets_are_closed_to_every_pipeline_role(
    synthesis: Synthesis, env: str
) -> None:
    environment = load_environment(env)
    state = f"arn:aws:s3:::{environment.aws.state_backend.bucket}/{environment.names.state_key}*"
    policy = _document(synthesis, f"{env}-bootstrap", "state_bucket_policy_document")
    (closed,) = [s for s in policy.statements if s.get("Sid") == "PipelineRolesNeverReadTheBootstrapState"]
    assert closed["Effect"] == "Deny" and closed["Action"] == "s3:*" and closed["Resource"] == state
    assert sorted(closed["Principal"]["AWS"]) == sorted(
        f"arn:aws:iam::{ACCOUNT}:role/salesflow-{env}-github-{p}" for p in PURPOSES
    )
    for purpose in ("plan", "deploy"):
        denials = {
            s["Sid"]
            for s in _document(synthesis, f"{env}-bootstrap", f"{purpose}_permissions").statements
            if s["Effect"] == "Deny"
        }
        assert {"DenyBootstrapState", "DenyBootstrapSecretReads"} <= denials


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_policies_fit_iam_size_limits(synthesis: Synthesis, env: str) -> None:
    def size(doc: PolicyDocument) -> int:
        return len(json.dumps(doc.document, separators=(",", ":")))

    for purpose in PURPOSES:
        assert size(_document(synthesis, f"{env}-bootstrap", f"{purpose}_permissions")) <= INLINE_LIMIT
    for managed in ("workload_boundary_document", "pipeline_read_document"):
        assert size(_document(synthesis, f"{env}-bootstrap", managed)) <= MANAGED_LIMIT


# --- the linter ----------------------------------------------------------------------------------------


def _lint(doc: PolicyDocument, community: bool) -> list[Any]:
    return list(_linter().analyze_policy_string(doc.text(), include_community_auditors=community).findings)


def _justification(
    table: dict[tuple[str, str], str], doc: PolicyDocument, issue: str
) -> tuple[str, str] | None:
    return next((key for key in table if fnmatch.fnmatchcase(doc.name, key[0]) and key[1] == issue), None)


def test_parliament_finds_nothing_above_low_and_every_low_finding_is_justified(
    synthesis: Synthesis, capsys: pytest.CaptureFixture
) -> None:
    """Trust policies are left to the test above: they have no Resource element by definition, which
    parliament reports as malformed, and it does not know GitHub's OIDC issuer."""
    severity = _linter().config
    unexplained, used, linted = [], set(), 0
    community_seen: set[tuple[str, str]] = set()
    for doc in _documents(synthesis):
        if doc.name.endswith("_trust"):
            continue
        linted += 1
        core = _lint(doc, community=False)
        for finding in core:
            key = _justification(JUSTIFIED_LOW, doc, finding.issue)
            if severity[finding.issue]["severity"] != "LOW" or key is None:
                unexplained.append((doc.stack, doc.name, finding.issue, str(finding.detail)[:300]))
            else:
                used.add(key)
        core_issues = {finding.issue for finding in core}
        for finding in _lint(doc, community=True):
            if finding.issue in core_issues:
                continue
            key = _justification(JUSTIFIED_COMMUNITY, doc, finding.issue)
            if key is None:
                unexplained.append((doc.stack, doc.name, finding.issue, f"community: {finding.detail}"))
            else:
                community_seen.add(key)
    with capsys.disabled():
        print(f"\nparliament: {linted} policy documents; accepted findings:")
        for (where, issue), why in {**JUSTIFIED_LOW, **JUSTIFIED_COMMUNITY}.items():
            print(f"  {where}: {issue}: {why}")
    assert unexplained == []
    assert used == set(JUSTIFIED_LOW) and community_seen == set(JUSTIFIED_COMMUNITY), "stale justification"
    assert linted >= 20


def test_the_linter_flags_a_broadened_statement(synthesis: Synthesis) -> None:
    """Proof the lint can fail: widen the plan role's plans/ write to any object of every bucket."""
    doc = _document(synthesis, "dev-bootstrap", "plan_permissions")
    widened = json.loads(doc.text())
    widened["Statement"].append({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    findings = {f.issue for f in _lint(PolicyDocument(doc.stack, doc.name, widened), community=False)}
    assert "RESOURCE_MISMATCH" in findings or "RESOURCE_STAR" in findings
