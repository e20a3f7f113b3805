"""Operations on a running environment: exporting a given week (backfill) with the Lambda's own code
(``export.py``), what an environment costs a month (``cost/``, from the price book in ``pricing/``
and the synthesized stacks) and what the pipeline is doing now (``status.py``: the monitor's checks).

May import: ``salesflow.config``, ``salesflow.contracts``, ``salesflow.cloud``, ``salesflow.delivery``
for the helpers that locate and classify synthesized stacks (``delivery.stacks``,
``delivery.guard.statement_kind``), and ``salesflow.sql`` for the name of the continuous statement as
rendered (``status.py`` watches it). Besides salesflow, the deployables it runs: ``exporter`` and
``monitor``. Never imports the local twin or cdktf (a synthesis runs ``terraform/main.py`` in a subprocess).
"""
