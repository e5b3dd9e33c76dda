"""kube_job_* families (upstream job_test.go, plus edge cases)."""

from __future__ import annotations

import pytest

from ksm_py.families import RESOURCES

from ._util import Case, check

HEADERS = """
    # HELP kube_job_annotations Kubernetes annotations converted to Prometheus labels.
    # TYPE kube_job_annotations gauge
    # HELP kube_job_labels [STABLE] Kubernetes labels converted to Prometheus labels.
    # TYPE kube_job_labels gauge
    # HELP kube_job_info [STABLE] Information about job.
    # TYPE kube_job_info gauge
    # HELP kube_job_created [STABLE] Unix creation timestamp
    # TYPE kube_job_created gauge
    # HELP kube_job_spec_parallelism [STABLE] The maximum desired number of pods the job should run at any given time.
    # TYPE kube_job_spec_parallelism gauge
    # HELP kube_job_spec_completions [STABLE] The desired number of successfully finished pods the job should be run with.
    # TYPE kube_job_spec_completions gauge
    # HELP kube_job_spec_active_deadline_seconds [STABLE] The duration in seconds relative to the startTime that the job may be active before the system tries to terminate it.
    # TYPE kube_job_spec_active_deadline_seconds gauge
    # HELP kube_job_status_succeeded [STABLE] The number of pods which reached Phase Succeeded.
    # TYPE kube_job_status_succeeded gauge
    # HELP kube_job_status_failed [STABLE] The number of pods which reached Phase Failed and the reason for failure.
    # TYPE kube_job_status_failed gauge
    # HELP kube_job_status_active [STABLE] The number of actively running pods.
    # TYPE kube_job_status_active gauge
    # HELP kube_job_status_ready The number of ready pods that belong to this Job.
    # TYPE kube_job_status_ready gauge
    # HELP kube_job_complete [STABLE] The job has completed its execution.
    # TYPE kube_job_complete gauge
    # HELP kube_job_failed [STABLE] The job has failed its execution.
    # TYPE kube_job_failed gauge
    # HELP kube_job_status_start_time [STABLE] StartTime represents time when the job was acknowledged by the Job Manager.
    # TYPE kube_job_status_start_time gauge
    # HELP kube_job_status_completion_time [STABLE] CompletionTime represents time when the job was completed.
    # TYPE kube_job_status_completion_time gauge
    # HELP kube_job_status_suspended The number of pods which reached Phase Suspended.
    # TYPE kube_job_status_suspended gauge
    # HELP kube_job_owner [STABLE] Information about the Job's owner.
    # TYPE kube_job_owner gauge
"""

L = 'namespace="ns1",job_name="job1"'


def headers(*families: str) -> str:
    """The HELP/TYPE pairs of ``families``, taken from HEADERS."""
    return "\n".join(line for line in HEADERS.splitlines() if line.split()[2:3] and line.split()[2] in families)


