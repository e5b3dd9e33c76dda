"""Go semantics reproduced once in ksm_py.gocompat: numbers, time, quantities (cron: tests/families/test_cronjobs.py).

Expected values come from Go itself (strconv, math, time, k8s.io/apimachinery), as noted per test.
"""

from __future__ import annotations

import datetime
import math

import pytest

from ksm_py.gocompat.floats import format_float, parse_float, pow10
from ksm_py.gocompat.quantity import approximate_float64, milli_value, value
from ksm_py.gocompat.times import ZERO_TIME, parse_duration


def test_zero_time_is_year_one() -> None:
    # time.Time{}.Unix() == -62135596800 (Go 1.26).
    year_one = datetime.datetime(1, 1, 1, tzinfo=datetime.UTC)
    assert ZERO_TIME == (year_one - datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)) // datetime.timedelta(seconds=1)
    assert ZERO_TIME == -62135596800


# strconv.FormatFloat(f, 'g', -1, 64), with KSM's "0" for a negative zero.
@pytest.mark.parametrize(("f", "want"), [
    (1.0, "1"), (0.5, "0.5"), (10596.0, "10596"), (1e6, "1e+06"), (1501569018.0, "1.501569018e+09"),
    (1e-05, "1e-05"), (0.0001, "0.0001"), (123456.0, "123456"), (-0.0, "0"), (math.nan, "NaN"),
    (math.inf, "+Inf"), (-math.inf, "-Inf"), (0.30000000000000004, "0.30000000000000004"),
])
def test_format_float(f: float, want: str) -> None:
    assert format_float(f) == want


# strconv.ParseFloat(s, 64): accepted spellings and its two errors.
@pytest.mark.parametrize(("s", "want"), [
    ("1", 1.0), ("-2.5", -2.5), (".5", 0.5), ("5.", 5.0), ("1e3", 1000.0), ("+Inf", math.inf), ("-infinity", -math.inf),
    ("0x1p-2", 0.25), ("0X1.8P1", 3.0),
])
def test_parse_float(s: str, want: float) -> None:
    assert parse_float(s) == want


@pytest.mark.parametrize(("s", "error"), [
    ("", "invalid syntax"), ("1_000", "invalid syntax"), ("0x10", "invalid syntax"), (" 1", "invalid syntax"),
    ("1e400", "value out of range"), ("12345abc", "invalid syntax"),
])
def test_parse_float_errors(s: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_float(s)


def test_parse_float_nan() -> None:
    assert math.isnan(parse_float("NaN"))


def test_pow10() -> None:
    # math.Pow10: exact table products, +Inf above 308, 0 below -323.
    assert pow10(-1) == 0.1
    assert pow10(300) == 1e300
    assert pow10(400) == math.inf
    assert pow10(-400) == 0.0
    assert [pow10(n) for n in range(0, 23)] == [float(10**n) for n in range(0, 23)]


# Expected values produced by k8s.io/apimachinery v0.36.3 resource.MustParse(s).AsApproximateFloat64().
@pytest.mark.parametrize(("quantity", "want"), [
    ("0.3", 0.30000000000000004), ("3.3", 3.3000000000000003), ("500m", 0.5), ("1e-3", 0.001),
    ("-0.3", -0.30000000000000004), ("0", 0.0), ("100Ki", 102400.0), ("0.5Ki", 512.0), ("1.5Gi", 1610612736.0),
    ("1234567890123456789", 1.234567890123457e18), ("0.1234567891", 0.12345679000000001),
    ("99999999999999999999", 1e20), ("1.000000000000000000001", 1.000000001), ("9Ei", 9.223372036854776e18),
    ("12345678901234567890Ki", 9.223372036854776e18), ("1e300", 1e300), ("7.77777e-5", 7.7778e-05),
    ("123456789.123456789", 123456789.12345679),
])
def test_approximate_float64(quantity: str, want: float) -> None:
    assert approximate_float64(quantity) == want


@pytest.mark.parametrize("bad", ["", "abc", "1.2.3", "1Qi", "--1"])
def test_approximate_float64_rejects_what_parse_quantity_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        approximate_float64(bad)


# Quantity.Value() / MilliValue(): rounded up (away from zero), as in apimachinery.
@pytest.mark.parametrize(("quantity", "v", "milli"), [
    ("1", 1, 1000), ("250m", 1, 250), ("1.5", 2, 1500), ("1Ki", 1024, 1024000), ("1n", 1, 1), ("-1.5", -2, -1500),
    ("0.0001", 1, 1),
])
def test_value_and_milli_value(quantity: str, v: int, milli: int) -> None:
    assert (value(quantity), milli_value(quantity)) == (v, milli)


# time.ParseDuration in nanoseconds.
@pytest.mark.parametrize(("s", "ns"), [("1h30m", 5400 * 10**9), ("1.5s", 1500 * 10**6), ("-2m", -120 * 10**9),
                                       ("300ms", 300 * 10**6), ("0", 0)])
def test_parse_duration(s: str, ns: int) -> None:
    assert parse_duration(s) == ns


@pytest.mark.parametrize("bad", ["", "1", "1x", "h", ".h"])
def test_parse_duration_errors(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)
