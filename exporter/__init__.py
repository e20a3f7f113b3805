"""The weekly exporter: the previous ISO week of the clean Iceberg table as CSV reports on S3.

Standalone (it never imports ``salesflow``): this package is what the Lambda zip ships.
"""

__version__ = "1.0.0"
