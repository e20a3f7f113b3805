"""The local twin: the pipeline on this machine with real engines and no cloud. A local Iceberg table
standing in for Tableflow (``lakehouse.py``), served through an Iceberg REST catalog with OAuth2 and
vended credentials the way Tableflow serves it (``rest_catalog.py``), moto in server mode standing in
for S3/SNS/STS (``local_aws.py``), and ``salesflow demo`` running generate -> Flink -> Iceberg ->
exporter -> S3.

Only configuration differs from the cloud: the same statements, the same exporter code.

May import: ``salesflow.config``, ``salesflow.contracts``, ``salesflow.events``, ``salesflow.sql`` and
``salesflow.ops`` (to run the exporter as a backfill does). Nothing imports the twin but tests,
benchmarks and the CLI.
"""
