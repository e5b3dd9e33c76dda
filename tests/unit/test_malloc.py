"""glibc keeps the RSS of a scrape's big transient blocks unless its mmap threshold is fixed."""

from __future__ import annotations

import subprocess
import sys

import pytest

# A scrape in small: big joined blocks come and go while small long-lived objects are made.
SCRAPES = """
import os, sys
if sys.argv[1] == "fixed":
    from ksm_py.main import fix_malloc_thresholds
    assert fix_malloc_thresholds()
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
keep = []
base = rss()
for _ in range(20):
    for size in (1 << 20, 4 << 20, 16 << 20, 8 << 20, 2 << 20):
        block = b"x" * size
        keep.append(b"y" * 200)
        del block
print(rss() - base)
"""


def grown_by(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", SCRAPES, mode], capture_output=True, text=True, check=True)
    return int(out.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_big_transient_blocks_are_given_back_with_fixed_thresholds() -> None:
    default, fixed = grown_by("default"), grown_by("fixed")
    assert fixed < 2 << 20, fixed
    # The default dynamic threshold keeps them (what the fix is for).
    assert default > 8 << 20, default
