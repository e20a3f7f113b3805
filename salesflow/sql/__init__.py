"""Flink SQL: the statements in ``flink_statements/`` rendered for Confluent Cloud (``render.py``),
linted (``lint.py``), locked per released version (``lock.py``), and run or explained in a local
Apache Flink (``harness.py``, PyFlink, in .venv-flink) with Confluent's properties mapped
(``properties.py``) and Avro contracts as Flink columns (``avro_types.py``).

May import: ``salesflow.config``, ``salesflow.contracts`` and ``salesflow.events`` (records and event
files). Only ``harness.py`` imports PyFlink (it runs in .venv-flink); the rest works in .venv too.
"""
