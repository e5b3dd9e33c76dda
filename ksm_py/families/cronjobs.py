"""batch/v1 CronJob (KSM ``internal/store/cronjob.go``).

``kube_cronjob_next_schedule_time`` needs the next fire time of the schedule. Upstream parses it
with ``cron.ParseStandard`` of github.com/netresearch/go-cron (v0.15) and asks the schedule for
``Next(lastScheduleTime)``, else ``Next(creationTimestamp)``. That parser is not classic cron, so
it is reproduced here rather than approximated:

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
its DST corrections; the Go calendar operations it relies on (``time.Date`` normalisation and
zone resolution, ``AddDate``, ``Truncate``) are emulated on unix seconds below.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import os
import re
from zoneinfo import ZoneInfo

from ..metric import ALPHA, STABLE
from ._dsl import NAME, NAMESPACE, Body, FamilyFn, Resource, Samples
from ._helpers import created, dig, metadata_families, optional_field, resource_version, unix_or_none

cronjobs = Resource("cronjobs", group="batch", version="v1", kind="CronJob", namespaced=True,
                    identity=[("namespace", NAMESPACE), ("cronjob", NAME)])
family = cronjobs.family

metadata_families(cronjobs, "cronjob", labels_stability=STABLE, annotations_stability=ALPHA)


@family("kube_cronjob_info", "Info about cronjob.", labels=("schedule", "concurrency_policy", "timezone"))
def info(cj: Body) -> Samples:
    tz = dig(cj, "spec", "timeZone")
    yield (("schedule", dig(cj, "spec", "schedule") or ""),
           ("concurrency_policy", dig(cj, "spec", "concurrencyPolicy") or ""),
           ("timezone", "local" if tz is None else tz)), 1


family("kube_cronjob_created", "Unix creation timestamp", labels=())(created)


@family("kube_cronjob_status_active", "Active holds pointers to currently running jobs.", labels=())
def status_active(cj: Body) -> Samples:
    yield (), len(dig(cj, "status", "active") or [])


def _timestamp(*path: str) -> FamilyFn:
    """A family with the unix time at ``path``, only when it is set."""
    def fn(cj: Body) -> Samples:
        ts = unix_or_none(dig(cj, *path))
        if ts is not None:
            yield (), ts
    return fn


family("kube_cronjob_status_last_schedule_time",
       "LastScheduleTime keeps information of when was the last time the job was successfully scheduled.", labels=())(
    _timestamp("status", "lastScheduleTime"))
family("kube_cronjob_status_last_successful_time",
       "LastSuccessfulTime keeps information of when was the last time the job was completed successfully.", labels=())(
    _timestamp("status", "lastSuccessfulTime"))


def _suspended(cj: Body) -> bool:
    return dig(cj, "spec", "suspend") is True


@family("kube_cronjob_spec_suspend", "Suspend flag tells the controller to suspend subsequent executions.", labels=())
def spec_suspend(cj: Body) -> Samples:
    yield (), _suspended(cj)


family("kube_cronjob_spec_starting_deadline_seconds",
       "Deadline in seconds for starting the job if it misses scheduled time for any reason.", labels=())(
    optional_field("spec", "startingDeadlineSeconds"))


@family("kube_cronjob_next_schedule_time",
        "Next time the cronjob should be scheduled. The time after lastScheduleTime, or after the cron job's creation "
        "time if it's never been scheduled. Use this to determine if the job is delayed.", labels=())
def next_schedule_time(cj: Body) -> Samples:
    sched = _schedule(cj)
    if isinstance(sched, str) or _suspended(cj):
        return
    # metav1.Time.IsZero: a nil pointer, an absent field or 0001-01-01T00:00:00Z.
    after = _non_zero(unix_or_none(dig(cj, "status", "lastScheduleTime")))
    if after is None:
        after = _non_zero(unix_or_none(dig(cj, "metadata", "creationTimestamp")))
    if after is None:
        return
    nxt = sched.next(after)
    yield (), GO_ZERO_TIME if nxt is None else nxt


@family("kube_cronjob_schedule_invalid",
        "Emitted with value 1 for cronjobs whose schedule, in its configured timezone, cannot be parsed.",
        stability=ALPHA, labels=())
def schedule_invalid(cj: Body) -> Samples:
    if isinstance(_schedule(cj), str):
        yield (), 1


family("kube_cronjob_metadata_resource_version",
       "Resource version representing a specific version of the cronjob.", labels=())(resource_version)
family("kube_cronjob_spec_successful_job_history_limit",
       "Successful job history limit tells the controller how many completed jobs should be preserved.",
       stability=ALPHA, labels=())(optional_field("spec", "successfulJobsHistoryLimit"))
family("kube_cronjob_spec_failed_job_history_limit",
       "Failed job history limit tells the controller how many failed jobs should be preserved.",
       stability=ALPHA, labels=())(optional_field("spec", "failedJobsHistoryLimit"))


def _schedule(cj: Body) -> Schedule | str:
    """KSM ``parseSchedule``: the parsed schedule, or the parse error as a string."""
    spec = dig(cj, "spec", "schedule") or ""
    tz = dig(cj, "spec", "timeZone")
    if tz is not None:
        spec = f"CRON_TZ={tz} {spec}"
    return parse_standard(spec)


def _non_zero(ts: int | None) -> int | None:
    return None if ts is None or ts == GO_ZERO_TIME else ts


# -- Go time emulation ------------------------------------------------------------------------

# time.Time{}.Unix(): 0001-01-01T00:00:00Z.
GO_ZERO_TIME = -62135596800
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()
_UTC: datetime.tzinfo = datetime.UTC
_ZONE_ERRORS = (KeyError, ValueError, OSError)


@functools.lru_cache(maxsize=8)
def _local_zone_for(tz_env: str | None) -> datetime.tzinfo:
    """Go ``initLocal``: $TZ (unset: /etc/localtime, empty: UTC), UTC when it cannot be loaded."""
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


def _load_location(name: str) -> datetime.tzinfo | None:
    """Go ``time.LoadLocation``; None stands for ``time.Local``."""
    if name in ("", "UTC"):
        return _UTC
    if name == "Local":
        return None
    try:
        return ZoneInfo(name)
    except _ZONE_ERRORS as e:
        raise ValueError(f"unknown time zone {name!r}") from e


def _offset(loc: datetime.tzinfo, u: int) -> int:
    off = (_EPOCH + datetime.timedelta(seconds=u)).astimezone(loc).utcoffset()
    return 0 if off is None else int(off.total_seconds())


@dataclasses.dataclass(frozen=True)
class _Clock:
    """The calendar fields of a unix time in a zone (Go ``Date``/``Clock``/``Weekday``)."""

    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: int
    weekday: int  # Sunday = 0


def _clock(u: int, loc: datetime.tzinfo) -> _Clock:
    local = u + _offset(loc, u)
    days, secs = divmod(local, 86400)
    d = datetime.date.fromordinal(days + _EPOCH_ORDINAL)
    return _Clock(d.year, d.month, d.day, secs // 3600, secs // 60 % 60, secs % 60, (d.weekday() + 1) % 7)


def _date(year: int, month: int, day: int, hour: int, minute: int, second: int, loc: datetime.tzinfo) -> int:
    """Go ``time.Date``: out-of-range fields carry over; a wall time in a DST gap or overlap is
    resolved like Go does (offset at the wall time read as UTC, corrected once)."""
    carry, month0 = divmod(month - 1, 12)
    days = datetime.date(year + carry, month0 + 1, 1).toordinal() - _EPOCH_ORDINAL + day - 1
    local = days * 86400 + hour * 3600 + minute * 60 + second
    return local - _offset(loc, local - _offset(loc, local))


def _add_date(u: int, loc: datetime.tzinfo, months: int, days: int) -> int:
    c = _clock(u, loc)
    return _date(c.year, c.month + months, c.day + days, c.hour, c.minute, c.second, loc)


# -- go-cron schedules ------------------------------------------------------------------------

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
        year_limit = _clock(t, loc).year + _SEARCH_YEARS
        while True:  # go-cron's WRAP label
            c = _clock(t, loc)
            if c.year > year_limit:
                return None
            wrapped = False
            while not _bit(c.month, self.month):
                if not added:
                    added = True
                    t = _date(c.year, c.month, 1, 0, 0, 0, loc)
                t = _add_date(t, loc, 1, 0)
                c = _clock(t, loc)
                if c.month == 1:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not (_bit(c.day, self.dom) and _bit(c.weekday, self.dow)):
                if not added:
                    added = True
                    t = _date(c.year, c.month, c.day, 0, 0, 0, loc)
                t = _add_date(t, loc, 0, 1)
                c = _clock(t, loc)
                # Midnight may not exist on a DST day: move to the nearest midnight.
                if c.hour != 0:
                    t += (24 - c.hour) * 3600 if c.hour > 12 else -c.hour * 3600
                    c = _clock(t, loc)
                if c.day == 1:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not _bit(c.hour, self.hour):
                if not added:
                    added = True
                    t = _date(c.year, c.month, c.day, c.hour, 0, 0, loc)
                prev_hour = c.hour
                t += 3600
                c = _clock(t, loc)
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
                c = _clock(t, loc)
                if c.minute == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            # go-cron does not keep advanceSecond's ``added``, so neither does this loop.
            while not _bit(c.second, self.second):
                t += 1
                c = _clock(t, loc)
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
        ns = go_parse_duration(spec[len("@every "):])
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
    loc = _load_location(name)
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


# -- Go time.ParseDuration --------------------------------------------------------------------

_UNITS = {"ns": 1, "us": 10**3, "\u00b5s": 10**3, "\u03bcs": 10**3, "ms": 10**6, "s": 10**9,
          "m": 60 * 10**9, "h": 3600 * 10**9}
_MAX_U63 = 1 << 63


def go_parse_duration(s: str) -> int:
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
