"""``make bootstrap ENV=<env>``: apply the ``<env>-bootstrap`` stack once, as an administrator.

The stack creates the very bucket its state belongs in, so the first run keeps state locally and moves
it there afterwards:

1. **state**: if ``s3://<state bucket>/<key prefix>/bootstrap.tfstate`` exists, use it (a re-run);
   otherwise keep state in ``<local dir>/terraform.tfstate`` (``.bootstrap/<env>/`` by default) through a
   ``backend_override.tf.json`` beside the synthesized stack;
2. ``terraform init``, ``terraform plan -out`` (shown; nothing to do ends here);
3. confirmation: type the environment's name, or ``--yes`` (``SALESFLOW_BOOTSTRAP_APPROVE=yes``); without
   a terminal and without them the run stops before applying;
4. ``terraform apply`` of exactly that plan;
5. after a local-state run: drop the override, ``terraform init -migrate-state -force-copy`` into the
   bucket, check the object is there, then delete the local state files (they hold the Confluent keys).

A run that stops anywhere can simply be repeated: the local state survives until the migration is
proven, and a remote state always wins over a leftover local one of the same lineage.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from salesflow.config import REPO_ROOT, Environment
from salesflow.delivery.stacks import SYNTH_DIR, Stack, bootstrap_stack

OVERRIDE_FILE = "backend_override.tf.json"
PLAN_FILE = "bootstrap.tfplan"
MINIMUM_TERRAFORM = (1, 11)
APPROVE_VARIABLE = "SALESFLOW_BOOTSTRAP_APPROVE"
DEFAULT_LOCAL_DIR = REPO_ROOT / ".bootstrap"


class BootstrapError(RuntimeError):
    """The bootstrap cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class BootstrapResult:
    applied: bool
    migrated: bool
    state: str  # where the state is now: s3://bucket/key


