"""Go semantics the custom resource state metrics depend on.

* ``to_float64``: upstream's ``toFloat64`` (``pkg/customresourcestate/registry_factory.go``):
  numbers, booleans, ``true/yes`` and ``false/no/unknown`` strings, RFC 3339 timestamps,
  quantities (``Quantity.AsApproximateFloat64``), ``NN%`` percentages, then ``strconv.ParseFloat``.
* ``go_sprint``: ``fmt.Sprintf("%v", v)`` of a value decoded from JSON, used for label values.

Objects come from the API server as JSON; like apimachinery's unstructured decoder, integers that
fit an int64 are integers and every other number is a float64.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..gocompat.floats import format_float as go_float
from ..gocompat.floats import parse_float
from ..gocompat.quantity import approximate_float64

_MIN_INT64, _MAX_INT64 = -(1 << 63), (1 << 63) - 1


class ValueError_(ValueError):
    """A value that cannot become a metric value (upstream logs it and skips the series)."""


# -- fmt %v -------------------------------------------------------------------------------------

def _go_float_v(f: float) -> str:
    if f == 0 and math.copysign(1.0, f) < 0:
        return "-0"
    return go_float(f)


def go_sprint(v: Any) -> str:
    """``fmt.Sprintf("%v", v)`` for JSON-decoded values (maps print with sorted keys)."""
    if v is None:
        return "<nil>"
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v) if _MIN_INT64 <= v <= _MAX_INT64 else _go_float_v(float(v))
    if isinstance(v, float):
        return _go_float_v(v)
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{go_sprint(v[k])}" for k in sorted(v)) + "]"
    if isinstance(v, list):
        return "[" + " ".join(go_sprint(x) for x in v) + "]"
    return str(v)


def go_parse_float(s: str) -> float:
    """``strconv.ParseFloat(s, 64)``, its errors as ``ValueError_``."""
    try:
        return parse_float(s)
    except ValueError as e:
        raise ValueError_(str(e)) from None


# -- time.Parse(time.RFC3339, s).Unix() ---------------------------------------------------------

_RFC3339 = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:[.,][0-9]+)?"
                      r"(Z|[+-][0-9]{2}:[0-9]{2})")
_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _leap(y: int) -> bool:
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def _days_from_civil(y: int, m: int, d: int) -> int:
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def rfc3339_unix(s: str) -> int | None:
    """Unix seconds of an RFC 3339 timestamp, or None when Go's parser would reject it."""
    m = _RFC3339.fullmatch(s)
    if not m:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    if not 1 <= month <= 12 or hour > 23 or minute > 59 or second > 59:
        return None
    days_in = _DAYS[month - 1] + (1 if month == 2 and _leap(year) else 0)
    if not 1 <= day <= days_in:
        return None
    offset = 0
    tz = m.group(7)
    if tz != "Z":
        oh, om = int(tz[1:3]), int(tz[4:6])
        if oh > 23 or om > 59:
            return None
        offset = (oh * 60 + om) * 60 * (-1 if tz[0] == "-" else 1)
    return _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset


def quantity_approx(s: str) -> float | None:
    """``resource.ParseQuantity(s).AsApproximateFloat64()``, or None when it does not parse."""
    if not s or s != s.strip():
        return None
    try:
        return approximate_float64(s)
    except (ValueError, ArithmeticError):
        return None


_PERCENT = re.compile(r"[0-9]+%")


def to_float64(value: Any, nil_is_zero: bool) -> float:
    """upstream ``toFloat64``; raises ``ValueError_`` where it returns an error."""
    if value is None:
        if nil_is_zero:
            return 0.0
        raise ValueError_("expected number but found nil value")
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, str):
        normalized = value.lower()
        if normalized in ("true", "yes"):
            return 1.0
        if normalized in ("false", "no", "unknown"):
            return 0.0
        ts = rfc3339_unix(value)
        if ts is not None:
            return float(ts)
        q = quantity_approx(value)
        if q is not None:
            return q
        if _PERCENT.fullmatch(value):
            return go_parse_float(value.rstrip("%")) / 100
        return go_parse_float(value)
    if isinstance(value, int):
        return float(value)
    if isinstance(value, float):
        return value
    raise ValueError_(f"expected number but was {go_sprint(value)}")
