"""Parse exposition text into comparable series sets (labels sorted, lines sorted)."""

from __future__ import annotations

import re
from collections.abc import Iterable

_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_line(line: str) -> tuple[str, tuple[tuple[str, str], ...], str]:
    if "{" in line:
        name, rest = line.split("{", 1)
        labels, value = rest.rsplit("} ", 1)
        pairs = tuple(sorted(_LABEL.findall(labels)))
    else:
        name, value = line.split(" ", 1)
        pairs = ()
    return name, pairs, value.strip()


def series(text: str, *, prefix: str = "", where: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    """``{'name{k="v",...}': value}`` for every sample line (optionally filtered)."""
    cond = list(where)
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line or line.startswith("#") or not line.startswith(prefix):
            continue
        name, pairs, value = parse_line(line)
        if cond and not all(p in pairs for p in cond):
            continue
        key = name + "{" + ",".join(f'{k}="{v}"' for k, v in pairs) + "}"
        out[key] = value
    return out


def families_with_headers(text: str) -> list[str]:
    return [line.split()[2] for line in text.splitlines() if line.startswith("# HELP ")]


def diff(a: dict[str, str], b: dict[str, str], limit: int = 30) -> str:
    only_a = sorted(set(a) - set(b))
    only_b = sorted(set(b) - set(a))
    changed = sorted(k for k in set(a) & set(b) if a[k] != b[k])
    lines = [f"- {k} {a[k]}" for k in only_a[:limit]] + [f"+ {k} {b[k]}" for k in only_b[:limit]]
    lines += [f"~ {k} {a[k]} != {b[k]}" for k in changed[:limit]]
    return f"{len(only_a)} only left, {len(only_b)} only right, {len(changed)} changed\n" + "\n".join(lines)
