"""Properties of the whole synthesized output: deterministic, portable, secret-free, config-driven."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from infra_support import MARKER_CREDENTIALS, REPO_ROOT, Synthesis, run_synth

from salesflow.config import load_environment
from salesflow.sql.render import LOCAL_PEPPER_DEFAULT

pytestmark = pytest.mark.slow

STACKS = ["bootstrap", "confluent", "flink", "aws"]


def _files(outdir: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(outdir)): path.read_bytes()
        for path in sorted(outdir.rglob("*"))
        if path.is_file()
    }


def test_two_synths_are_byte_identical(synthesis: Synthesis, tmp_path: Path) -> None:
    again = run_synth(tmp_path / "cdktf.out")
    first, second = _files(synthesis.outdir), _files(again.outdir)
    assert sorted(first) == sorted(second)
    assert sorted(first) == ["manifest.json"] + [
        f"stacks/{env}-{part}/cdk.tf.json" for env in ("dev", "prod") for part in sorted(STACKS)
    ]
    different = [name for name in first if first[name] != second[name]]
    assert different == []


def test_no_absolute_local_path_in_any_output_file(synthesis: Synthesis) -> None:
    for name, content in _files(synthesis.outdir).items():
        text = content.decode("utf-8")
        for path in (str(REPO_ROOT), str(synthesis.outdir), str(Path.home())):
            assert path not in text, f"{name} contains the local path {path}"
        assert "terraform.tfstate" not in text, f"{name} would keep local state"


def test_no_secret_or_pepper_in_any_output_file(synthesis: Synthesis) -> None:
    for name, content in _files(synthesis.outdir).items():
        text = content.decode("utf-8")
        for variable, value in MARKER_CREDENTIALS.items():
            assert value not in text, f"{name} contains the value of {variable}"
        assert LOCAL_PEPPER_DEFAULT not in text, f"{name} contains the local pepper"


def _walk(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index))
    else:
        yield path, value


def test_every_sensitive_value_is_a_reference_never_a_literal(synthesis: Synthesis) -> None:
    """Secret-bearing arguments only ever name where Terraform reads the secret at plan time."""
    sensitive = re.compile(
        r"(^|_)(secret|secret_string|secret_string_wo|plaintext_value|api_key|api_secret)$"
    )
    seen = 0
    for name, document in synthesis.stacks.items():
        for path, value in _walk(
            {key: document.get(key) for key in ("resource", "data", "provider", "output")}
        ):
            if isinstance(path[-1], str) and sensitive.search(path[-1]):
                seen += 1
                assert isinstance(value, str) and value.startswith("${") and value.endswith("}"), (
                    name,
                    path,
                    value,
                )
        # The pepper reaches SQL only as the Terraform expression reading the secret (the bootstrap stack
        # declares the secret itself; tests/terraform/test_bootstrap_stack.py checks its value never shows).
        if name.endswith("-bootstrap"):
            continue
        for path, value in _walk(document.get("resource", {})):
            if isinstance(value, str) and "pii_pepper" in value:
                assert path[0] == "confluent_flink_statement" and path[-1] == "statement", (name, path)
                assert "${replace(data.aws_secretsmanager_secret_version.pii_pepper.secret_string" in value
    assert seen >= 20


def test_every_stack_keeps_encrypted_locked_state_in_s3(synthesis: Synthesis) -> None:
    keys = set()
    for env in ("dev", "prod"):
        state = load_environment(env).aws.state_backend
        for part in STACKS:
            terraform = synthesis.stack(f"{env}-{part}")["terraform"]
            assert terraform["backend"] == {
                "s3": {
                    "bucket": state.bucket,
                    "key": f"{state.key_prefix}/{part}.tfstate",
                    "region": state.region,
                    "encrypt": True,
                    "use_lockfile": True,
                }
            }
            keys.add((state.bucket, terraform["backend"]["s3"]["key"]))
            for remote in (
                synthesis.stack(f"{env}-{part}").get("data", {}).get("terraform_remote_state", {}).values()
            ):
                assert remote == {
                    "backend": "s3",
                    "config": {
                        "bucket": state.bucket,
                        "key": f"{state.key_prefix}/confluent.tfstate",
                        "region": state.region,
                    },
                }
    assert len(keys) == 8


def test_stack_order_is_recorded_in_the_manifest(synthesis: Synthesis) -> None:
    manifest = json.loads((synthesis.outdir / "manifest.json").read_text(encoding="utf-8"))
    for env in ("dev", "prod"):
        stacks = manifest["stacks"]
        assert stacks[f"{env}-confluent"]["dependencies"] == []
        assert stacks[f"{env}-flink"]["dependencies"] == [f"{env}-confluent"]
        assert stacks[f"{env}-aws"]["dependencies"] == [f"{env}-confluent"]
        assert stacks[f"{env}-aws"]["workingDirectory"] == f"stacks/{env}-aws"
        # Nothing depends on the bootstrap stack and it depends on nothing: no pipeline applies it.
        assert stacks[f"{env}-bootstrap"]["dependencies"] == []
        assert not [name for name, stack in stacks.items() if f"{env}-bootstrap" in stack["dependencies"]]


PROTECTED = {
    ("confluent", "confluent_kafka_cluster"),
    ("confluent", "confluent_kafka_topic"),
    ("confluent", "confluent_schema"),
    ("confluent", "confluent_subject_config"),
    ("flink", "confluent_flink_statement"),
    ("flink", "confluent_tableflow_topic"),
}
# Guarded in every environment: what a revert or every other stack needs, and what holds secrets.
ALWAYS_KEPT = {
    ("bootstrap", "aws_s3_bucket", "artifact_bucket"),
    ("bootstrap", "aws_s3_bucket", "state_bucket"),
    ("bootstrap", "aws_kms_key", "bootstrap_key"),
    ("bootstrap", "aws_iam_openid_connect_provider", "github_oidc"),
    ("bootstrap", "aws_secretsmanager_secret", "pii_pepper"),
    ("bootstrap", "confluent_environment", "environment"),
}


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_prevent_destroy_follows_the_environment_file(synthesis: Synthesis, env: str) -> None:
    guarded = load_environment(env).prevent_destroy
    assert guarded == (env == "prod")
    for part in STACKS:
        for type_name, instances in synthesis.stack(f"{env}-{part}")["resource"].items():
            for name, body in instances.items():
                has_guard = body.get("lifecycle", {}).get("prevent_destroy") is True
                if (part, type_name) in PROTECTED:
                    assert has_guard == guarded, (env, type_name, name)
                elif (part, type_name, name) in ALWAYS_KEPT:
                    assert has_guard, (env, type_name, name)
                else:
                    assert not has_guard, (env, type_name, name)


# --- dev and prod differ only where their environment files do ------------------------------------------


def _config_differences() -> tuple[list[tuple[str, str]], set[tuple[Any, Any]]]:
    """(dev, prod) pairs of every differing scalar config value: as text and as exact values. ``usage``
    feeds the cost estimate only, never the synth, so its values explain nothing here."""
    dev = dict(_walk(load_environment("dev").model_dump(by_alias=True, exclude={"usage"})))
    prod = dict(_walk(load_environment("prod").model_dump(by_alias=True, exclude={"usage"})))
    texts: set[tuple[str, str]] = set()
    exact: set[tuple[Any, Any]] = set()
    for path in dev.keys() & prod.keys():
        a, b = dev[path], prod[path]
        if a == b or a is None or b is None:
            continue
        exact.add((a, b))
        if not isinstance(a, bool):
            texts.add((str(a), str(b)))
    return sorted(texts, key=lambda pair: -len(pair[0])), exact


def _is_word(value: str) -> bool:
    """Enum-like values (``managed``, ``standard``, ``SINGLE_ZONE``) only ever replace a whole value."""
    return re.fullmatch(r"[A-Za-z_]+", value) is not None


def _translate(text: str, pairs: list[tuple[str, str]]) -> str:
    """Replace dev config values by prod's: whole values, or tokens inside text (longest first, once)."""
    mapping = dict(pairs)
    if text in mapping:
        return mapping[text]
    inner = [(dev, prod) for dev, prod in pairs if not _is_word(dev) or dev == "dev"]
    pattern = re.compile("|".join(rf"(?<![A-Za-z0-9_]){re.escape(dev)}(?![A-Za-z0-9_])" for dev, _ in inner))
    return pattern.sub(lambda match: mapping[match.group(0)], text)


