"""Constructs of the bootstrap stack (``<env>-bootstrap``), one concern each: ``storage.py`` (state,
artifact and access-log buckets, the bootstrap KMS key), ``identities.py`` (GitHub's OIDC provider, the
pipeline roles, the workload boundary) with their documents in ``policies.py`` (ARNs from ``scope.py``),
``pepper.py`` (the PII pepper), ``confluent_access.py`` (Terraform's Confluent environment, service
accounts and Cloud API keys) and ``github.py`` (the GitHub environments, their variables and secrets)."""
