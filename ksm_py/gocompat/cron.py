"""go-cron (github.com/netresearch/go-cron v0.15) as kube-state-metrics uses it: ``ParseStandard``
and ``Schedule.Next``, for ``kube_cronjob_next_schedule_time``.

That parser is not classic cron, so it is reproduced rather than approximated:

* five fields (minute hour dom month dow), no seconds, no year, no ``H``/``L``/``W``/``#``;
  ``?`` is ``*``; names (``jan``, ``mon``) case-insensitive; ``7`` is Sunday;
* a range may wrap (``22-2``, ``fri-mon``); ``N/step`` means ``N-max/step``; a step must be
  smaller than the range it steps over (``*/60`` in minutes is an error);
* day-of-month AND day-of-week must both match (go-cron's default; robfig/cron used OR);
* descriptors ``@yearly @annually @monthly @weekly @daily @midnight @hourly``,
  ``@every <Go duration>`` (at least 1s, whole seconds) and ``@triggered @manual @none``
  (never fire: ``Next`` is Go's zero time);
* ``TZ=<zone> `` / ``CRON_TZ=<zone> `` prefix (KSM adds ``CRON_TZ=`` from ``spec.timeZone``);
  without it the schedule runs in the process' local zone (Go ``time.Local``);
* ``Next`` gives up after five years and returns the zero time, which KSM exports as is.

``Next`` walks month/day/hour/minute the way go-cron does on Go ``time.Time`` values, including
its DST corrections, with the Go calendar operations of ``gocompat.times``.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import re

from .times import add_date, clock, date, load_location, local_zone, parse_duration

_SEARCH_YEARS = 5


def _bit(value: int, bits: int) -> bool:
    return bool(bits >> value & 1)


@dataclasses.dataclass(frozen=True)
class SpecSchedule:
    minute: int
    hour: int
    dom: int
    month: int
    dow: int
    loc: datetime.tzinfo | None  # None: time.Local
    second: int = 1

    def _never(self) -> bool:
        return not (self.second & _ALL_SECONDS and self.minute & _ALL_SECONDS and self.hour & _ALL_HOURS
                    and self.dom & _ALL_DOM and self.month & _ALL_MONTHS and self.dow & _ALL_DOW)

    def next(self, after: int) -> int | None:
        """``SpecSchedule.Next``: the first activation strictly after ``after``; None = zero time."""
        if self._never():
            # An empty field can never match; go-cron would search five years to find that out.
            return None
        loc = local_zone() if self.loc is None else self.loc
        t = after + 1
        added = False
        year_limit = clock(t, loc).year + _SEARCH_YEARS
        while True:  # go-cron's WRAP label
            c = clock(t, loc)
            if c.year > year_limit:
                return None
            wrapped = False
            while not _bit(c.month, self.month):
                if not added:
                    added = True
                    t = date(c.year, c.month, 1, 0, 0, 0, loc)
                t = add_date(t, loc, 1, 0)
                c = clock(t, loc)
                if c.month == 1:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not (_bit(c.day, self.dom) and _bit(c.weekday, self.dow)):
                if not added:
                    added = True
                    t = date(c.year, c.month, c.day, 0, 0, 0, loc)
                t = add_date(t, loc, 0, 1)
                c = clock(t, loc)
                # Midnight may not exist on a DST day: move to the nearest midnight.
                if c.hour != 0:
                    t += (24 - c.hour) * 3600 if c.hour > 12 else -c.hour * 3600
                    c = clock(t, loc)
                if c.day == 1:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not _bit(c.hour, self.hour):
                if not added:
                    added = True
                    t = date(c.year, c.month, c.day, c.hour, 0, 0, loc)
                prev_hour = c.hour
                t += 3600
                c = clock(t, loc)
                # ISC cron: a wanted hour skipped by spring-forward runs right after the gap.
                if c.hour - prev_hour == 2 and _bit(c.hour - 1, self.hour):
                    break
                if c.hour == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not _bit(c.minute, self.minute):
                if not added:
                    added = True
                    t -= t % 60
                t += 60
                c = clock(t, loc)
                if c.minute == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            # go-cron does not keep advanceSecond's ``added``, so neither does this loop.
            while not _bit(c.second, self.second):
                t += 1
                c = clock(t, loc)
                if c.second == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            return t


@dataclasses.dataclass(frozen=True)
class EverySchedule:
    """``@every``: a constant delay in whole seconds."""

    delay: int

    def next(self, after: int) -> int | None:
        return after + self.delay


@dataclasses.dataclass(frozen=True)
class TriggeredSchedule:
    """``@triggered``/``@manual``/``@none``: never fires on its own."""

    def next(self, after: int) -> int | None:
        return None


Schedule = SpecSchedule | EverySchedule | TriggeredSchedule


@dataclasses.dataclass(frozen=True)
class _Bounds:
    min: int
    max: int
    names: dict[str, int] | None = None


_MINUTES = _Bounds(0, 59)
_HOURS = _Bounds(0, 23)
_DOM = _Bounds(1, 31)
_MONTHS = _Bounds(1, 12, {m: i + 1 for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))})
_DOW = _Bounds(0, 7, {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))})

_ALL_SECONDS = (1 << 60) - 1
_ALL_HOURS = (1 << 24) - 1
_ALL_DOM = ((1 << 32) - 1) & ~1
_ALL_MONTHS = ((1 << 13) - 1) & ~1
_ALL_DOW = (1 << 7) - 1
_U64 = 1 << 64
_MAX_SPEC_LENGTH = 1024

# Go unicode.IsSpace, used by strings.Fields and strings.TrimSpace.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
            "\u2028\u2029\u202f\u205f\u3000"
_GO_SPACES = re.compile(f"[{_GO_SPACE}]+")
_INT = re.compile(r"[+-]?[0-9]+")
_TZ_CHARS = re.compile(r"[A-Za-z0-9/_\-+:]+")


def _atoi(s: str) -> int:
    """``mustParseInt``: strconv.Atoi (optional sign, ASCII digits, int64), then non-negative."""
    if not _INT.fullmatch(s):
        raise ValueError(f"failed to parse int from {s!r}")
    n = int(s)
    if not -(1 << 63) <= n < 1 << 63:
        raise ValueError(f"value out of range: {s!r}")
    if n < 0:
        raise ValueError(f"negative number ({n}) not allowed: {s!r}")
    return n


def _int_or_name(s: str, b: _Bounds) -> int:
    if b.names is not None and s.lower() in b.names:
        return b.names[s.lower()]
    return _atoi(s)


def _range_bits(expr: str, b: _Bounds) -> int:
    """go-cron ``getRange``: ``*``, ``?``, ``n``, ``a-b``, each with an optional ``/step``."""
    range_and_step = expr.split("/")
    low_high = range_and_step[0].split("-")
    if low_high[0] in ("*", "?"):
        start, end = b.min, b.max
    else:
        start = _int_or_name(low_high[0], b)
        if len(low_high) == 1:
            end = start
        elif len(low_high) == 2:
            end = _int_or_name(low_high[1], b)
        else:
            raise ValueError(f"too many hyphens: {expr!r}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _atoi(range_and_step[1])
        if len(low_high) == 1:
            end = b.max
    else:
        raise ValueError(f"too many slashes: {expr!r}")
    if start < b.min or end > b.max or step == 0:
        raise ValueError(f"range out of bounds: {expr!r}")
    # Computed in uint64 like go-cron: a start above max in ``N/step`` wraps around.
    if start > end:
        size = ((b.max - start + 1) + (end - b.min + 1)) % _U64
    else:
        size = end - start + 1
    if step > 1 and step >= size:
        raise ValueError(f"step ({step}) must be less than range size ({size}): {expr!r}")
    if start <= end:
        return sum(1 << v for v in range(start, end + 1, step))
    # A wrapping range (22-2) continues past max from min.
    width = b.max - b.min + 1
    bits = 0
    for v in range(start, end + width + 1, step):
        bits |= 1 << (v if v <= b.max else (v - b.min) % width + b.min)
    return bits


def _field_bits(field: str, b: _Bounds) -> int:
    # strings.FieldsFunc on ',' drops empty items, so ",," is a valid field that matches nothing.
    bits = 0
    for expr in field.split(","):
        if expr:
            bits |= _range_bits(expr, b)
    return bits


def _normalize_dow(bits: int) -> int:
    return (bits | 1) & ~(1 << 7) if bits & 1 << 7 else bits


_DESCRIPTORS = {
    # hour, dom, month, dow
    "@yearly": (1, 1 << 1, 1 << 1, _ALL_DOW),
    "@annually": (1, 1 << 1, 1 << 1, _ALL_DOW),
    "@monthly": (1, 1 << 1, _ALL_MONTHS, _ALL_DOW),
    "@weekly": (1, _ALL_DOM, _ALL_MONTHS, 1),
    "@daily": (1, _ALL_DOM, _ALL_MONTHS, _ALL_DOW),
    "@midnight": (1, _ALL_DOM, _ALL_MONTHS, _ALL_DOW),
    "@hourly": (_ALL_HOURS, _ALL_DOM, _ALL_MONTHS, _ALL_DOW),
}


def _descriptor(spec: str, loc: datetime.tzinfo | None) -> Schedule:
    if spec in _DESCRIPTORS:
        hour, dom, month, dow = _DESCRIPTORS[spec]
        return SpecSchedule(minute=1, hour=hour, dom=dom, month=month, dow=dow, loc=loc)
    if spec in ("@triggered", "@manual", "@none"):
        return TriggeredSchedule()
    if spec.startswith("@every "):
        ns = parse_duration(spec[len("@every "):])
        if ns < 10**9:
            raise ValueError(f"@every duration must be at least 1s: {spec!r}")
        return EverySchedule(ns // 10**9)
    raise ValueError(f"unrecognized descriptor: {spec!r}")


def _timezone(spec: str) -> tuple[datetime.tzinfo | None, str]:
    """go-cron ``parseTimezone``: strip a ``TZ=``/``CRON_TZ=`` prefix and load the zone."""
    if not spec.startswith(("TZ=", "CRON_TZ=")):
        return None, spec
    space = spec.find(" ")
    if space == -1:
        raise ValueError(f"missing fields after timezone in spec {spec!r}")
    name = spec[spec.find("=") + 1:space]
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "\"'":
        name = name[1:-1]
    if not name or len(name.encode()) > 64 or not _TZ_CHARS.fullmatch(name):
        raise ValueError(f"invalid timezone {name!r}")
    # Go refuses these before touching the zone database.
    if ".." in name or name.startswith("/"):
        raise ValueError(f"unknown time zone {name!r}")
    loc = load_location(name)
    rest = spec[space:].strip(_GO_SPACE)
    if not rest:
        raise ValueError(f"missing fields after timezone {name!r}")
    return loc, rest


@functools.lru_cache(maxsize=1024)
def parse_standard(spec: str) -> Schedule | str:
    """``cron.ParseStandard``; a parse error is returned as its message."""
    try:
        return _parse_standard(spec)
    except ValueError as e:
        return str(e) or "invalid schedule"


def _parse_standard(spec: str) -> Schedule:
    if not spec:
        raise ValueError("empty spec string")
    if len(spec.encode()) > _MAX_SPEC_LENGTH:
        raise ValueError("spec too long")
    loc, spec = _timezone(spec)
    if spec.startswith("@"):
        return _descriptor(spec, loc)
    fields = [f for f in _GO_SPACES.split(spec) if f]
    if len(fields) != 5:
        raise ValueError(f"expected exactly 5 fields, found {len(fields)}: {fields}")
    if any(part.startswith("H") for f in fields for part in f.split(",")):
        raise ValueError("h expressions require hash option to be enabled")
    # L/W in day-of-month and # in day-of-week need options ParseStandard does not set; they fail
    # as ordinary numbers below just as they would fail the option check.
    minute, hour, dom, month, dow = fields
    return SpecSchedule(minute=_field_bits(minute, _MINUTES), hour=_field_bits(hour, _HOURS),
                        dom=_field_bits(dom, _DOM), month=_field_bits(month, _MONTHS),
                        dow=_normalize_dow(_field_bits(dow, _DOW)), loc=loc)


