"""The monthly cost of an environment, and what a change to it costs (``salesflow cost``).

The estimate is a pure function of three inputs: the environment's usage model (``usage:`` in
``environments/<env>.yaml``), its synthesized Terraform JSON, and the price book (``pricing/prices.yaml``,
optionally overlaid with an organisation's price list). Nothing is listed by hand: every running Flink
statement, Tableflow topic, cluster, function, bucket, secret, key and alarm is read from the JSON.

``prices``      the price book and the Confluent CLI price list overlay
``inventory``   what the synthesized stacks declare (resources, topics, statements, regions)
``volumes``     data volumes and run counts derived from the usage model
``confluent``   Confluent charges: cluster, Kafka data, Flink, Tableflow, Schema Registry
``aws``         AWS charges: Lambda, S3, Secrets Manager, KMS, CloudWatch
``estimate``    the estimate itself: components, total, what carries no charge, what cannot be priced
``whatif``      the questions a team asks first, answered on the same model
``baseline``    the same estimate for another git ref, synthesized in a worktree
``render``      table, Markdown (pull-request comment) and JSON output
``command``     the ``salesflow cost`` command
"""
