"""The README's generated tables (flags, families) live between HTML comment markers; a test
compares each with what the code declares, and ``replace_section`` regenerates it."""

from __future__ import annotations


def section(text: str, begin: str, end: str) -> str:
    """What ``text`` holds between the markers, without the blank lines around it."""
    start, stop = text.index(begin) + len(begin), text.index(end)
    return text[start:stop].strip("\n") + "\n"


def replace_section(path: str, begin: str, end: str, content: str) -> bool:
    """Write ``content`` between the markers of the file at ``path``; True when it changed."""
    with open(path) as f:
        text = f.read()
    start, stop = text.index(begin) + len(begin), text.index(end)
    new = text[:start] + "\n" + content + text[stop:]
    if new != text:
        with open(path, "w") as f:
            f.write(new)
    return new != text
