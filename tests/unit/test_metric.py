"""Exact bytes of values, escaping and headers (KSM pkg/metric)."""

from __future__ import annotations

import struct

import pytest

from ksm_py.metric import (
    ALPHA,
    COUNTER,
    GAUGE,
    INFO,
    STABLE,
    STATESET,
    escape_label_value,
    format_value,
    go_float,
    header,
)


@pytest.mark.parametrize("value, want", [
    (1, "1"), (0, "0"), (-0.0, "0"), (-1, "-1"), (0.5, "0.5"), (10596, "10596"), (1e6, "1e+06"),
    (1501569018, "1.501569018e+09"), (1.5e9, "1.5e+09"), (3e8, "3e+08"), (999999, "999999"), (123456, "123456"),
    (1234567, "1.234567e+06"), (-1234567, "-1.234567e+06"), (0.2, "0.2"), (0.0001, "0.0001"), (1e-05, "1e-05"),
    (1.5e-07, "1.5e-07"), (137, "137"), (-6.21355968e10, "-6.21355968e+10"), (1e21, "1e+21"),
    (1.34217728e8, "1.34217728e+08"), (99999.5, "99999.5"), (5e-324, "5e-324"),
    (1.7976931348623157e308, "1.7976931348623157e+308"), (float("nan"), "NaN"), (float("inf"), "+Inf"),
    (float("-inf"), "-Inf"), (0.1 + 0.2, "0.30000000000000004"), (100000, "100000"), (2.5, "2.5"),
    (1073741824, "1.073741824e+09"), (0.25, "0.25"), (1e16, "1e+16"), (123456789012345680, "1.2345678901234568e+17"),
])
def test_go_float(value: float, want: str) -> None:
    assert go_float(float(value)) == want
    assert format_value(value) == want


def test_format_value_bools_and_ints() -> None:
    assert format_value(True) == "1" and format_value(False) == "0"
    assert format_value(7) == "7" and format_value(10**7) == "1e+07"


def test_go_float_matches_shortest_round_trip_on_random_bits() -> None:
    # Whatever the digits, parsing the Go-style string gives back the same float.
    import random
    rng = random.Random(7)
    for _ in range(5000):
        f = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        if f != f or f in (float("inf"), float("-inf")):
            continue
        s = go_float(f)
        assert float(s.replace("+Inf", "inf")) == f or (f == 0 and s == "0"), (f, s)
        mantissa = s.lstrip("-").split("e")[0]
        exp = int(s.split("e")[1]) if "e" in s else None
        if exp is not None:
            assert exp < -4 or exp >= 6
            assert len(s.split("e")[1]) >= 3  # sign plus at least two digits
        else:
            assert "e" not in mantissa


@pytest.mark.parametrize("raw, want", [
    ("plain", "plain"), ('a"b', 'a\\"b'), ("a\\b", "a\\\\b"), ("a\nb", "a\\nb"), ("tab\there\r", "tab\there\r"),
    ("ünïcödé", "ünïcödé"),
])
def test_escape_label_value(raw: str, want: str) -> None:
    assert escape_label_value(raw) == want


def test_headers() -> None:
    assert header("kube_x", "Help.", GAUGE, STABLE) == b"# HELP kube_x [STABLE] Help.\n# TYPE kube_x gauge\n"
    assert header("kube_x", "Help.", COUNTER, ALPHA) == b"# HELP kube_x Help.\n# TYPE kube_x counter\n"
    assert header("kube_e", "Ports.", GAUGE, STABLE, "v2.14.0") == (
        b"# HELP kube_e [STABLE] (Deprecated since v2.14.0) Ports.\n# TYPE kube_e gauge\n")
    # The text format rewrites info/stateset to gauge; OpenMetrics keeps them.
    assert header("c_info", "I", INFO, ALPHA).endswith(b"# TYPE c_info gauge\n")
    assert header("c_state", "S", STATESET, ALPHA, openmetrics=True).endswith(b"# TYPE c_state stateset\n")
    # HELP escapes backslash and newline only (quotes stay as they are).
    assert header("k", 'a\\b\n"c"', GAUGE, ALPHA).startswith(b'# HELP k a\\\\b\\n"c"\n')