# Differences the environment files explain structurally (not as a changed value); each names its cause.
def _explained(path: tuple[Any, ...], dev_value: Any, prod_value: Any) -> str | None:
    dev, prod = load_environment("dev"), load_environment("prod")
    keys = [part for part in path if isinstance(part, str)]
    if "lifecycle" in keys and dev.prevent_destroy != prod.prevent_destroy:
        return "prevent_destroy"
    if dev.confluent.tableflow.storage != prod.confluent.tableflow.storage:
        if {
            "managed_storage",
            "byob_aws",
            "manager_provider_integration_assigner",
            "ReadTableflowBucket",
        } & set(keys):
            return "tableflow.storage"
        if any(
            isinstance(value, str) and "provider_integration" in value for value in (dev_value, prod_value)
        ):
            return "tableflow.storage"
        if "CATALOG_VENDED_CREDENTIALS" in keys:
            return "tableflow.storage"
        if {"exporter_permissions", "pipeline_read_document", "workload_boundary_document"} & set(keys) and (
            "statement" in keys
        ):
            return "tableflow.storage (one more IAM statement: the Tableflow bucket)"
    if dev.bootstrap.reviewers != prod.bootstrap.reviewers and {
        "reviewers",
        "prevent_self_review",
        "github_user",
        "github_team",
    } & set(keys):
        return "bootstrap.reviewers"
    if dev.monitor.no_intake_minutes is None and prod.monitor.no_intake_minutes is not None:
        if {"monitor_no_intake", "NO_INTAKE_MINUTES"} & set(keys):
            return "monitor.no_intake_minutes (dev watches no intake: no alarm, 'off')"
        bodies = [value for value in (dev_value, prod_value) if isinstance(value, str)]
        no_intake = "monitor_no_intake"
        if (
            "dashboard_body" in keys
            and len(bodies) == 2
            and no_intake not in bodies[0]
            and no_intake in bodies[1]
        ):
            return "monitor.no_intake_minutes (the dashboard lists the NoIntake alarm)"
    if dev.exporter.lambda_.log_retention_days < 365 <= prod.exporter.lambda_.log_retention_days:
        in_comment = "//" in keys and ("checkov" in keys or "overrides" in keys)
        if in_comment and ("exporter_logs" in keys or "aws_cloudwatch_log_group" in keys):
            return "exporter.lambda.log_retention_days (a documented checkov skip below one year)"
    return None


