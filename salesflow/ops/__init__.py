"""Operations on a running environment: exporting a given week (backfill) with the Lambda's own code
(``export.py``) and what an environment costs a month (``cost/``, from the price book in ``pricing/``
and the synthesized stacks); what the pipeline is doing follows here.

May import: ``salesflow.config``, ``salesflow.contracts``, ``salesflow.cloud``, and ``salesflow.delivery``
for the helpers that locate and classify synthesized stacks (``delivery.stacks``,
``delivery.guard.statement_kind``). Never imports the local twin or cdktf (a synthesis runs
``terraform/main.py`` in a subprocess).
"""
