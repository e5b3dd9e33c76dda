"""Byte-level exposition primitives, identical to kube-state-metrics' ``pkg/metric``.

Go's ``strconv.AppendFloat(v, 'g', -1, 64)`` for values, KSM's three-character label
escaping, and HELP/TYPE headers with the ``[STABLE] `` and deprecation prefixes.
"""

from __future__ import annotations

import math
from typing import Final

GAUGE: Final = "gauge"
COUNTER: Final = "counter"
INFO: Final = "info"
STATESET: Final = "stateset"

STABLE: Final = "STABLE"
ALPHA: Final = "ALPHA"

_INF = math.inf


def go_float(f: float) -> str:
    """Format like Go's ``strconv.FormatFloat(f, 'g', -1, 64)`` with KSM's fast paths."""
    if f == 1:
        return "1"
    if f == 0:
        # KSM special-cases 0 before formatting, so a negative zero is written "0" too.
        return "0"
    if f != f:
        return "NaN"
    if f == _INF:
        return "+Inf"
    if f == -_INF:
        return "-Inf"
    if f.is_integer() and -1e6 < f < 1e6:
        return str(int(f))
    r = repr(f)
    neg = r[0] == "-"
    if neg:
        r = r[1:]
    mant, _, e = r.partition("e")
    ip, _, fp = mant.partition(".")
    if fp == "0":
        fp = ""
    all_digits = ip + fp
    sig = all_digits.lstrip("0")
    # Position of the decimal point relative to the first significant digit (Go's digs.dp).
    dp = len(ip) - (len(all_digits) - len(sig)) + (int(e) if e else 0)
    digits = sig.rstrip("0") or "0"
    exp = dp - 1
    if exp < -4 or exp >= 6:
        m = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        s = f"{m}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    elif dp <= 0:
        s = "0." + "0" * (-dp) + digits
    elif dp >= len(digits):
        s = digits + "0" * (dp - len(digits))
    else:
        s = digits[:dp] + "." + digits[dp:]
    return "-" + s if neg else s


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
