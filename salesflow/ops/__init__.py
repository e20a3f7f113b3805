"""Operating an environment once it runs: what it costs (``salesflow.ops.cost``).

Modules here read the environment files (``salesflow.config``), the data contracts (``salesflow.contracts``)
and the synthesized Terraform JSON through the delivery helpers (``salesflow.stacks``, ``salesflow.guard``).
They never import cdktf (a synthesis runs ``terraform/main.py`` in a subprocess) and never call a cloud API.
"""
