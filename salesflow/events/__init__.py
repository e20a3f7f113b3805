"""Sales events: the generator of realistic orders, the interchange format of Kafka records (JSON lines
or Avro containers), event files on disk and producing to Kafka with Schema Registry.

Upstream of everything: the Flink harness, the local twin and the smoke test consume what this makes.

May import: ``salesflow.config`` and ``salesflow.contracts``. Never imports another salesflow subpackage.
"""
