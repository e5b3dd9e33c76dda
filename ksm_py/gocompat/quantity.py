"""k8s.io/apimachinery ``resource.Quantity``: ``ParseQuantity`` and what KSM reads of it
(``Value``, ``MilliValue``, ``AsApproximateFloat64``).

Go's resource.Quantity keeps small values as an int64 mantissa with a base-10 exponent and
everything else as an inf.Dec rounded up to nano precision; Value()/MilliValue() round, wrap
and overflow differently on the two paths, so both are reproduced here (quantity.go,
amount.go, math.go, scale_int.go in k8s.io/apimachinery).
"""

from __future__ import annotations

import functools
import math
import re
from fractions import Fraction
from typing import Any

from .floats import pow10

MAX_INT64 = (1 << 63) - 1
_MIN_INT64 = -MAX_INT64 - 1
_DEC_SUFFIXES = {"": 0, "n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BIN_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_SUFFIX_CHARS = frozenset("eEinumkKMGTP")
_DIGITS = frozenset("0123456789")


def _wrap64(i: int) -> int:
    return ((i - _MIN_INT64) & 0xFFFFFFFFFFFFFFFF) + _MIN_INT64


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _split_quantity(s: str) -> tuple[bool, str, str, str, str]:
    """``parseQuantityString``: sign, numeric text, integer digits, fraction digits, suffix."""
    end = len(s)
    pos = 0
    positive = True
    if end and s[0] in "+-":
        positive = s[0] == "+"
        pos = 1
    while True:
        if pos >= end:
            return positive, "0", "0", "", ""
        if s[pos] != "0":
            break
        pos += 1
    i = pos
    while i < end and s[i] in _DIGITS:
        i += 1
    if i >= end:
        return positive, s, s[pos:] or "0", "", ""
    num, pos = s[pos:i] or "0", i
    denom = ""
    if s[pos] == ".":
        pos += 1
        i = pos
        while i < end and s[i] in _DIGITS:
            i += 1
        if i >= end:
            return positive, s, num, s[pos:], ""
        denom, pos = s[pos:i], i
    value = s[:pos]
    start = pos
    while pos < end and s[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and s[pos] in "+-":
        pos += 1
    while pos < end and s[pos] in _DIGITS:
        pos += 1
    if pos < end:
        raise ValueError(f"invalid quantity {s!r}")
    return positive, value, num, denom, s[start:]


def _interpret_suffix(suffix: str) -> tuple[int, int, str]:
    if suffix in _DEC_SUFFIXES:
        return 10, _DEC_SUFFIXES[suffix], "decimal"
    if suffix in _BIN_SUFFIXES:
        return 2, _BIN_SUFFIXES[suffix], "binary"
    if len(suffix) > 1 and suffix[0] in "eE" and re.fullmatch(r"[+-]?[0-9]+", suffix[1:]):
        exponent = int(suffix[1:])
        if _MIN_INT64 <= exponent <= MAX_INT64:
            return 10, _wrap32(exponent), "exponent"
    raise ValueError(f"invalid quantity suffix {suffix!r}")


def _wrap32(i: int) -> int:
    return ((i + 2**31) & 0xFFFFFFFF) - 2**31


@functools.lru_cache(maxsize=4096)
def parse_quantity(s: Any) -> tuple[bool, int, int]:
    """``resource.ParseQuantity`` as ``(is_int64_amount, unscaled, exponent)``: value = unscaled * 10**exponent."""
    if isinstance(s, bool) or s is None:
        raise ValueError(f"invalid quantity {s!r}")
    text = str(s).strip()
    if not text:
        raise ValueError("empty quantity")
    if text == "0":
        return True, 0, 0
    positive, value, num, denom, suffix = _split_quantity(text)
    base, exponent, kind = _interpret_suffix(suffix)
    scale, mantissa = 0, 1
    if kind == "binary":
        precision = 15 - len(num) - exponent * 3 // 10 - 1 if not denom else -1
        if not denom:
            mantissa = 1 << exponent
    else:
        scale = exponent
        precision = 18 - (len(num) + len(denom))
    if precision >= 0:
        scale -= len(denom)
        if scale >= -9:
            result = int(num + denom) * mantissa
            if _MIN_INT64 <= result <= MAX_INT64:
                return True, result if positive else -result, scale
    if base == 10 and exponent > 1000:
        raise ValueError(f"quantity {s!r} is out of range")
    number = abs(Fraction(value))
    if base == 2:
        number *= 2**exponent
    elif exponent < -(len(value) + 20):
        # Far below one nano: only "non-zero" matters, the value rounds up to 1n.
        number = Fraction(1, 10**20) if number else number
    else:
        number *= Fraction(10) ** exponent
    if number:
        # Rounded away from zero to nano precision; the Dec then has scale 9.
        nanos = -((-number.numerator * 10**9) // number.denominator)
        unscaled, dec_exponent = nanos, -9
    else:
        unscaled, dec_exponent = 0, 0
    if kind == "binary" and Fraction(unscaled) * Fraction(10) ** dec_exponent > MAX_INT64:
        unscaled, dec_exponent = MAX_INT64, 0
    return False, unscaled if positive else -unscaled, dec_exponent


def _negative_scale(base: int, scale: int) -> int:
    """``negativeScaleInt64``: divide by 10**scale, rounding away from zero."""
    value, fraction = base, False
    for _ in range(scale):
        if not fraction and value % 10 != 0:
            fraction = True
        value = _trunc_div(value, 10)
        if value == 0:
            return (1 if base > 0 else -1) if fraction else 0
    if fraction:
        value += 1 if base > 0 else -1
    return value


def _positive_scale(base: int, scale: int) -> int:
    """``positiveScaleInt64``: multiply by 10**scale; wraps (fixed scales) or gives 0 (loop) on overflow."""
    if scale == 0:
        return base
    if scale in (1, 2, 3, 6, 9):
        if base in (0, 1):
            return base * 10**scale
        if base == _MIN_INT64:
            return 0
        return _wrap64(base * 10**scale)
    value = base
    for _ in range(scale):
        if value in (0, 1):
            value *= 10
            continue
        product = value * 10
        if value == _MIN_INT64 or not _MIN_INT64 <= product <= MAX_INT64:
            return 0
        value = product
    return value


@functools.lru_cache(maxsize=4096)
def _scaled_value(s: Any, exponent: int) -> int:
    """``Quantity.ScaledValue``: the value in units of 10**exponent, rounded up (Go's way)."""
    is_int64, unscaled, own = parse_quantity(s)
    if is_int64:
        if own < exponent:
            return _negative_scale(unscaled, exponent - own)
        return _positive_scale(unscaled, own - exponent)
    dif = exponent - own
    if dif == 0:
        return _wrap64(unscaled)
    if dif < 0:
        return _wrap64(_wrap64(unscaled) * 10**-dif)
    if unscaled < MAX_INT64 and dif < 19:
        small = _wrap64(unscaled)
        result = _trunc_div(small, 10**dif)
        return result + 1 if small - result * 10**dif else result
    result, remainder = divmod(unscaled, 10**dif)
    return _wrap64(result + 1 if remainder else result)


def value(s: Any) -> int:
    """``Quantity.Value()``: rounded up to an integer."""
    return _scaled_value(s, 0)


def milli_value(s: Any) -> int:
    """``Quantity.MilliValue()``: thousandths, rounded up."""
    return _scaled_value(s, -3)


def approximate_float64(s: Any) -> float:
    """``Quantity.AsApproximateFloat64``: the stored mantissa times ``math.Pow10`` of the stored
    exponent, so it depends on how ParseQuantity stored the number (int64 fast path or inf.Dec
    rounded up to nano), e.g. "0.3" gives 0.30000000000000004.  Raises ValueError when ``s``
    does not parse."""
    _, unscaled, exponent = parse_quantity(s)
    try:
        base = float(unscaled)
    except OverflowError:
        base = math.inf if unscaled > 0 else -math.inf
    return base if exponent == 0 else base * pow10(exponent)
