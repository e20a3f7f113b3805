"""Clients for the cloud APIs the repository talks to: AWS (boto3), read-only GitHub and Confluent Cloud
control-plane readers (``github.py``, ``confluent.py`` over ``rest.py``) and, as they are added, Confluent
Cloud's data-plane REST APIs (Flink statements, Schema Registry, Tableflow, Metrics).

Each client takes its endpoint from the environment file or an override and its credentials only from
environment variables; it retries what is safe to retry and never logs a credential. Nothing here
knows about a particular command: `delivery/`, `ops/` and `sql/` call these clients.

May import: ``salesflow.config``. Never imports another salesflow subpackage, cdktf or PyFlink.
"""
