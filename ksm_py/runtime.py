"""Process-wide settings of the Python runtime and the C allocator, applied once at start-up.

A LIST page of 500 pods parses into about 100,000 dicts and lists that live until the page is
rendered.  With CPython's default GC thresholds (700, 10, 10) every page is traced several
times, promoted to the oldest generation and traced again in full collections: at 50,000 pods
that was 170 full collections, a third of the initial sync's CPU, with pauses up to 0.25 s.
Parsed objects hold no reference cycles, so reference counting frees them; the cyclic GC only
needs to run rarely.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc

# Net allocations of container objects between two young-generation collections: above what a
# few LIST pages in flight hold, so pages die by reference counting before any collection.
GC_THRESHOLDS = (200_000, 20, 10)

# glibc mallopt() parameters.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def tune_gc(thresholds: tuple[int, int, int] = GC_THRESHOLDS) -> None:
    """Raise the collection thresholds and move everything allocated so far (modules, classes,
    the family tables) out of the collector's sight: it is never garbage."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)


def fix_malloc_thresholds(threshold: int = 128 * 1024) -> bool:
    """Keep glibc from raising its mmap threshold as it frees big blocks (its default).  A scrape
    joins each family into one block of up to tens of MB; with the dynamic threshold the first
    ones teach glibc to take such blocks from the heap, where they stay as fragmented RSS after
    the scrape (about 15% more steady memory at 20,000 pods).  Fixed, they are mmap()ed and given
    back at once.  A no-op elsewhere than glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, threshold)) and bool(mallopt(_M_TRIM_THRESHOLD, threshold))
