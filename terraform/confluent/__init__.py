"""Constructs of the Confluent stack (``<env>-confluent``), one concern each: the platform (environment,
cluster, registry, Flink region and pool), the raw topic, the schemas and subject rules, service
accounts with their role bindings, their API keys, and the secrets that hand those keys on
(``outputs.py`` names what the other stacks read). The typed provider resources they are built from live
in ``terraform/confluent_provider/``."""
