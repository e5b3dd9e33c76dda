"""Value paths into an object (upstream ``compilePath`` / ``valuePath``).

A path is a list of parts applied one after the other:

* on a map, a part is a key; ``key=value`` returns the value of ``key`` only when it equals
  ``value`` (a string), otherwise the lookup falls back to the whole part as a key;
* on a list, a part is an index (negative counts from the end) or a ``[key=value]`` selector
  that returns the first element whose ``key`` equals ``value`` as a string, as a number
  (``toFloat64``) or as a boolean (``strconv.ParseBool``);
* anything else, or a missing key or index, resolves to nothing (None).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Sequence

from .values import ValueError_, to_float64

_ATOI = re.compile(r"[+-]?[0-9]+")
_PARSE_BOOL = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
               "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}


class PathError(ValueError):
    pass


def _list_lookup(part: str) -> Callable[[Any], Any]:
    inner = part[1:-1]
    if "=" not in inner:
        raise PathError(f"invalid list lookup: {part}")
    key, val = inner.split("=", 1)
    try:
        num: float | None = to_float64(val, False)
    except ValueError_:
        num = None
    boolean = _PARSE_BOOL.get(val)

    def op(m: Any) -> Any:
        if not isinstance(m, list):
            return None
        for v in m:
            if not isinstance(v, dict) or key not in v:
                continue
            candidate = v[key]
            if isinstance(candidate, str) and candidate == val:
                return v
            if num is not None:
                try:
                    if to_float64(candidate, False) == num:
                        return v
                except ValueError_:
                    pass
            if boolean is not None and isinstance(candidate, bool) and candidate == boolean:
                return v
        return None
    return op


def _field(part: str) -> Callable[[Any], Any]:
    kv = part.split("=")

    def op(m: Any) -> Any:
        if isinstance(m, dict):
            if len(kv) == 2 and kv[0] in m:
                v = m[kv[0]]
                if isinstance(v, str) and v == kv[1]:
                    return v
            return m.get(part)
        if isinstance(m, list):
            if not _ATOI.fullmatch(part):
                return None
            i = int(part)
            if not -(1 << 63) <= i < (1 << 63):
                return None
            if i < 0:
                i += len(m)
            return m[i] if 0 <= i < len(m) else None
        return None
    return op


class ValuePath:
    """A compiled path; ``get`` walks it and returns None as soon as a step does not resolve."""

    __slots__ = ("parts", "ops")

    def __init__(self, parts: Sequence[str]) -> None:
        self.parts = tuple(parts)
        ops = []
        for part in self.parts:
            if part.startswith("[") and part.endswith("]") and len(part) >= 2:
                ops.append(_list_lookup(part))
            else:
                ops.append(_field(part))
        self.ops = tuple(ops)

    def get(self, obj: Any) -> Any:
        for op in self.ops:
            if obj is None:
                return None
            obj = op(obj)
        return obj

    def __str__(self) -> str:
        return "[" + ",".join(self.parts) + "]"

    def __repr__(self) -> str:
        return f"ValuePath({list(self.parts)!r})"

    def __len__(self) -> int:
        return len(self.parts)
