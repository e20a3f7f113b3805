"""Constructs of the AWS stack (``<env>-aws``), one concern each: the encryption key, the buckets, the
notification topics, the exporter function, its weekly schedule and its alarms (``iam.py`` builds the
policy statements they share)."""
