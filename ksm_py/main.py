"""Console entry point. gevent must patch the standard library before anything imports ssl,
urllib3 or kubernetes, so this module imports nothing else at the top."""

from __future__ import annotations

# glibc mallopt() parameters.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def fix_malloc_thresholds(threshold: int = 128 * 1024) -> bool:
    """Keep glibc from raising its mmap threshold as it frees big blocks (its default).  A scrape
    joins each family into one block of up to tens of MB; with the dynamic threshold the first
    ones teach glibc to take such blocks from the heap, where they stay as fragmented RSS after
    the scrape (about 15% more steady memory at 20,000 pods).  Fixed, they are mmap()ed and given
    back at once.  A no-op elsewhere than glibc."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, threshold)) and bool(mallopt(_M_TRIM_THRESHOLD, threshold))


def main() -> int:
    from gevent import monkey

    monkey.patch_all()
    fix_malloc_thresholds()
    from .cli import main as cli_main

    return cli_main()