def _compare(dev: Any, prod: Any, path: tuple[Any, ...], texts, exact, unexplained: list) -> None:
    if isinstance(dev, dict) and isinstance(prod, dict):
        translated = {(_translate(key, texts) if isinstance(key, str) else key): key for key in dev}
        for key in translated.keys() | prod.keys():
            if key not in prod or key not in translated:
                value = dev.get(translated.get(key)) if key in translated else prod.get(key)
                if not _explained((*path, key), value, value):
                    unexplained.append(((*path, key), "only in " + ("dev" if key in translated else "prod")))
                continue
            _compare(dev[translated[key]], prod[key], (*path, key), texts, exact, unexplained)
    elif isinstance(dev, list) and isinstance(prod, list):
        for index in range(max(len(dev), len(prod))):
            if index >= len(dev) or index >= len(prod):
                value = prod[index] if index >= len(dev) else dev[index]
                if not _explained((*path, index), value, value):
                    unexplained.append(((*path, index), f"extra item {value!r}"))
                continue
            _compare(dev[index], prod[index], (*path, index), texts, exact, unexplained)
    elif dev != prod:
        if isinstance(dev, str) and isinstance(prod, str) and _translate(dev, texts) == prod:
            return
        if (dev, prod) in exact or _explained(path, dev, prod):
            return
        unexplained.append((path, f"{dev!r} -> {prod!r}"))


def test_dev_and_prod_differ_only_where_their_environment_files_do(synthesis: Synthesis) -> None:
    texts, exact = _config_differences()
    assert ("dev", "prod") in texts and (6, 12) in exact  # the comparison does see config differences
    unexplained: list = []
    for part in STACKS:
        _compare(
            synthesis.stack(f"dev-{part}"),
            synthesis.stack(f"prod-{part}"),
            (part,),
            texts,
            exact,
            unexplained,
        )
    assert unexplained == []


def test_the_comparison_catches_a_difference_no_config_explains(synthesis: Synthesis) -> None:
    texts, exact = _config_differences()
    tampered = json.loads(json.dumps(synthesis.stack("prod-aws")))
    tampered["resource"]["aws_lambda_function"]["exporter"]["reserved_concurrent_executions"] = 5
    tampered["resource"]["aws_sqs_queue"]["exporter_failures"]["visibility_timeout_seconds"] = 60
    unexplained: list = []
    _compare(synthesis.stack("dev-aws"), tampered, ("aws",), texts, exact, unexplained)
    assert sorted(path[-1] for path, _ in unexplained) == [
        "reserved_concurrent_executions",
        "visibility_timeout_seconds",
    ]
