"""``salesflow bootstrap`` end to end: real Terraform, real S3 state (moto server), a stand-in stack.

The stand-in uses only Terraform's built-in ``terraform_data``; a ``local-exec`` provisioner creates the
state bucket in moto during the apply, as the real stack's ``aws_s3_bucket.state_bucket`` would. So the
run starts with no bucket and no state, keeps state locally, and must move it into the bucket it made.
The same scenario moves an artifact bucket between stacks the way an existing environment does: the
old stack forgets it with a ``removed`` block (nothing destroyed), the bootstrap imports it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

MISSING = [tool for tool in ("terraform",) if shutil.which(tool) is None]
BUCKET, KEY, REGION = "salesflow-tfstate-dev", "salesflow/dev/bootstrap.tfstate", "eu-central-1"
ARTIFACTS = "salesflow-artifacts-dev"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(MISSING), reason=f"needs {', '.join(MISSING)} on PATH"),
]


def _create_bucket_command() -> str:
    code = (
        "import boto3; boto3.client('s3', region_name='eu-central-1').create_bucket("
        f"Bucket='{BUCKET}', CreateBucketConfiguration={{'LocationConstraint': '{REGION}'}})"
    )
    return f'"{sys.executable}" -c "{code}"'


def _bootstrap_stack(endpoint: str) -> dict[str, Any]:
    backend = {
        "bucket": BUCKET,
        "key": KEY,
        "region": REGION,
        "encrypt": True,
        "use_lockfile": True,
        "endpoints": {"s3": endpoint},
        "use_path_style": True,
        "skip_credentials_validation": True,
        "skip_requesting_account_id": True,
        "skip_metadata_api_check": True,
        "skip_region_validation": True,
    }
    return {
        "terraform": {"backend": {"s3": backend}, "required_version": ">= 1.7"},
        "resource": {
            "terraform_data": {
                "state_bucket": {
                    "input": BUCKET,
                    "provisioner": [{"local-exec": {"command": _create_bucket_command()}}],
                },
                "artifact_bucket": {"input": ARTIFACTS},
            }
        },
        # bootstrap.adopt.artifact_bucket: the bucket the AWS stack made is imported, not created.
        "import": [{"to": "terraform_data.artifact_bucket", "id": ARTIFACTS}],
    }


def _write_synth(root: Path, stack: dict[str, Any]) -> Path:
    synth = root / "cdktf.out"
    (synth / "stacks" / "dev-bootstrap").mkdir(parents=True)
    (synth / "stacks" / "dev-bootstrap" / "cdk.tf.json").write_text(json.dumps(stack, indent=2))
    manifest = {
        "version": "0.21.0",
        "stacks": {
            "dev-bootstrap": {
                "name": "dev-bootstrap",
                "dependencies": [],
                "workingDirectory": "stacks/dev-bootstrap",
                "synthesizedStackPath": "stacks/dev-bootstrap/cdk.tf.json",
            }
        },
    }
    (synth / "manifest.json").write_text(json.dumps(manifest))
    return synth


def _terraform(directory: Path, env: dict[str, str], *arguments: str) -> str:
    done = subprocess.run(
        ["terraform", f"-chdir={directory}", *arguments, "-no-color"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _aws_stack_forgets_the_artifact_bucket(root: Path, env: dict[str, str]) -> Path:
    """An AWS stack that made the artifact bucket, then forgets it with a ``removed`` block. A destroy
    provisioner would leave a marker file: the test checks none appears."""
    stack = root / "aws-stack"
    stack.mkdir()
    marker = root / "artifact-bucket-destroyed"
    bucket = {
        "input": ARTIFACTS,
        "provisioner": [{"local-exec": {"when": "destroy", "command": f"touch {marker}"}}],
    }
    (stack / "main.tf.json").write_text(
        json.dumps({"resource": {"terraform_data": {"artifact_bucket": bucket}}})
    )
    _terraform(stack, env, "init", "-input=false")
    _terraform(stack, env, "apply", "-input=false", "-auto-approve")
    removed = {"removed": [{"from": "terraform_data.artifact_bucket", "lifecycle": {"destroy": False}}]}
    (stack / "main.tf.json").write_text(json.dumps(removed))
    output = _terraform(stack, env, "apply", "-input=false", "-auto-approve")
    assert "0 destroyed" in output and not marker.exists()
    return stack


def test_bootstrap_from_zero_moves_its_state_into_the_bucket_it_creates(
    tmp_path: Path, s3_endpoint: str, s3: Any
) -> None:
    cli_config = tmp_path / "terraformrc"
    cli_config.write_text("")
    env = {
        key: value
        for key, value in os.environ.items()
        if key.startswith(("AWS_", "PATH", "HOME", "LANG", "PYTHON"))
    }
    env |= {"TF_CLI_CONFIG_FILE": str(cli_config)}
    aws_stack = _aws_stack_forgets_the_artifact_bucket(tmp_path, env)
    assert "artifact_bucket" not in (aws_stack / "terraform.tfstate").read_text()
    synth = _write_synth(tmp_path, _bootstrap_stack(s3_endpoint))
    local = tmp_path / "local-state"
    salesflow = str(Path(sys.executable).parent / "salesflow")
    command = [
        salesflow,
        "bootstrap",
        "--env",
        "dev",
        "--synth-dir",
        str(synth),
        "--local-state-dir",
        str(local),
    ]

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *extra],
            env=env | {"SALESFLOW_BOOTSTRAP_APPROVE": ""},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def buckets() -> list[str]:
        return [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]

    refused = run()
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "not applying without confirmation" in refused.stderr
    assert "1 to import, 1 to add" in refused.stdout + refused.stderr
    assert BUCKET not in buckets(), "nothing was applied"

    applied = run("--yes")
    output = applied.stdout + applied.stderr
    assert applied.returncode == 0, output
    assert f"state: {local / 'dev' / 'terraform.tfstate'}" in output and "moving the state into" in output
    state = json.loads(s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read())
    ids = {resource["name"]: resource["instances"][0]["attributes"]["id"] for resource in state["resources"]}
    assert ids["artifact_bucket"] == ARTIFACTS, "imported by name, not created anew"
    assert set(ids) == {"state_bucket", "artifact_bucket"}
    assert not (local / "dev" / "terraform.tfstate").exists(), "the local copy (secrets) is deleted"
    assert not (synth / "stacks" / "dev-bootstrap" / "bootstrap.tfplan").exists()

    again = run()
    output = again.stdout + again.stderr
    assert again.returncode == 0, output
    assert f"state: s3://{BUCKET}/{KEY} (re-run)" in output and "no changes" in output
    assert "dev-bootstrap unchanged" in again.stdout
    assert json.loads(s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read())["serial"] == state["serial"]