@dataclass
class Bootstrap:
    environment: Environment
    s3: Any  # a boto3 S3 client for the state bucket's region
    synth_dir: Path = SYNTH_DIR
    local_dir: Path = DEFAULT_LOCAL_DIR
    terraform: str = "terraform"
    approve: bool = False
    interactive: bool = True
    ask: Callable[[str], str] = input
    log: Callable[[str], None] = print

    def __post_init__(self) -> None:
        self.stack: Stack = bootstrap_stack(self.environment, self.synth_dir)
        self.local_state = (self.local_dir / self.environment.name / "terraform.tfstate").resolve()

    # --- steps ------------------------------------------------------------------------------------------

    def run(self) -> BootstrapResult:
        self._check_terraform()
        remote = self._remote_state_exists()
        location = f"s3://{self.stack.state_bucket}/{self.stack.state_key}"
        if remote:
            self._forget_local_copy()
            self._use_remote_backend()
            self.log(f"==> state: {location} (re-run)")
        else:
            self._use_local_backend()
            self.log(f"==> state: {self.local_state} (first run; moved to {location} after the apply)")
        self._terraform("init", "-input=false", "-reconfigure")
        changes = self._plan()
        applied = False
        if changes:
            self._confirm()
            self._terraform("apply", "-input=false", PLAN_FILE)
            applied = True
        else:
            self.log("==> no changes: the bootstrap stack is as declared")
        (self.stack.directory / PLAN_FILE).unlink(missing_ok=True)  # a plan file holds secrets
        migrated = False
        if not remote:
            self._migrate()
            migrated = True
        return BootstrapResult(applied=applied, migrated=migrated, state=location)

    def _check_terraform(self) -> None:
        try:
            shown = subprocess.run(
                [self.terraform, "version", "-json"], capture_output=True, text=True, check=True
            )
        except (OSError, subprocess.CalledProcessError) as exc:
            raise BootstrapError(
                f"cannot run {self.terraform!r} ({exc}); install Terraform >= 1.11"
            ) from None
        version = json.loads(shown.stdout)["terraform_version"]
        parts = tuple(int(part) for part in version.split("-")[0].split(".")[:2])
        if parts < MINIMUM_TERRAFORM:
            raise BootstrapError(
                f"Terraform {version} is too old: the bootstrap stack needs >= 1.11 (ephemeral values, "
                "write-only arguments keep the pepper out of plans and state)"
            )

    def _remote_state_exists(self) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.s3.head_object(Bucket=self.stack.state_bucket, Key=self.stack.state_key)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in {"404", "NoSuchKey", "NoSuchBucket", "NotFound"}:
                return False
            raise BootstrapError(
                f"cannot read s3://{self.stack.state_bucket}/{self.stack.state_key} ({code}): run "
                "`make bootstrap` with the AWS account's administrator credentials"
            ) from None
        return True

    def _forget_local_copy(self) -> None:
        """A local state left by an earlier run whose migration finished: delete it if the remote state
        is the same lineage and at least as new, refuse otherwise."""
        if not self.local_state.exists():
            return
        local = json.loads(self.local_state.read_text(encoding="utf-8"))
        body = self.s3.get_object(Bucket=self.stack.state_bucket, Key=self.stack.state_key)["Body"].read()
        remote = json.loads(body)
        if local.get("lineage") != remote.get("lineage") or local.get("serial", 0) > remote.get("serial", 0):
            raise BootstrapError(
                f"{self.local_state} and s3://{self.stack.state_bucket}/{self.stack.state_key} are different "
                "states; keep the right one (terraform state pull/push) and delete the other"
            )
        self._delete_local_state()

    def _use_local_backend(self) -> None:
        self.local_state.parent.mkdir(parents=True, exist_ok=True)
        override = {"terraform": {"backend": {"local": {"path": str(self.local_state)}}}}
        (self.stack.directory / OVERRIDE_FILE).write_text(json.dumps(override, indent=2), encoding="utf-8")

    def _use_remote_backend(self) -> None:
        (self.stack.directory / OVERRIDE_FILE).unlink(missing_ok=True)

    def _plan(self) -> bool:
        result = self._terraform(
            "plan", "-input=false", "-detailed-exitcode", f"-out={PLAN_FILE}", allowed=(0, 2)
        )
        return result == 2

    def _confirm(self) -> None:
        if self.approve:
            self.log("==> approved (--yes)")
            return
        if not self.interactive:
            raise BootstrapError(
                "not applying without confirmation: run in a terminal, or pass --yes "
                f"({APPROVE_VARIABLE}=yes) after reading the plan above"
            )
        answer = self.ask(
            f"Apply this plan to {self.environment.name}? Type the environment name to confirm: "
        )
        if answer.strip() != self.environment.name:
            raise BootstrapError("not confirmed: nothing was applied")

    def _migrate(self) -> None:
        self.log(f"==> moving the state into s3://{self.stack.state_bucket}/{self.stack.state_key}")
        self._use_remote_backend()
        self._terraform("init", "-input=false", "-migrate-state", "-force-copy")
        if not self._remote_state_exists():
            raise BootstrapError(
                f"the state did not arrive in s3://{self.stack.state_bucket}/{self.stack.state_key}; "
                f"{self.local_state} is kept: run `make bootstrap` again"
            )
        self._delete_local_state()

    def _delete_local_state(self) -> None:
        for path in (self.local_state, self.local_state.with_name("terraform.tfstate.backup")):
            if path.exists():
                path.unlink()
                self.log(f"==> deleted {path} (the state lives in the bucket now)")

    def _terraform(self, *arguments: str, allowed: Sequence[int] = (0,)) -> int:
        self.log(f"==> terraform {' '.join(arguments)}")
        completed = subprocess.run(
            [self.terraform, f"-chdir={self.stack.directory}", *arguments],
            env={**os.environ, "TF_IN_AUTOMATION": "1"},
            check=False,
        )
        if completed.returncode not in allowed:
            raise BootstrapError(f"terraform {arguments[0]} failed (exit {completed.returncode}); see above")
        return completed.returncode
