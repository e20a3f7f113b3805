#!/usr/bin/env bash
# Plain Terraform over one environment's synthesized stacks (terraform/cdktf.out), in dependency order.
# The workflows call it after `make synth`; every subcommand works the same on a laptop with the
# environment's AWS and Confluent credentials in the environment.
#
#   terraform-stacks.sh plan  ENV OUT [--drift]  plan every stack (read-only, no lock), guard the plans;
#                                                --drift: -detailed-exitcode, report only, OUT/status =
#                                                clean | notice (changes the guard calls harmless
#                                                notices only) | drift | error
#   terraform-stacks.sh apply ENV OUT            per stack: plan, guard, apply that saved plan
#   terraform-stacks.sh save  ENV OUT            plan every stack (no lock), guard, store each saved plan (and
#                                                its provider lock file) in the state bucket; write
#                                                OUT/saved.json = {location, digests, locks} for the
#                                                apply job
#   terraform-stacks.sh apply-saved ENV OUT      per stack: fetch the saved plan, check its SHA-256
#                                                ($PLAN_DIGESTS), re-plan, require the same changes,
#                                                apply the saved plan
#
# OUT receives <stack>.tfplan, <stack>.plan.json (both hold sensitive values in clear text: never
# upload them), report.md (full) and comment.md (shortened for a PR comment).
# Guard labels come from $SALESFLOW_GUARD_LABELS (see `salesflow guard --help`).
set -euo pipefail

SALESFLOW=${SALESFLOW:-.venv/bin/salesflow}
BUILD_DIR=${BUILD_DIR:-build}
LOCK_TIMEOUT=${LOCK_TIMEOUT:-10m}
export TF_IN_AUTOMATION=1 TF_INPUT=0

die() {
  echo "::error::$*" >&2
  exit 1
}

usage() {
  sed -n '2,18p' "$0" >&2
  exit 2
}

