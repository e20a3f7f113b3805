"""Operations on a running environment: exporting a given week (backfill) with the Lambda's own code
(``export.py``); what the pipeline is doing and what it costs follow here.

May import: ``salesflow.config``, ``salesflow.contracts`` and ``salesflow.cloud``. Never imports the
local twin or cdktf.
"""
