"""The estimates of dev and prod, component by component, against figures computed by hand from the
environment files and the price book (arithmetic in the comments; a month is 730 h = 30.41667 days, a GB is
2^30 bytes, quantities and money kept to a millionth)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from salesflow.config import load_environment
from salesflow.ops.cost.estimate import estimate
from salesflow.ops.cost.prices import Prices

D = Decimal

# dev: 5,000 events/day x 300 B; lines/day = 5,000 x (1 - 0.126) x 2.24 = 9,788.8 x 190 B.
#   raw   GB/month = 5,000 x 300 x 30.41667 / 2^30 = 0.042492;  stored (7 d) = 1,500,000 x 7 / 2^30 = 0.009779
#   clean GB/month = 1,859,872 x 30.41667 / 2^30 = 0.052686;    stored (7 d) = 0.012125
#   table = 0.052686.. x 0.3 x 3 months = 0.047417 GB;
#   exports = 9,788.8 x 7 x 200 B x 4.3452 weeks x 3 / 2^30 = 0.166377 GB;
#   Lambda = 1 GB x 30 s x 4.35 runs = 130.5 GB-s;  logs = 4.35 MB = 0.004248 GB
# The monitor (issue 16, same in dev and prod): rate(5 minutes) = 730 h x 60 / 5 = 8,760 runs a month;
#   0.25 GB x 3 s (usage.monitor_seconds) x 8,760 = 6,570 GB-s;  logs = 8,760 x 0.006 MB = 52.56 MB
#   = 0.051328 GB;  custom metrics = the salesflow namespace's metrics named by alarms and the dashboard:
#   condition alarms (9 in dev, which watches no intake; 10 in prod) + MonitorRuns + ChecksUnavailable
#   + 6 observations on the dashboard + the exporter's ExportedLines, ExportedOrders, SuspectWeek.
MONITOR = {
    ("Lambda requests", "salesflow-{env}-monitor"): D("0.001752"),  # 8,760 x 0.0000002
    ("Lambda compute", "salesflow-{env}-monitor (arm64, 256 MB)"): D("0.087600"),  # 6,570 x 0.0000133334
    ("CloudWatch Logs", "/aws/lambda/salesflow-{env}-monitor"): D("0.032337"),  # 0.051328 x 0.63
    ("Scheduler invocations", "salesflow-{env}-monitor"): D("0.008760"),  # 8,760 x 0.000001
    ("CloudWatch dashboard", "salesflow-{env}-pipeline"): D("3.000000"),
    ("Secrets Manager", "salesflow/{env}/confluent/monitor-api-keys"): D("0.400000"),
    # one alarm per condition, the heartbeat, unavailable checks and the exporter's suspect week
    **{
        ("CloudWatch alarm", f"salesflow-{{env}}-{name}"): D("0.100000")
        for name in (
            "monitor-statement-not-running",
            "monitor-statement-pool-exhausted",
            "monitor-statement-critical-warning",
            "monitor-statement-stalled",
            "monitor-pending-records-rising",
            "monitor-watermark-stale",
            "monitor-tableflow-not-running",
            "monitor-tableflow-suspended",
            "monitor-table-stale",
            "monitor-runs",
            "monitor-checks-unavailable",
            "exporter-suspect-week",
        )
    },
}
# Issues 12 and 15 (bootstrap stack, analysts' e-mail), same in dev and prod: two state buckets and the
# download logs at usage.other_bucket_gb (1 GB x 0.0245), the bootstrap key, the bootstrap's three secrets
# (pepper, deploy and plan keys; the pepper counted once), the smoke credentials and the signing key.
LATER_STACKS = {
    ("S3 storage", "salesflow-exports-{env}-download-logs"): D("0.024500"),
    ("S3 storage", "salesflow-tfstate-{env}"): D("0.024500"),
    ("S3 storage", "salesflow-tfstate-{env}-access-logs"): D("0.024500"),
    ("KMS key", "aws_kms_key.bootstrap_key"): D("1.000000"),
    ("Secrets Manager", "salesflow/{env}/pii-pepper"): D("0.400000"),
    ("Secrets Manager", "salesflow/{env}/bootstrap/confluent-deploy-cloud-api-key"): D("0.400000"),
    ("Secrets Manager", "salesflow/{env}/bootstrap/confluent-plan-cloud-api-key"): D("0.400000"),
    ("Secrets Manager", "salesflow/{env}/confluent/smoke-credentials"): D("0.400000"),
    ("Secrets Manager", "salesflow/{env}/exporter/download-signing-key-k1"): D("0.400000"),
}


def _of(env: str, *parts: dict) -> dict:
    return {
        (component, resource.format(env=env)): value
        for part in parts
        for (component, resource), value in part.items()
    }


DEV = {
    ("Kafka cluster", "sales-dev: standard, low availability, 1 eCKU"): D("547.500000"),  # 730 x 0.75
    ("Flink statement", "dev-sales-order-lines-v1"): D("153.300000"),  # 730 x 0.21
    ("Tableflow topic", "sales_order_lines_clean"): D("73.000000"),  # 730 x 0.10
    ("Tableflow data processed", "sales_order_lines_clean"): D("0.002107"),  # 0.052686 x 0.04
    ("Tableflow storage, managed", "sales_order_lines_clean (3 months)"): D("0.001091"),  # 0.047417 x 0.023
    ("Kafka ingress", "sales_orders_raw"): D("0.002125"),  # 0.042492 x 0.05
    ("Kafka ingress", "sales_order_lines_clean"): D("0.002634"),  # 0.052686 x 0.05
    ("Kafka egress", "dev-sales-order-lines-v1 reads sales_orders_raw"): D("0.002125"),  # 0.042492 x 0.05
    ("Kafka storage", "sales_orders_raw (7 days retained)"): D("0.000782"),  # 0.009779 x 0.08
    ("Kafka storage", "sales_order_lines_clean (7 days retained)"): D("0.000970"),  # 0.012125 x 0.08
    ("Schema Registry", "2 schemas (73000 schema-hour free)"): D("0.000000"),  # raw + clean, 100 included
    ("Lambda requests", "salesflow-dev-exporter"): D("0.000001"),  # 4.35 x 0.0000002
    ("Lambda compute", "salesflow-dev-exporter (arm64, 1024 MB)"): D("0.001740"),  # 130.5 x 0.0000133334
    ("S3 storage", "salesflow-exports-dev"): D("0.004076"),  # 0.166377 x 0.0245
    ("S3 storage", "salesflow-artifacts-dev"): D("0.049000"),  # 2 x 0.0245
    # other_bucket_gb (1 GB assumed) each: the state bucket, its access logs, the download logs.
    ("S3 storage", "salesflow-tfstate-dev"): D("0.024500"),
    ("S3 storage", "salesflow-tfstate-dev-access-logs"): D("0.024500"),
    ("S3 storage", "salesflow-exports-dev-download-logs"): D("0.024500"),
    ("S3 storage", "salesflow-exports-dev-access-logs"): D("0.002450"),  # 0.1 x 0.0245
    ("Secrets Manager", "salesflow/dev/confluent/exporter-tableflow-api-key"): D("0.400000"),
    ("Secrets Manager", "salesflow/dev/confluent/flink-api-key"): D("0.400000"),
    ("Secrets Manager", "salesflow/dev/confluent/flink-verify-api-key"): D("0.400000"),
    ("Secrets Manager", "salesflow/dev/confluent/schema-verify-api-key"): D("0.400000"),
    ("Secrets Manager", "salesflow/dev/confluent/tableflow-api-key"): D("0.400000"),
    ("KMS key", "aws_kms_key.exporter_key"): D("1.000000"),
    ("KMS key", "aws_kms_key.secrets_key"): D("1.000000"),
    ("KMS key", "aws_kms_key.bootstrap_key"): D("1.000000"),
    ("CloudWatch alarm", "salesflow-dev-exporter-errors"): D("0.100000"),
    ("CloudWatch alarm", "salesflow-dev-exporter-failures-depth"): D("0.100000"),
    ("CloudWatch alarm", "salesflow-dev-schedule-dead-letters-depth"): D("0.100000"),
    ("CloudWatch alarm", "salesflow-dev-no-export-this-week"): D("0.200000"),  # metric math: 2 metrics
    ("CloudWatch Logs", "/aws/lambda/salesflow-dev-exporter"): D("0.002676"),  # 0.004248 x 0.63
    # 20 metrics x 0.30: 9 condition alarms + 2 + 6 + 3 (above)
    (
        "CloudWatch custom metrics",
        "salesflow namespace: 20 metrics of salesflow-exporter, salesflow-monitor (EMF)",
    ): (D("6.000000")),
} | _of("dev", MONITOR, LATER_STACKS)

# prod: 200,000 events/day (40 x dev), Enterprise HIGH, own-bucket Tableflow kept 24 months, 2 GB Lambda.
#   raw 1.699664 GB/month (0.391155 stored), clean 2.107438 GB/month (0.484999 stored), table 15.173553 GB,
#   exports 53.240538 GB;  Lambda = 2 GB x 120 s x 5.35 = 1,284 GB-s;  logs = 5.35 MB = 0.005225 GB
PROD = {
    ("Kafka cluster", "sales-prod: enterprise, high availability, 1 eCKU"): D("1642.500000"),  # 730 x 2.25
    ("Flink statement", "prod-sales-order-lines-v1"): D("153.300000"),
    ("Tableflow topic", "sales_order_lines_clean"): D("73.000000"),
    ("Tableflow data processed", "sales_order_lines_clean"): D("0.084298"),  # 2.107438 x 0.04
    # own bucket: S3 Standard eu-central-1, 15.173553 x 0.0245
    (
        "Tableflow storage, own bucket",
        "s3://salesflow-tableflow-prod (sales_order_lines_clean, 24 months)",
    ): D("0.371752"),
    ("Kafka ingress", "sales_orders_raw"): D("0.084983"),  # 1.699664 x 0.05
    ("Kafka ingress", "sales_order_lines_clean"): D("0.105372"),  # 2.107438 x 0.05
    ("Kafka egress", "prod-sales-order-lines-v1 reads sales_orders_raw"): D("0.084983"),
    ("Kafka storage", "sales_orders_raw (7 days retained)"): D("0.031292"),  # 0.391155 x 0.08
    ("Kafka storage", "sales_order_lines_clean (7 days retained)"): D("0.038800"),  # 0.484999 x 0.08
    ("Schema Registry", "2 schemas (73000 schema-hour free)"): D("0.000000"),
    ("Lambda requests", "salesflow-prod-exporter"): D("0.000001"),  # 5.35 x 0.0000002
    ("Lambda compute", "salesflow-prod-exporter (arm64, 2048 MB)"): D("0.017120"),  # 1,284 x 0.0000133334
    ("S3 storage", "salesflow-exports-prod"): D("1.304393"),  # 53.240538 x 0.0245
    ("S3 storage", "salesflow-artifacts-prod"): D("0.049000"),
    # other_bucket_gb (1 GB assumed) each: the state bucket, its access logs, the download logs.
    ("S3 storage", "salesflow-tfstate-prod"): D("0.024500"),
    ("S3 storage", "salesflow-tfstate-prod-access-logs"): D("0.024500"),
    ("S3 storage", "salesflow-exports-prod-download-logs"): D("0.024500"),
    ("S3 storage", "salesflow-exports-prod-access-logs"): D("0.012250"),  # 0.5 x 0.0245
    ("Secrets Manager", "salesflow/prod/confluent/exporter-tableflow-api-key"): D("0.400000"),
    ("Secrets Manager", "salesflow/prod/confluent/flink-api-key"): D("0.400000"),
    ("Secrets Manager", "salesflow/prod/confluent/flink-verify-api-key"): D("0.400000"),
    ("Secrets Manager", "salesflow/prod/confluent/schema-verify-api-key"): D("0.400000"),
    ("Secrets Manager", "salesflow/prod/confluent/tableflow-api-key"): D("0.400000"),
    ("KMS key", "aws_kms_key.exporter_key"): D("1.000000"),
    ("KMS key", "aws_kms_key.secrets_key"): D("1.000000"),
    ("KMS key", "aws_kms_key.bootstrap_key"): D("1.000000"),
    ("CloudWatch alarm", "salesflow-prod-exporter-errors"): D("0.100000"),
    ("CloudWatch alarm", "salesflow-prod-exporter-failures-depth"): D("0.100000"),
    ("CloudWatch alarm", "salesflow-prod-schedule-dead-letters-depth"): D("0.100000"),
    ("CloudWatch alarm", "salesflow-prod-no-export-this-week"): D("0.200000"),
    ("CloudWatch Logs", "/aws/lambda/salesflow-prod-exporter"): D("0.003292"),  # 0.005225 x 0.63
    # prod watches intake: one more alarm and one more metric (21 x 0.30)
    ("CloudWatch alarm", "salesflow-prod-monitor-no-intake"): D("0.100000"),
    (
        "CloudWatch custom metrics",
        "salesflow namespace: 21 metrics of salesflow-exporter, salesflow-monitor (EMF)",
    ): (D("6.300000")),
} | _of("prod", MONITOR, LATER_STACKS)


@pytest.mark.parametrize(
    ("env", "expected", "total"),
    [("dev", DEV, D("792.175726")), ("prod", PROD, D("1889.691485"))],
)
def test_estimate_matches_the_hand_computed_figures(
    env: str, expected: dict, total: Decimal, stacks_of: Callable, prices: Prices
) -> None:
    result = estimate(load_environment(env), stacks_of(env), prices)
    assert {c.key: c.monthly for c in result.components} == expected
    assert sum(expected.values()) == total
    assert result.total == total
    assert result.unpriced == ()
    for component in result.components:
        assert component.monthly == (component.quantity * component.unit_price).quantize(D("0.000001"))
    # Only the Flink CFU price and the KMS keys are confirmed on the vendors' own pages.
    confirmed = {c.component for c in result.components if c.confirmed}
    assert confirmed == {"Flink statement", "KMS key"}
    assert result.unconfirmed_total == total - D("153.30") - D("3.00")  # 3 KMS keys


def test_ddl_statements_and_free_resources_are_explained_not_priced(
    stacks_of: Callable, prices: Prices
) -> None:
    result = estimate(load_environment("dev"), stacks_of("dev"), prices)
    reasons = dict(result.no_charge)
    assert reasons["confluent_flink_statement.statement_sales_order_lines_clean_table_v2"].startswith(
        "DDL statement"
    )
    assert reasons["confluent_flink_statement.statement_sales_orders_raw_watermark_v1"].startswith(
        "DDL statement"
    )
    assert "compute pool is free" in reasons["confluent_flink_compute_pool.flink_compute_pool"]
    assert reasons["aws_iam_role.exporter_role"] == "no charge"


def test_a_resource_the_model_cannot_price_is_listed_not_silently_free(
    stacks_of: Callable, prices: Prices
) -> None:
    stacks = stacks_of("dev")
    stacks["dev-aws"]["resource"]["aws_dynamodb_table"] = {
        "ledger": {"name": "ledger", "billing_mode": "PROVISIONED"}
    }
    result = estimate(load_environment("dev"), stacks, prices)
    assert result.unpriced == ("aws_dynamodb_table.ledger",)
    assert result.total == D("792.175726")


def test_an_adopted_cluster_is_priced_from_the_environment_file(stacks_of: Callable, prices: Prices) -> None:
    stacks = stacks_of("dev")
    cluster = stacks["dev-confluent"]["resource"].pop("confluent_kafka_cluster")["kafka_cluster"]
    stacks["dev-confluent"]["data"]["confluent_kafka_cluster"] = {
        "kafka_cluster": {"id": "lkc-abc123", "display_name": cluster["display_name"]}
    }
    result = estimate(load_environment("dev"), stacks, prices)
    kafka = next(c for c in result.components if c.component == "Kafka cluster")
    assert kafka.resource == "sales-dev: standard, low availability, 1 eCKU, adopted"
    assert kafka.monthly == D("547.500000")
