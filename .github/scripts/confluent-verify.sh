#!/usr/bin/env bash
# Ask Confluent Cloud before merge: `salesflow sql verify` (dry run of every statement, append-only proof,
# EXPLAIN) and `salesflow schema verify` (compatibility with the registry, the clean subject against the
# contract) for one environment, after the plan job has initialised its stacks. The pull-request plan job
# calls it when a change touches flink_statements/, schemas/ or environments/; it works the same on a
# laptop with the environment's read-only AWS role and the verifier's keys in the environment.
#
#   confluent-verify.sh ENV OUT
#
# The environment and compute pool ids, the Schema Registry endpoint and the ARNs of the verifier's two
# keys (salesflow/<env>/confluent/{flink,schema}-verify-api-key) come from the Confluent stack's outputs;
# the keys are read from Secrets Manager with the plan role (set FLINK_API_KEY/_SECRET,
# SCHEMA_REGISTRY_URL and SCHEMA_REGISTRY_API_KEY/_SECRET to use others). A PR label
# `verify-first-deploy` passes --first-deploy (labels as a JSON list in $SALESFLOW_GUARD_LABELS).
# Appends both reports to OUT/report.md and OUT/comment.md; exits 1 when a verify fails.
set -euo pipefail

SALESFLOW=${SALESFLOW:-.venv/bin/salesflow}
export TF_IN_AUTOMATION=1 TF_INPUT=0

[ $# -eq 2 ] || {
  sed -n '2,15p' "$0" >&2
  exit 2
}
environment=$1
out=$(realpath -m "$2")
mkdir -p "$out"

append() {
  local report
  for report in "$out/report.md" "$out/comment.md"; do
    { printf '\n'; cat "$1"; } >>"$report"
  done
}

confluent_dir=$("$SALESFLOW" stacks --env "$environment" | awk -F '\t' -v stack="$environment-confluent" '$1 == stack { print $2 }')
[ -n "$confluent_dir" ] || {
  echo "::error::no synthesized stack $environment-confluent"
  exit 1
}
terraform -chdir="$confluent_dir" init -input=false -no-color >/dev/null
environment_id=$(terraform -chdir="$confluent_dir" output -raw environment_id 2>/dev/null || true)
pool_id=$(terraform -chdir="$confluent_dir" output -raw flink_compute_pool_id 2>/dev/null || true)
if [ -z "$environment_id" ] || [ -z "$pool_id" ]; then
  # Nothing to ask yet: the first apply creates the environment, its compute pool and the verifier.
  printf '#### Confluent dry run: %s\n\nSkipped: the Confluent stack has no outputs yet (first deploy of the environment); nothing exists to plan against.\n' \
    "$environment" >"$out/sql-verify.md"
  append "$out/sql-verify.md"
  echo "::notice::$environment: not deployed yet; sql verify and schema verify skipped"
  exit 0
fi

# The verifier's key pairs (key:secret), unless given: the plan role may read the Confluent stack's secrets.
key_pair() {
  local arn
  arn=$(terraform -chdir="$confluent_dir" output -raw "$1")
  aws secretsmanager get-secret-value --secret-id "$arn" --query SecretString --output text
}
if [ -z "${FLINK_API_KEY:-}" ]; then
  pair=$(key_pair flink_verify_api_key_secret_arn)
  export FLINK_API_KEY=${pair%%:*} FLINK_API_SECRET=${pair#*:}
  echo "::add-mask::$FLINK_API_SECRET"
fi
if [ -z "${SCHEMA_REGISTRY_API_KEY:-}" ]; then
  pair=$(key_pair schema_verify_api_key_secret_arn)
  export SCHEMA_REGISTRY_API_KEY=${pair%%:*} SCHEMA_REGISTRY_API_SECRET=${pair#*:}
  echo "::add-mask::$SCHEMA_REGISTRY_API_SECRET"
fi
unset pair
SCHEMA_REGISTRY_URL=${SCHEMA_REGISTRY_URL:-$(terraform -chdir="$confluent_dir" output -raw schema_registry_url)}
export SCHEMA_REGISTRY_URL

first_deploy=()
if jq -e 'index("verify-first-deploy")' <<<"${SALESFLOW_GUARD_LABELS:-[]}" >/dev/null; then
  first_deploy=(--first-deploy)
fi

rc=0
"$SALESFLOW" sql verify --env "$environment" --environment-id "$environment_id" --compute-pool-id "$pool_id" \
  "${first_deploy[@]}" --markdown "$out/sql-verify.md" || rc=1
"$SALESFLOW" schema verify --env "$environment" --markdown "$out/schema-verify.md" || rc=1
for report in "$out/sql-verify.md" "$out/schema-verify.md"; do
  if [ ! -f "$report" ]; then
    printf '#### %s: %s\n\nFailed before it could report (missing key or endpoint?): see the job log.\n' \
      "$(basename "$report" .md)" "$environment" >"$report"
  fi
  append "$report"
done
if [ "$rc" != 0 ]; then
  echo "::error::$environment: Confluent refused or could not verify the change (see the tables above, docs/runbook.md)"
fi
exit "$rc"
