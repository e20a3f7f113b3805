"""Stack discovery from cdktf's output, and publishing the exporter artifact to a real S3 endpoint.

The synthesized layout (manifest.json with stacks/<name>/cdk.tf.json, dependencies, an S3 backend
block) is the one cdktf 0.21 writes; the tests build it in a temporary directory.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from salesflow.cli import main
from salesflow.config import load_environment
from salesflow.delivery.artifacts import ArtifactError, built_keys, publish, read_artifact
from salesflow.delivery.stacks import StackError, bootstrap_stack, stacks_for_environment


def _synth(root: Path, stacks: dict[str, dict]) -> Path:
    """Write a cdktf-shaped output dir: {name: {"bucket", "key", "deps"}} (bucket None: no backend)."""
    manifest = {"stacks": {}, "version": "0.21.0"}
    for name, spec in stacks.items():
        directory = root / "stacks" / name
        directory.mkdir(parents=True)
        terraform = {}
        if spec.get("bucket"):
            terraform["backend"] = {
                "s3": {"bucket": spec["bucket"], "key": spec["key"], "region": "eu-central-1"}
            }
        (directory / "cdk.tf.json").write_text(json.dumps({"terraform": terraform, "resource": {}}))
        manifest["stacks"][name] = {
            "name": name,
            "constructPath": name,
            "dependencies": spec.get("deps", []),
            "synthesizedStackPath": f"stacks/{name}/cdk.tf.json",
            "workingDirectory": f"stacks/{name}",
            "annotations": [],
        }
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


def _both_envs(tmp_path: Path, **overrides: dict) -> Path:
    stacks = {
        "salesflow-dev-aws": {
            "bucket": "salesflow-tfstate-dev",
            "key": "salesflow/dev/aws.tfstate",
            "deps": ["salesflow-dev-confluent"],
        },
        "salesflow-dev-confluent": {
            "bucket": "salesflow-tfstate-dev",
            "key": "salesflow/dev/confluent.tfstate",
        },
        "salesflow-prod-aws": {
            "bucket": "salesflow-tfstate-prod",
            "key": "salesflow/prod/aws.tfstate",
            "deps": ["salesflow-prod-confluent"],
        },
        "salesflow-prod-confluent": {
            "bucket": "salesflow-tfstate-prod",
            "key": "salesflow/prod/confluent.tfstate",
        },
    }
    stacks.update(overrides)
    return _synth(tmp_path / "cdktf.out", stacks)


def test_an_environment_gets_its_own_stacks_dependencies_first(tmp_path: Path) -> None:
    synth = _both_envs(tmp_path)
    dev = stacks_for_environment(load_environment("dev"), synth)
    assert [stack.name for stack in dev] == ["salesflow-dev-confluent", "salesflow-dev-aws"]
    assert dev[0].directory == synth / "stacks" / "salesflow-dev-confluent"
    prod = stacks_for_environment(load_environment("prod"), synth)
    assert [stack.name for stack in prod] == ["salesflow-prod-confluent", "salesflow-prod-aws"]


def test_the_bootstrap_stack_is_never_among_the_pipelines_stacks(tmp_path: Path) -> None:
    """Its state key is <prefix>/bootstrap.tfstate: an administrator applies it, no pipeline does."""
    bootstrap = {"bucket": "salesflow-tfstate-dev", "key": "salesflow/dev/bootstrap.tfstate"}
    synth = _both_envs(tmp_path, **{"salesflow-dev-bootstrap": bootstrap})
    dev = load_environment("dev")
    assert [stack.name for stack in stacks_for_environment(dev, synth)] == [
        "salesflow-dev-confluent",
        "salesflow-dev-aws",
    ]
    assert bootstrap_stack(dev, synth).name == "salesflow-dev-bootstrap"
    with pytest.raises(StackError, match="no bootstrap stack of prod"):
        bootstrap_stack(load_environment("prod"), synth)


def test_stacks_command_prints_name_and_directory(tmp_path: Path) -> None:
    synth = _both_envs(tmp_path)
    result = CliRunner().invoke(main, ["stacks", "--env", "dev", "--synth-dir", str(synth)])
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert [name for name, _ in lines] == ["salesflow-dev-confluent", "salesflow-dev-aws"]
    assert Path(lines[0][1]).resolve() == (synth / "stacks" / "salesflow-dev-confluent").resolve()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"salesflow-dev-aws": {"bucket": None}}, "needs the S3 backend"),
        (
            {
                "salesflow-dev-aws": {
                    "bucket": "salesflow-tfstate-dev",
                    "key": "salesflow/dev/confluent.tfstate",
                }
            },
            "share the state key",
        ),
        (
            {
                "salesflow-dev-aws": {
                    "bucket": "salesflow-tfstate-dev",
                    "key": "salesflow/dev/aws.tfstate",
                    "deps": ["salesflow-prod-confluent"],
                }
            },
            "belong to another environment",
        ),
        (
            {
                "salesflow-dev-confluent": {
                    "bucket": "salesflow-tfstate-dev",
                    "key": "salesflow/dev/confluent.tfstate",
                    "deps": ["salesflow-dev-aws"],
                }
            },
            "cycle",
        ),
    ],
)
def test_inconsistent_synth_output_is_refused(tmp_path: Path, override: dict, message: str) -> None:
    synth = _both_envs(tmp_path, **override)
    with pytest.raises(StackError, match=message):
        stacks_for_environment(load_environment("dev"), synth)


def test_missing_synth_output_says_what_to_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["stacks", "--env", "dev", "--synth-dir", str(tmp_path / "nothing")])
    assert result.exit_code == 1
    assert "run `make synth` first" in result.output
    only_prod = _synth(
        tmp_path / "prod-only", {"p": {"bucket": "salesflow-tfstate-prod", "key": "salesflow/prod/p.tfstate"}}
    )
    with pytest.raises(
        StackError, match="no stack keeps its state in s3://salesflow-tfstate-dev/salesflow/dev/"
    ):
        stacks_for_environment(load_environment("dev"), only_prod)


# ------------------------------------------------------------------------------------------ artifacts


def _build(
    tmp_path: Path,
    content: bytes = b"PK\x03\x04 exporter zip bytes",
    arch: str = "arm64",
    deployable: str = "exporter",
) -> Path:
    build = tmp_path / "build" / deployable
    build.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(content).hexdigest()
    (build / f"{deployable}-{arch}-{digest[:12]}.zip").write_bytes(content)
    (build / f"artifact-{arch}.json").write_text(
        json.dumps(
            {
                "file": f"{deployable}-{arch}-{digest[:12]}.zip",
                "sha256": digest,
                "s3_key": f"{deployable}/{digest}.zip",
                "architecture": arch,
                "python": "3.12",
                "unzipped_bytes": 3 * len(content),
                "zipped_bytes": len(content),
            }
        )
    )
    return build


def _bucket(s3, name: str = "salesflow-artifacts-dev") -> str:
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    return name


def test_publish_uploads_once_with_a_verified_checksum(tmp_path: Path, s3) -> None:
    bucket = _bucket(s3)
    artifact = read_artifact(_build(tmp_path) / "artifact-arm64.json")
    first = publish(artifact, bucket, s3)
    assert first.uploaded
    head = s3.head_object(Bucket=bucket, Key=artifact.s3_key, ChecksumMode="ENABLED")
    assert base64.b64decode(head["ChecksumSHA256"]).hex() == artifact.sha256
    assert s3.get_object(Bucket=bucket, Key=artifact.s3_key)["Body"].read() == artifact.file.read_bytes()
    again = publish(artifact, bucket, s3)
    assert not again.uploaded


def test_publish_never_overwrites_other_bytes_under_a_content_key(tmp_path: Path, s3) -> None:
    bucket = _bucket(s3)
    artifact = read_artifact(_build(tmp_path) / "artifact-arm64.json")
    s3.put_object(Bucket=bucket, Key=artifact.s3_key, Body=b"something else")
    with pytest.raises(ArtifactError, match="never overwritten"):
        publish(artifact, bucket, s3)
    assert s3.get_object(Bucket=bucket, Key=artifact.s3_key)["Body"].read() == b"something else"


def test_publish_refuses_a_zip_that_changed_after_packaging(tmp_path: Path, s3) -> None:
    bucket = _bucket(s3)
    artifact = read_artifact(_build(tmp_path) / "artifact-arm64.json")
    artifact.file.write_bytes(b"tampered")
    with pytest.raises(ArtifactError, match="changed after `make package`"):
        publish(artifact, bucket, s3)
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_manifest_must_be_content_addressed(tmp_path: Path) -> None:
    build = _build(tmp_path)
    manifest = json.loads((build / "artifact-arm64.json").read_text())
    manifest["s3_key"] = "exporter/latest.zip"
    (build / "artifact-arm64.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="does not carry the sha256"):
        read_artifact(build / "artifact-arm64.json")
    with pytest.raises(ArtifactError, match="run `make package` first"):
        read_artifact(tmp_path / "nope.json")


def test_built_keys_lists_every_architecture(tmp_path: Path) -> None:
    _build(tmp_path, b"arm zip", "arm64")
    build = _build(tmp_path, b"x86 zip", "x86_64")
    keys = built_keys(build)
    assert keys == sorted(
        f"exporter/{hashlib.sha256(content).hexdigest()}.zip" for content in (b"arm zip", b"x86 zip")
    )


def test_publish_artifact_publishes_both_lambdas_or_nothing(tmp_path: Path, s3) -> None:
    import os

    _bucket(s3)
    build = _build(tmp_path).parent
    env = {key: os.environ[key] for key in os.environ if key.startswith("AWS_")}
    command = ["publish-artifact", "--env", "dev", "--build-dir", str(build)]
    missing = CliRunner().invoke(main, command, env=env)
    assert missing.exit_code == 1 and "monitor" in missing.output and "make package" in missing.output
    assert s3.list_objects_v2(Bucket="salesflow-artifacts-dev").get("KeyCount") == 0
    _build(tmp_path, b"PK\x03\x04 monitor zip bytes", deployable="monitor")
    result = CliRunner().invoke(main, command, env=env)
    assert result.exit_code == 0, result.output
    digests = {
        name: json.loads((build / name / "artifact-arm64.json").read_text())["sha256"]
        for name in ("exporter", "monitor")
    }
    assert result.stdout.splitlines() == [
        f"s3://salesflow-artifacts-dev/{name}/{digest}.zip: uploaded" for name, digest in digests.items()
    ]
    assert built_keys(build) == sorted(f"{name}/{digest}.zip" for name, digest in digests.items())
    again = CliRunner().invoke(main, command, env=env)
    assert again.stdout.count("already present") == 2
