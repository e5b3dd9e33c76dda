"""batch/v1 CronJob (KSM ``internal/store/cronjob.go``).

``kube_cronjob_next_schedule_time`` needs the next fire time of the schedule: upstream parses it
with go-cron's ``ParseStandard`` and asks ``Next(lastScheduleTime)``, else
``Next(creationTimestamp)``; both are reproduced in ``gocompat.cron``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..gocompat.times import ZERO_TIME
from ..metric import ALPHA, STABLE
from ..shape import fields, object_shape
from ._dsl import NAME, NAMESPACE, Body, FamilyFn, Resource, Samples
from ._helpers import created, dig, metadata_families, optional_field, resource_version, unix_or_none

if TYPE_CHECKING:
    from ..gocompat.cron import Schedule

cronjobs = Resource("cronjobs", group="batch", version="v1", kind="CronJob", namespaced=True,
                    identity=[("namespace", NAMESPACE), ("cronjob", NAME)])
family = cronjobs.family
# No family reads the job template:
# it is skipped while parsing (tests/families/_util.check).
cronjobs.reads = object_shape(spec=fields("concurrencyPolicy", "failedJobsHistoryLimit", "schedule", "startingDeadlineSeconds",
                                           "successfulJobsHistoryLimit", "suspend", "timeZone"))

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
    yield (), ZERO_TIME if nxt is None else nxt


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
    # Imported at the first CronJob, not at start-up: the parser and its tables cost 3 ms of CPU
    # at every start, and many clusters have no CronJob.
    from ..gocompat.cron import parse_standard

    spec = dig(cj, "spec", "schedule") or ""
    tz = dig(cj, "spec", "timeZone")
    if tz is not None:
        spec = f"CRON_TZ={tz} {spec}"
    return parse_standard(spec)


def _non_zero(ts: int | None) -> int | None:
    return None if ts is None or ts == ZERO_TIME else ts
