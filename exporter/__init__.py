"""The weekly exporter: the previous ISO week of the clean Iceberg table as CSV reports on S3.

Standalone (it never imports ``salesflow``): this package is what the Lambda zip ships.
"""

import ctypes
import os

# Arrow's default allocator (mimalloc) keeps memory freed by the read threads: ~100 MB more peak RSS for
# a 1M-line week than glibc malloc, which was no slower (bench/exporter.py). Arrow reads this variable
# when it loads, so it is set here, before any exporter module imports pyarrow; an explicit value wins.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")


def _two_malloc_arenas() -> None:
    """glibc gives threads that contend for malloc their own arenas (up to 8 per core), and each arena keeps
    the memory freed in it: the export's read, CSV and aggregate threads held ~15% more peak RSS for it
    (bench/exporter.py; two arenas were no slower). Set before any thread starts; an explicit
    MALLOC_ARENA_MAX or GLIBC_TUNABLES wins, and a libc without mallopt is left alone."""
    if "MALLOC_ARENA_MAX" in os.environ or "GLIBC_TUNABLES" in os.environ:
        return
    try:
        ctypes.CDLL("libc.so.6").mallopt(-8, 2)  # M_ARENA_MAX
    except (OSError, AttributeError):
        return


_two_malloc_arenas()

__version__ = "1.0.0"
