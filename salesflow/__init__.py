"""salesflow: a streaming sales pipeline on Confluent Cloud and AWS, proven offline."""

__version__ = "0.1.0"
