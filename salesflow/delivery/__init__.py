"""Delivery: what the pipelines in ``.github/`` run between a merge and a green deploy. The state-loss
guard (``guard.py``, reported by ``guard_report.py``), the check that a fresh plan is the reviewed one
(``plan_compare.py``), the synthesized stacks of an environment in apply order (``stacks.py``), the
content-addressed exporter artifact (``artifacts.py``), the post-deploy smoke test (``smoke.py``),
the pre-merge check of the contracts against Schema Registry (``schema_verify.py``); and day 0:
applying the bootstrap stack as an administrator (``bootstrap.py``) and checking that the first
deploy has what it needs (``doctor.py``). ``commands.py`` holds their CLI commands.

May import: ``salesflow.config``, ``salesflow.contracts``, ``salesflow.events`` (the smoke test sends
generated orders) and ``salesflow.cloud``. Never imports cdktf: it reads synthesized JSON.
"""
