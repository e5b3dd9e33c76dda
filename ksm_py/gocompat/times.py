"""Go's time semantics, on unix seconds: the zero time, ``time.Local``/``LoadLocation``, the
calendar operations go-cron relies on (``time.Date`` normalisation and zone resolution,
``AddDate``) and ``time.ParseDuration``."""

from __future__ import annotations

import dataclasses
import datetime
import functools
import os

# time.Time{}.Unix(): 0001-01-01T00:00:00Z.
ZERO_TIME = -62135596800
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()
_UTC: datetime.tzinfo = datetime.UTC
_ZONE_ERRORS = (KeyError, ValueError, OSError)


@functools.lru_cache(maxsize=8)
def _local_zone_for(tz_env: str | None) -> datetime.tzinfo:
    """Go ``initLocal``: $TZ (unset: /etc/localtime, empty: UTC), UTC when it cannot be loaded."""
    # zoneinfo (2.5 ms of CPU at import) only for what needs a zone: cron schedules, not start-up.
    from zoneinfo import ZoneInfo

    try:
        if tz_env is None:
            with open("/etc/localtime", "rb") as f:
                return ZoneInfo.from_file(f, key="Local")
        if tz_env.startswith(":"):
            tz_env = tz_env[1:]
        if tz_env.startswith("/"):
            with open(tz_env, "rb") as f:
                return ZoneInfo.from_file(f, key="Local")
        if tz_env and tz_env != "UTC":
            return ZoneInfo(tz_env)
    except _ZONE_ERRORS:
        pass
    return _UTC


def local_zone() -> datetime.tzinfo:
    return _local_zone_for(os.environ.get("TZ"))


def load_location(name: str) -> datetime.tzinfo | None:
    """Go ``time.LoadLocation``; None stands for ``time.Local``."""
    if name in ("", "UTC"):
        return _UTC
    if name == "Local":
        return None
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(name)
    except _ZONE_ERRORS as e:
        raise ValueError(f"unknown time zone {name!r}") from e


def _offset(loc: datetime.tzinfo, u: int) -> int:
    off = (_EPOCH + datetime.timedelta(seconds=u)).astimezone(loc).utcoffset()
    return 0 if off is None else int(off.total_seconds())


@dataclasses.dataclass(frozen=True)
class Clock:
    """The calendar fields of a unix time in a zone (Go ``Date``/``Clock``/``Weekday``)."""

    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: int
    weekday: int  # Sunday = 0


def clock(u: int, loc: datetime.tzinfo) -> Clock:
    local = u + _offset(loc, u)
    days, secs = divmod(local, 86400)
    d = datetime.date.fromordinal(days + _EPOCH_ORDINAL)
    return Clock(d.year, d.month, d.day, secs // 3600, secs // 60 % 60, secs % 60, (d.weekday() + 1) % 7)


def date(year: int, month: int, day: int, hour: int, minute: int, second: int, loc: datetime.tzinfo) -> int:
    """Go ``time.Date``: out-of-range fields carry over; a wall time in a DST gap or overlap is
    resolved like Go does (offset at the wall time read as UTC, corrected once)."""
    carry, month0 = divmod(month - 1, 12)
    days = datetime.date(year + carry, month0 + 1, 1).toordinal() - _EPOCH_ORDINAL + day - 1
    local = days * 86400 + hour * 3600 + minute * 60 + second
    return local - _offset(loc, local - _offset(loc, local))


def add_date(u: int, loc: datetime.tzinfo, months: int, days: int) -> int:
    c = clock(u, loc)
    return date(c.year, c.month + months, c.day + days, c.hour, c.minute, c.second, loc)


# -- Go time.ParseDuration --------------------------------------------------------------------

_UNITS = {"ns": 1, "us": 10**3, "\u00b5s": 10**3, "\u03bcs": 10**3, "ms": 10**6, "s": 10**9,
          "m": 60 * 10**9, "h": 3600 * 10**9}
_MAX_U63 = 1 << 63


def parse_duration(s: str) -> int:
    """``time.ParseDuration`` in nanoseconds, e.g. ``1h30m``, ``1.5s``, ``-2m``, ``300ms``."""
    orig = s
    neg = False
    if s and s[0] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise ValueError(f"invalid duration {orig!r}")
    total = 0
    while s:
        if not (s[0] == "." or "0" <= s[0] <= "9"):
            raise ValueError(f"invalid duration {orig!r}")
        i = 0
        v = 0
        while i < len(s) and "0" <= s[i] <= "9":
            v = v * 10 + int(s[i])
            if v > _MAX_U63:
                raise ValueError(f"invalid duration {orig!r}")
            i += 1
        pre = i > 0
        s = s[i:]
        frac, scale, post = 0, 1.0, False
        if s and s[0] == ".":
            s = s[1:]
            i = 0
            overflow = False
            while i < len(s) and "0" <= s[i] <= "9":
                if not overflow:
                    y = frac * 10 + int(s[i])
                    if frac > (_MAX_U63 - 1) // 10 or y > _MAX_U63:
                        overflow = True
                    else:
                        frac = y
                        scale *= 10
                i += 1
            post = i > 0
            s = s[i:]
        if not pre and not post:
            raise ValueError(f"invalid duration {orig!r}")
        i = 0
        while i < len(s) and not (s[i] == "." or "0" <= s[i] <= "9"):
            i += 1
        if i == 0:
            raise ValueError(f"missing unit in duration {orig!r}")
        unit = _UNITS.get(s[:i])
        s = s[i:]
        if unit is None:
            raise ValueError(f"unknown unit in duration {orig!r}")
        if v > _MAX_U63 // unit:
            raise ValueError(f"invalid duration {orig!r}")
        v *= unit
        if frac > 0:
            v += int(float(frac) * (float(unit) / scale))
            if v > _MAX_U63:
                raise ValueError(f"invalid duration {orig!r}")
        total += v
        if total > _MAX_U63:
            raise ValueError(f"invalid duration {orig!r}")
    if neg:
        return -total
    if total > _MAX_U63 - 1:
        raise ValueError(f"invalid duration {orig!r}")
    return total
