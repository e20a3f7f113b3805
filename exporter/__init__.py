"""The weekly exporter: the previous ISO week of the clean Iceberg table as CSV reports on S3.

Standalone (it never imports ``salesflow``): this package is what the Lambda zip ships.
"""

import os

# Arrow's default allocator (mimalloc) keeps memory freed by the read threads: ~100 MB more peak RSS for
# a 1M-line week than glibc malloc, which was no slower (bench/exporter.py). Arrow reads this variable
# when it loads, so it is set here, before any exporter module imports pyarrow; an explicit value wins.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

__version__ = "1.0.0"
