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

from ..families._helpers import _go_quantity
from ..metric import go_float

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


# -- strconv.ParseFloat -------------------------------------------------------------------------

_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX = re.compile(r"([+-]?)0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+)")
_SPECIAL = {"inf": math.inf, "+inf": math.inf, "-inf": -math.inf, "infinity": math.inf, "+infinity": math.inf,
            "-infinity": -math.inf, "nan": math.nan, "+nan": math.nan, "-nan": math.nan}


def go_parse_float(s: str) -> float:
    """``strconv.ParseFloat(s, 64)``; out-of-range values are errors, as there."""
    special = _SPECIAL.get(s.lower())
    if special is not None:
        return special
    if _DECIMAL.fullmatch(s):
        f = float(s)
    else:
        m = _HEX.fullmatch(s)
        if not m:
            raise ValueError_(f'strconv.ParseFloat: parsing "{s}": invalid syntax')
        try:
            f = float.fromhex(m.group(1) + "0x" + m.group(2))
        except OverflowError:
            f = math.inf
    if math.isinf(f):
        raise ValueError_(f'strconv.ParseFloat: parsing "{s}": value out of range')
    return f


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


# -- Quantity.AsApproximateFloat64 --------------------------------------------------------------

_POW10 = [float(f"1e{i}") for i in range(32)]
_POW10_POS32 = [float(f"1e{32 * i}") for i in range(10)]
_POW10_NEG32 = [float(f"1e-{32 * i}") for i in range(11)]


def _pow10(n: int) -> float:
    """Go ``math.Pow10``, from the same tables so the rounding matches."""
    if 0 <= n <= 308:
        return _POW10_POS32[n // 32] * _POW10[n % 32]
    if -323 <= n <= 0:
        return _POW10_NEG32[-n // 32] / _POW10[-n % 32]
    return math.inf if n > 0 else 0.0


def quantity_approx(s: str) -> float | None:
    """``resource.ParseQuantity(s).AsApproximateFloat64()``, or None when it does not parse."""
    if not s or s != s.strip():
        return None
    try:
        _, unscaled, exponent = _go_quantity(s)
    except (ValueError, ArithmeticError):
        return None
    try:
        base = float(unscaled)
    except OverflowError:
        base = math.inf if unscaled > 0 else -math.inf
    return base if exponent == 0 else base * _pow10(exponent)


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
