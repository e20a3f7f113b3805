"""Flink SQL: the statements in ``flink_statements/`` rendered for Confluent Cloud (``render.py``),
linted (``lint.py``), locked per released version (``lock.py``), and run or explained in a local
Apache Flink (``harness.py``, PyFlink, in .venv-flink) with Confluent's properties mapped
(``properties.py``) and Avro contracts as Flink columns (``avro_types.py``); and the same statements
asked of Confluent Cloud's own planner before merge (``verify.py``: dry runs, append-only traits,
EXPLAIN read by ``confluent_plans.py``).

May import: ``salesflow.config``, ``salesflow.contracts``, ``salesflow.events`` (records and event
files) and ``salesflow.cloud`` (the Flink statements client of ``verify.py``). Only ``harness.py``
imports PyFlink (it runs in .venv-flink); the rest works in .venv too.
"""
