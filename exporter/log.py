"""The exporter's one structured (JSON) logger; the service name comes from POWERTOOLS_SERVICE_NAME."""

from aws_lambda_powertools import Logger

logger = Logger()
