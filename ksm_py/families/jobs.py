"""batch/v1 Job (KSM ``internal/store/job.go``)."""

from __future__ import annotations

from ..metric import ALPHA, STABLE
from ..shape import fields, object_shape
from ._dsl import NAME, NAMESPACE, Body, FamilyFn, Resource, Samples
from ._helpers import (
    CONDITION_STATUSES,
    created,
    dig,
    field,
    metadata_families,
    optional_field,
    owner_samples,
    unix_or_none,
)

jobs = Resource("jobs", group="batch", version="v1", kind="Job", namespaced=True,
                identity=[("namespace", NAMESPACE), ("job_name", NAME)])
family = jobs.family
# No family reads the pod template:
# it is skipped while parsing (tests/families/_util.check).
jobs.reads = object_shape(spec=fields("activeDeadlineSeconds", "backoffLimit", "backoffLimitPerIndex", "completionMode",
                                       "completions", "managedBy", "manualSelector", "maxFailedIndexes", "parallelism",
                                       "podFailurePolicy", "podReplacementPolicy", "scheduling", "selector",
                                       "successPolicy", "suspend", "ttlSecondsAfterFinished"))

metadata_families(jobs, "job", labels_stability=STABLE, annotations_stability=ALPHA)


@family("kube_job_info", "Information about job.", labels=())
def info(_: Body) -> Samples:
    yield (), 1


family("kube_job_created", "Unix creation timestamp", labels=())(created)
family("kube_job_spec_parallelism", "The maximum desired number of pods the job should run at any given time.",
       labels=())(
    optional_field("spec", "parallelism"))
family("kube_job_spec_completions", "The desired number of successfully finished pods the job should be run with.",
       labels=())(
    optional_field("spec", "completions"))
family("kube_job_spec_active_deadline_seconds",
       "The duration in seconds relative to the startTime that the job may be active before the system tries to "
       "terminate it.", labels=())(optional_field("spec", "activeDeadlineSeconds"))
family("kube_job_status_succeeded", "The number of pods which reached Phase Succeeded.",
       labels=())(field("status", "succeeded"))

_FAILURE_REASONS = ("BackoffLimitExceeded", "DeadlineExceeded", "Evicted")


def _conditions(j: Body, kind: str) -> list[Body]:
    return [c for c in dig(j, "status", "conditions") or [] if c.get("type") == kind]


@family("kube_job_status_failed", "The number of pods which reached Phase Failed and the reason for failure.",
        labels=("reason",))
def status_failed(j: Body) -> Samples:
    failed = dig(j, "status", "failed") or 0
    if failed == 0:
        yield (), 0
        return
    known = False
    for c in _conditions(j, "Failed"):
        reason = c.get("reason") or ""
        for r in _FAILURE_REASONS:
            known = known or reason == r
            yield {"reason": r}, reason == r
    # Failed pods whose condition names no known reason are reported under reason="".
    if not known:
        yield {"reason": ""}, failed


family("kube_job_status_active", "The number of actively running pods.", labels=())(field("status", "active"))
family("kube_job_status_ready", "The number of ready pods that belong to this Job.", stability=ALPHA, labels=())(
    field("status", "ready"))


def _condition_family(j: Body, kind: str) -> Samples:
    # Upstream relabels addConditionMetrics' "status" key as "condition".
    for c in _conditions(j, kind):
        status = c.get("status")
        for label, value in CONDITION_STATUSES:
            yield {"condition": label}, status == value


@family("kube_job_complete", "The job has completed its execution.", labels=("condition",))
def complete(j: Body) -> Samples:
    return _condition_family(j, "Complete")


@family("kube_job_failed", "The job has failed its execution.", labels=("condition",))
def failed(j: Body) -> Samples:
    return _condition_family(j, "Failed")


def _timestamp(*path: str) -> FamilyFn:
    """A family with the unix time at ``path``, only when it is set."""
    def fn(j: Body) -> Samples:
        ts = unix_or_none(dig(j, *path))
        if ts is not None:
            yield (), ts
    return fn


family("kube_job_status_start_time",
       "StartTime represents time when the job was acknowledged by the Job Manager.",
       labels=())(_timestamp("status", "startTime"))
family("kube_job_status_completion_time", "CompletionTime represents time when the job was completed.", labels=())(
    _timestamp("status", "completionTime"))


@family("kube_job_status_suspended", "The number of pods which reached Phase Suspended.", stability=ALPHA, labels=())
def status_suspended(j: Body) -> Samples:
    for c in _conditions(j, "Suspended"):
        yield (), c.get("status") == "True"


@family("kube_job_owner", "Information about the Job's owner.",
        labels=("owner_kind", "owner_name", "owner_is_controller"))
def owner(j: Body) -> Samples:
    return owner_samples(j)
