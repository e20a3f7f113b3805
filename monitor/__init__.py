"""The pipeline monitor: a Lambda that EventBridge Scheduler runs every few minutes. It reads the
continuous Flink statement, Confluent's Metrics API, the Tableflow topic and the Iceberg table's current
snapshot, decides each condition of ``conditions.py`` (``checks.py``: pure functions over what it read) and
publishes one CloudWatch metric per condition (Embedded Metric Format) for the alarms in
``terraform/aws/monitor_alarms.py``.

Standalone, like ``exporter/``: it never imports ``salesflow`` or ``exporter`` (this package is what its zip
ships). ``salesflow status`` imports it to run the same checks from a laptop or CI.

Modules: ``conditions`` (what is watched; dependency-free, terraform/ reads it), ``settings`` (environment
variables), ``http`` (one small urllib3 JSON client: timeouts, retries, redaction), ``confluent`` (statement,
Metrics API, Tableflow topic), ``catalog`` (the table's snapshot through Tableflow's Iceberg REST catalog),
``history`` (the monitor's own earlier datapoints from CloudWatch), ``checks``, ``observe`` (reads everything,
one failure never hides the other checks), ``emit`` (the EMF document), ``handler`` (the Lambda entry point).
"""

__version__ = "1.0.0"
