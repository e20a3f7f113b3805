"""Clients for the cloud APIs the repository talks to: AWS (``aws.py``, boto3), read-only GitHub
(``github.py``) and Confluent Cloud's REST APIs, typed on one small HTTP layer (``confluent_http.py``:
credentials from environment variables, timeouts, retries honouring Retry-After, paging, redaction):
Flink statements (``flink_statements.py``), Schema Registry (``schema_registry.py``) and the
control-plane reader the doctor uses (``confluent.py``).

Each client takes its endpoint from the environment file or an override and its credentials only from
environment variables; it retries what is safe to retry and never logs a credential. Nothing here
knows about a particular command: `delivery/`, `ops/` and `sql/` call these clients.

May import: ``salesflow.config``. Never imports another salesflow subpackage, cdktf or PyFlink.
"""
