"""Constructs of the Flink stack (``<env>-flink``): the statements rendered from ``flink_statements/``
(``statements.py``) and Tableflow on the clean topic (``tableflow.py``)."""
