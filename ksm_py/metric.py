"""Byte-level exposition primitives, identical to kube-state-metrics' ``pkg/metric``.

Go's ``strconv.AppendFloat(v, 'g', -1, 64)`` for values, KSM's three-character label
escaping, and HELP/TYPE headers with the ``[STABLE] `` and deprecation prefixes.
"""

from __future__ import annotations

import math
from typing import Final

from .gocompat.floats import format_float as go_float

GAUGE: Final = "gauge"
COUNTER: Final = "counter"
INFO: Final = "info"
STATESET: Final = "stateset"

STABLE: Final = "STABLE"
ALPHA: Final = "ALPHA"

_INF = math.inf


def format_value(v: float | int | bool) -> str:
    if v is True:
        return "1"
    if v is False:
        return "0"
    if type(v) is int and -1000000 < v < 1000000:
        return str(v)
    return go_float(float(v))


_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n"})


def escape_label_value(s: str) -> str:
    """KSM ``escapeString``: only backslash, double quote and line feed are escaped."""
    if "\\" in s or '"' in s or "\n" in s:
        return s.translate(_ESCAPES)
    return s


def escape_help(s: str) -> str:
    return s.replace("\\", "\\\\").replace("\n", "\\n")


def help_text(help: str, stability: str, deprecated: str = "") -> str:
    prefix = "[STABLE] " if stability == STABLE else ""
    if deprecated:
        prefix += f"(Deprecated since {deprecated}) "
    return prefix + help


def header(name: str, help: str, type_: str, stability: str, deprecated: str = "", *, openmetrics: bool = False) -> bytes:
    """HELP and TYPE lines; the text format rewrites info/stateset to gauge like KSM does."""
    if not openmetrics and type_ in (INFO, STATESET):
        type_ = GAUGE
    return f"# HELP {name} {escape_help(help_text(help, stability, deprecated))}\n# TYPE {name} {type_}\n".encode()
