"""The weekly exporter: the previous ISO week of the clean Iceberg table as CSV reports on S3.

Standalone (it never imports ``salesflow``): this package is what the Lambda zip ships.
"""

import ctypes
import os

# Arrow's default allocator (mimalloc) keeps memory freed by the read threads: ~100 MB more peak RSS for
# a 1M-line week than glibc malloc, which was no slower (bench/exporter.py). Arrow reads this variable
# when it loads, so it is set here, before any exporter module imports pyarrow; an explicit value wins.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")


def _glibc_returns_freed_memory() -> None:
    """Keep glibc malloc from sitting on freed memory, so peak RSS follows what the export holds.

    Threads that contend for malloc get their own arenas (up to 8 per core), each keeping the memory freed
    in it; and once a large block is freed, glibc raises its mmap threshold (up to 32 MiB), so the
    slices' column buffers then come from those arenas and stay there. Two arenas and a fixed 1 MiB
    threshold (blocks above it are mapped and unmapped) took the 16M-line bench week from 578 to 444 MB
    peak RSS for ~10% more CPU (bench/exporter.py). 2 MiB keeps a 143k-row slice's int64 columns and a
    rendered CSV block (~1 MiB) in the arenas, whose freed memory the export trims after every slice and
    every counted partition: a 4M-line week takes ~24% fewer page faults (1.55M -> 1.2M) for a 16M-line
    peak of ~420 MB instead of ~410. Set before any thread starts; an explicit MALLOC_ARENA_MAX or
    GLIBC_TUNABLES wins, and a libc without mallopt is left alone."""
    if "MALLOC_ARENA_MAX" in os.environ or "GLIBC_TUNABLES" in os.environ:
        return
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return
    mallopt(-8, 2)  # M_ARENA_MAX
    mallopt(-3, 2 << 20)  # M_MMAP_THRESHOLD


_glibc_returns_freed_memory()

__version__ = "1.0.0"
