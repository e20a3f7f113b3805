"""Operating an environment once it runs: what it costs (``salesflow.ops.cost``).

May import: ``salesflow.config`` and ``salesflow.contracts``, and the delivery helpers that locate and
classify synthesized stacks (``salesflow.stacks``, ``salesflow.guard.statement_kind``). Never imports
cdktf (a synthesis runs ``terraform/main.py`` in a subprocess) and never calls a cloud API.
"""