[ $# -ge 3 ] || usage
command=$1
environment=$2
out=$(realpath -m "$3")
mode=${4:-}
mkdir -p "$out"

# "<stack>\t<directory>" lines; fails (and stops the script) when the synth output is missing or wrong.
stack_list=$("$SALESFLOW" stacks --env "$environment")

state_location() {
  "$SALESFLOW" config --env "$environment" |
    jq -r '"s3://\(.aws.state_backend.bucket)/\(.aws.state_backend.key_prefix)"'
}

init() {
  echo "::group::terraform init ($1)"
  terraform -chdir="$2" init -input=false -no-color
  echo "::endgroup::"
}

show_json() {
  terraform -chdir="$1" show -json -no-color "$2" >"$3"
}

guard() {
  local title=$1
  shift
  local plans=()
  local plan
  for plan in "$@"; do
    plans+=(--plan "$plan")
  done
  "$SALESFLOW" guard "${plans[@]}" \
    --built-artifacts "$BUILD_DIR" \
    --check-artifacts \
    --title "$title" \
    --markdown "$out/report.md" \
    --comment "$out/comment.md" \
    "${guard_flags[@]}"
}

guard_flags=()

cmd_plan() {
  local plans=() failed=() changed=0 stack dir rc
  local detailed=()
  if [ "$mode" = "--drift" ]; then
    detailed=(-detailed-exitcode)
    guard_flags=(--report-only --json "$out/guard.json")
  fi
  while IFS=$'\t' read -r stack dir; do
    init "$stack" "$dir"
    echo "::group::terraform plan ($stack)"
    set +e
    # Never applied: read the state without taking the lock, so plans never delay an apply.
    terraform -chdir="$dir" plan -input=false -no-color -lock=false "${detailed[@]}" -out="$out/$stack.tfplan"
    rc=$?
    set -e
    echo "::endgroup::"
    case $rc in
      0) ;;
      2) changed=1 ;;
      *)
        echo "::error::terraform plan failed for stack $stack ($environment)"
        failed+=("$stack")
        continue
        ;;
    esac
    show_json "$dir" "$out/$stack.tfplan" "$out/$stack.plan.json"
    plans+=("$out/$stack.plan.json")
  done <<<"$stack_list"
  local guard_rc=0
  if [ ${#plans[@]} -gt 0 ]; then
    guard "Plan: $environment" "${plans[@]}" || guard_rc=$?
  else
    : >"$out/report.md"
  fi
  if [ ${#failed[@]} -gt 0 ]; then
    local note="**terraform plan failed** for: ${failed[*]} (see the job log)."
    for report in "$out/report.md" "$out/comment.md"; do
      { printf '### Plan: %s\n\n%s\n\n' "$environment" "$note"; cat "$report" 2>/dev/null || true; } >"$report.tmp"
      mv "$report.tmp" "$report"
    done
    echo error >"$out/status"
    exit 1
  fi
  if [ "$mode" = "--drift" ]; then
    if [ "$changed" = 0 ]; then
      echo clean >"$out/status"
    elif jq -e '.only_notices' "$out/guard.json" >/dev/null; then
      echo notice >"$out/status" # e.g. DDL statements Confluent cleaned up, re-created harmlessly
    else
      echo drift >"$out/status"
    fi
  fi
  exit "$guard_rc"
}

cmd_apply() {
  local stack dir
  while IFS=$'\t' read -r stack dir; do
    init "$stack" "$dir"
    echo "::group::terraform plan ($stack)"
    terraform -chdir="$dir" plan -input=false -no-color -lock-timeout="$LOCK_TIMEOUT" -out="$out/$stack.tfplan"
    echo "::endgroup::"
    show_json "$dir" "$out/$stack.tfplan" "$out/$stack.plan.json"
    guard "Apply: $environment / $stack" "$out/$stack.plan.json"
    cat "$out/report.md" >>"${GITHUB_STEP_SUMMARY:-/dev/null}"
    echo "::group::terraform apply ($stack)"
    # A saved plan applies exactly what was planned and guarded, or fails if the state moved since.
    terraform -chdir="$dir" apply -input=false -no-color -lock-timeout="$LOCK_TIMEOUT" "$out/$stack.tfplan"
    echo "::endgroup::"
  done <<<"$stack_list"
}

cmd_save() {
  local location plans=() stack dir digests='{}' digest
  location="$(state_location)/plans/${GITHUB_RUN_ID:-local}-${GITHUB_RUN_ATTEMPT:-1}"
  while IFS=$'\t' read -r stack dir; do
    init "$stack" "$dir"
    echo "::group::terraform plan ($stack)"
    # The plan role writes only saved plans (no lock files): the apply re-plans under the lock, compares,
    # and Terraform refuses a saved plan whose state moved, so a lock-free plan here is safe.
    terraform -chdir="$dir" plan -input=false -no-color -lock=false -out="$out/$stack.tfplan"
    echo "::endgroup::"
    show_json "$dir" "$out/$stack.tfplan" "$out/$stack.plan.json"
    plans+=("$out/$stack.plan.json")
    digest=$(sha256sum "$out/$stack.tfplan" | cut -d' ' -f1)
    digests=$(jq -c --arg stack "$stack" --arg digest "$digest" '. + {($stack): $digest}' <<<"$digests")
  done <<<"$stack_list"
  guard "Plan: $environment (to apply after approval)" "${plans[@]}"
  # Saved plans embed state and sensitive values: they go to the (encrypted, access-controlled) state
  # bucket, never to a workflow artifact. The lock file pins the providers the plan was made with.
  local locks='[]'
  while IFS=$'\t' read -r stack dir; do
    aws s3 cp --only-show-errors "$out/$stack.tfplan" "$location/$stack.tfplan"
    # Terraform writes no lock file when a stack uses built-in providers only.
    if [ -f "$dir/.terraform.lock.hcl" ]; then
      aws s3 cp --only-show-errors "$dir/.terraform.lock.hcl" "$location/$stack.terraform.lock.hcl"
      locks=$(jq -c --arg stack "$stack" '. + [$stack]' <<<"$locks")
    fi
  done <<<"$stack_list"
  jq -c --arg location "$location" --argjson locks "$locks" '{location: $location, digests: ., locks: $locks}' \
    <<<"$digests" >"$out/saved.json"
}

cmd_apply_saved() {
  [ -n "${PLAN_DIGESTS:-}" ] || die "PLAN_DIGESTS is empty: the plan job's output did not arrive"
  local location stack dir expected actual
  location=$(jq -er '.location' <<<"$PLAN_DIGESTS")
  case $location in
    "$(state_location)/plans/"*) ;;
    *) die "saved plans must come from this environment's state bucket, not $location" ;;
  esac
  while IFS=$'\t' read -r stack dir; do
    expected=$(jq -er --arg stack "$stack" '.digests[$stack]' <<<"$PLAN_DIGESTS") ||
      die "no reviewed plan for stack $stack: re-run the deploy"
    aws s3 cp --only-show-errors "$location/$stack.tfplan" "$out/$stack.tfplan"
    actual=$(sha256sum "$out/$stack.tfplan" | cut -d' ' -f1)
    [ "$actual" = "$expected" ] || die "saved plan of $stack has SHA-256 $actual, the reviewed one $expected"
    if jq -e --arg stack "$stack" '.locks | index($stack)' <<<"$PLAN_DIGESTS" >/dev/null; then
      aws s3 cp --only-show-errors "$location/$stack.terraform.lock.hcl" "$dir/.terraform.lock.hcl"
    fi
    init "$stack" "$dir"
    show_json "$dir" "$out/$stack.tfplan" "$out/$stack.shown.json"
    echo "::group::terraform plan ($stack, to compare with the reviewed plan)"
    terraform -chdir="$dir" plan -input=false -no-color -lock-timeout="$LOCK_TIMEOUT" -out="$out/$stack.fresh.tfplan"
    echo "::endgroup::"
    show_json "$dir" "$out/$stack.fresh.tfplan" "$out/$stack.fresh.json"
    # An upstream stack applied just before may have changed this stack's inputs: apply only what
    # the reviewers saw.
    "$SALESFLOW" plan-compare --shown "$out/$stack.shown.json" --fresh "$out/$stack.fresh.json"
    echo "::group::terraform apply ($stack)"
    terraform -chdir="$dir" apply -input=false -no-color -lock-timeout="$LOCK_TIMEOUT" "$out/$stack.tfplan"
    echo "::endgroup::"
  done <<<"$stack_list"
}

case $command in
  plan) cmd_plan ;;
  apply) cmd_apply ;;
  save) cmd_save ;;
  apply-saved) cmd_apply_saved ;;
  *) usage ;;
esac