CASES = [
    Case(
        id="running",
        obj={"metadata": {"name": "job1", "namespace": "ns1", "creationTimestamp": "2017-08-01T06:30:18Z",
                          "ownerReferences": [{"kind": "CronJob", "name": "cj", "controller": True}]},
             "spec": {"parallelism": 1, "completions": 1, "activeDeadlineSeconds": 900},
             "status": {"active": 1, "ready": 1, "startTime": "2017-08-01T06:30:28Z"}},
        want=HEADERS + f"""
            kube_job_info{{{L}}} 1
            kube_job_created{{{L}}} 1.501569018e+09
            kube_job_spec_parallelism{{{L}}} 1
            kube_job_spec_completions{{{L}}} 1
            kube_job_spec_active_deadline_seconds{{{L}}} 900
            kube_job_status_succeeded{{{L}}} 0
            kube_job_status_failed{{{L}}} 0
            kube_job_status_active{{{L}}} 1
            kube_job_status_ready{{{L}}} 1
            kube_job_status_start_time{{{L}}} 1.501569028e+09
            kube_job_owner{{{L},owner_kind="CronJob",owner_name="cj",owner_is_controller="true"}} 1
        """,
    ),
    Case(
        id="succeeded",
        obj={"metadata": {"name": "job1", "namespace": "ns1"},
             "spec": {"parallelism": 0, "completions": 0},
             "status": {"succeeded": 1, "startTime": "2017-08-01T06:30:18Z",
                        "completionTime": "2017-08-01T06:31:18Z",
                        "conditions": [{"type": "Complete", "status": "True"}]}},
        want=HEADERS + f"""
            kube_job_info{{{L}}} 1
            kube_job_spec_parallelism{{{L}}} 0
            kube_job_spec_completions{{{L}}} 0
            kube_job_status_succeeded{{{L}}} 1
            kube_job_status_failed{{{L}}} 0
            kube_job_status_active{{{L}}} 0
            kube_job_status_ready{{{L}}} 0
            kube_job_complete{{{L},condition="true"}} 1
            kube_job_complete{{{L},condition="false"}} 0
            kube_job_complete{{{L},condition="unknown"}} 0
            kube_job_status_start_time{{{L}}} 1.501569018e+09
            kube_job_status_completion_time{{{L}}} 1.501569078e+09
            kube_job_owner{{{L},owner_kind="",owner_name="",owner_is_controller=""}} 1
        """,
    ),
    Case(
        id="failed-known-reason",
        obj={"metadata": {"name": "job1", "namespace": "ns1"},
             "status": {"failed": 2, "conditions": [
                 {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"},
                 {"type": "Complete", "status": "Unknown"}]}},
        families=["kube_job_status_failed", "kube_job_failed", "kube_job_complete"],
        want=headers("kube_job_status_failed", "kube_job_failed", "kube_job_complete") + f"""
            kube_job_status_failed{{{L},reason="BackoffLimitExceeded"}} 1
            kube_job_status_failed{{{L},reason="DeadlineExceeded"}} 0
            kube_job_status_failed{{{L},reason="Evicted"}} 0
            kube_job_failed{{{L},condition="true"}} 1
            kube_job_failed{{{L},condition="false"}} 0
            kube_job_failed{{{L},condition="unknown"}} 0
            kube_job_complete{{{L},condition="true"}} 0
            kube_job_complete{{{L},condition="false"}} 0
            kube_job_complete{{{L},condition="unknown"}} 1
        """,
    ),
    Case(
        # An unrecognised reason: the three known reasons at 0 plus reason="" carrying the count.
        id="failed-unknown-reason",
        obj={"metadata": {"name": "job1", "namespace": "ns1"},
             "status": {"failed": 3, "conditions": [{"type": "Failed", "status": "True", "reason": "PodFailurePolicy"}]}},
        families=["kube_job_status_failed"],
        want=headers("kube_job_status_failed") + f"""
            kube_job_status_failed{{{L},reason="BackoffLimitExceeded"}} 0
            kube_job_status_failed{{{L},reason="DeadlineExceeded"}} 0
            kube_job_status_failed{{{L},reason="Evicted"}} 0
            kube_job_status_failed{{{L},reason=""}} 3
        """,
    ),
    Case(
        id="failed-without-condition",
        obj={"metadata": {"name": "job1", "namespace": "ns1"}, "status": {"failed": 1}},
        families=["kube_job_status_failed", "kube_job_failed"],
        want=headers("kube_job_status_failed", "kube_job_failed") + f"""
            kube_job_status_failed{{{L},reason=""}} 1
        """,
    ),
    Case(
        id="suspended",
        obj={"metadata": {"name": "job1", "namespace": "ns1"},
             "status": {"conditions": [{"type": "Suspended", "status": "True"},
                                       {"type": "Suspended", "status": "False"}]}},
        families=["kube_job_status_suspended"],
        want=headers("kube_job_status_suspended") + f"""
            kube_job_status_suspended{{{L}}} 1
            kube_job_status_suspended{{{L}}} 0
        """,
    ),
    Case(
        id="owner-without-controller-flag",
        obj={"metadata": {"name": "job1", "namespace": "ns1", "ownerReferences": [{"kind": "Workflow", "name": "w"}]}},
        families=["kube_job_owner"],
        want=headers("kube_job_owner") + f"""
            kube_job_owner{{{L},owner_kind="Workflow",owner_name="w",owner_is_controller="false"}} 1
        """,
    ),
    Case(
        id="allowlists-sanitised-with-conflict",
        obj={"metadata": {"name": "job1", "namespace": "ns1",
                          "labels": {"batch.kubernetes.io/job-name": "job1", "job-name": "a", "job_name": "b"},
                          "annotations": {"batch.kubernetes.io/job-tracking": ""}}},
        labels_allowlist=["*"],
        annotations_allowlist=["batch.kubernetes.io/*"],
        families=["kube_job_labels", "kube_job_annotations"],
        want=f"""
            # HELP kube_job_annotations Kubernetes annotations converted to Prometheus labels.
            # TYPE kube_job_annotations gauge
            # HELP kube_job_labels [STABLE] Kubernetes labels converted to Prometheus labels.
            # TYPE kube_job_labels gauge
            kube_job_annotations{{{L},annotation_batch_kubernetes_io_job_tracking=""}} 1
            kube_job_labels{{{L},label_batch_kubernetes_io_job_name="job1",label_job_name_conflict1="a",label_job_name_conflict2="b"}} 1
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_jobs(case: Case) -> None:
    check("jobs", case)


def test_family_order() -> None:
    assert [f.name for f in RESOURCES["jobs"].families] == [
        "kube_job_annotations",
        "kube_job_labels",
        "kube_job_info",
        "kube_job_created",
        "kube_job_spec_parallelism",
        "kube_job_spec_completions",
        "kube_job_spec_active_deadline_seconds",
        "kube_job_status_succeeded",
        "kube_job_status_failed",
        "kube_job_status_active",
        "kube_job_status_ready",
        "kube_job_complete",
        "kube_job_failed",
        "kube_job_status_start_time",
        "kube_job_status_completion_time",
        "kube_job_status_suspended",
        "kube_job_owner",
    ]
