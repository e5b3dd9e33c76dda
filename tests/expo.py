"""Parse exposition text into comparable series sets (labels sorted, lines sorted)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client.parser import text_string_to_metric_families

from ksm_py.gocompat.floats import format_float
from ksm_py.metric import escape_label_value


def samples(text: str) -> Iterator[tuple[str, tuple[tuple[str, str], ...], str]]:
    """``(name, sorted label pairs, value)`` of every sample, parsed by prometheus_client's text
    parser; the value is written back as ksm-py/KSM write it, so ``"1e+06"`` stays ``"1e+06"``."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            yield sample.name, tuple(sorted(sample.labels.items())), format_float(float(sample.value))


def series_key(name: str, pairs: Iterable[tuple[str, str]]) -> str:
    """``name{k="v",...}`` with the values escaped as in the exposition (one line per series)."""
    return name + "{" + ",".join(f'{k}="{escape_label_value(v)}"' for k, v in pairs) + "}"


def parse_line(line: str) -> tuple[str, tuple[tuple[str, str], ...], str]:
    (parsed,) = samples(line)
    return parsed


def series(text: str, *, prefix: str = "", where: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    """``{'name{k="v",...}': value}`` for every sample line (optionally filtered)."""
    cond = list(where)
    out: dict[str, str] = {}
    for name, pairs, value in samples(text):
        key = series_key(name, pairs)
        if not key.startswith(prefix):  # a prefix may end in "{" (this family only)
            continue
        if cond and not all(p in pairs for p in cond):
            continue
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
