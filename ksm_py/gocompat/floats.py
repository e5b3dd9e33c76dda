"""Go's number semantics: ``strconv.FormatFloat(f, 'g', -1, 64)`` (as KSM writes values),
``strconv.ParseFloat(s, 64)`` and ``math.Pow10``."""

from __future__ import annotations

import math
import re

_INF = math.inf


def format_float(f: float) -> str:
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


_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX = re.compile(r"([+-]?)0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+)")
_SPECIAL = {"inf": math.inf, "+inf": math.inf, "-inf": -math.inf, "infinity": math.inf, "+infinity": math.inf,
            "-infinity": -math.inf, "nan": math.nan, "+nan": math.nan, "-nan": math.nan}


def parse_float(s: str) -> float:
    """``strconv.ParseFloat(s, 64)``; raises ValueError with Go's message where it returns an
    error (out-of-range values included)."""
    special = _SPECIAL.get(s.lower())
    if special is not None:
        return special
    if _DECIMAL.fullmatch(s):
        f = float(s)
    else:
        m = _HEX.fullmatch(s)
        if not m:
            raise ValueError(f'strconv.ParseFloat: parsing "{s}": invalid syntax')
        try:
            f = float.fromhex(m.group(1) + "0x" + m.group(2))
        except OverflowError:
            f = math.inf
    if math.isinf(f):
        raise ValueError(f'strconv.ParseFloat: parsing "{s}": value out of range')
    return f


_POW10 = [float(f"1e{i}") for i in range(32)]
_POW10_POS32 = [float(f"1e{32 * i}") for i in range(10)]
_POW10_NEG32 = [float(f"1e-{32 * i}") for i in range(11)]


def pow10(n: int) -> float:
    """Go ``math.Pow10``, built from the same tables so the rounding matches."""
    if 0 <= n <= 308:
        return _POW10_POS32[n // 32] * _POW10[n % 32]
    if -323 <= n <= 0:
        return _POW10_NEG32[-n // 32] / _POW10[-n % 32]
    return math.inf if n > 0 else 0.0
