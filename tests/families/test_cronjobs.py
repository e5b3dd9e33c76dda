"""kube_cronjob_* families (upstream cronjob_test.go, plus edge cases) and the go-cron emulation."""

from __future__ import annotations

import pytest

from ksm_py.families import RESOURCES
from ksm_py.gocompat.cron import parse_standard
from ksm_py.gocompat.times import ZERO_TIME as GO_ZERO_TIME
from ksm_py.gocompat.times import parse_duration as go_parse_duration

from ._util import Case, check

HEADERS = """
    # HELP kube_cronjob_annotations Kubernetes annotations converted to Prometheus labels.
    # TYPE kube_cronjob_annotations gauge
    # HELP kube_cronjob_labels [STABLE] Kubernetes labels converted to Prometheus labels.
    # TYPE kube_cronjob_labels gauge
    # HELP kube_cronjob_info [STABLE] Info about cronjob.
    # TYPE kube_cronjob_info gauge
    # HELP kube_cronjob_created [STABLE] Unix creation timestamp
    # TYPE kube_cronjob_created gauge
    # HELP kube_cronjob_status_active [STABLE] Active holds pointers to currently running jobs.
    # TYPE kube_cronjob_status_active gauge
    # HELP kube_cronjob_status_last_schedule_time [STABLE] LastScheduleTime keeps information of when was the last time the job was successfully scheduled.
    # TYPE kube_cronjob_status_last_schedule_time gauge
    # HELP kube_cronjob_status_last_successful_time [STABLE] LastSuccessfulTime keeps information of when was the last time the job was completed successfully.
    # TYPE kube_cronjob_status_last_successful_time gauge
    # HELP kube_cronjob_spec_suspend [STABLE] Suspend flag tells the controller to suspend subsequent executions.
    # TYPE kube_cronjob_spec_suspend gauge
    # HELP kube_cronjob_spec_starting_deadline_seconds [STABLE] Deadline in seconds for starting the job if it misses scheduled time for any reason.
    # TYPE kube_cronjob_spec_starting_deadline_seconds gauge
    # HELP kube_cronjob_next_schedule_time [STABLE] Next time the cronjob should be scheduled. The time after lastScheduleTime, or after the cron job's creation time if it's never been scheduled. Use this to determine if the job is delayed.
    # TYPE kube_cronjob_next_schedule_time gauge
    # HELP kube_cronjob_schedule_invalid Emitted with value 1 for cronjobs whose schedule, in its configured timezone, cannot be parsed.
    # TYPE kube_cronjob_schedule_invalid gauge
    # HELP kube_cronjob_metadata_resource_version [STABLE] Resource version representing a specific version of the cronjob.
    # TYPE kube_cronjob_metadata_resource_version gauge
    # HELP kube_cronjob_spec_successful_job_history_limit Successful job history limit tells the controller how many completed jobs should be preserved.
    # TYPE kube_cronjob_spec_successful_job_history_limit gauge
    # HELP kube_cronjob_spec_failed_job_history_limit Failed job history limit tells the controller how many failed jobs should be preserved.
    # TYPE kube_cronjob_spec_failed_job_history_limit gauge
"""

NEXT = "kube_cronjob_next_schedule_time"
INVALID = "kube_cronjob_schedule_invalid"


def headers(*families: str) -> str:
    """The HELP/TYPE pairs of ``families``, taken from HEADERS."""
    return "\n".join(line for line in HEADERS.splitlines() if line.split()[2:3] and line.split()[2] in families)


def cronjob(name: str, spec: dict[str, object], status: dict[str, object] | None = None,
            **metadata: object) -> dict[str, object]:
    return {"metadata": {"name": name, "namespace": "ns1", **metadata}, "spec": spec, "status": status or {}}


CASES = [
    Case(
        # 2018-03-11 12:34:56 in Shanghai; the next */6 hour there is 18:00 (10:00Z).
        id="full-with-timezone",
        obj=cronjob("cj1", {"schedule": "0 */6 * * *", "timeZone": "Asia/Shanghai", "concurrencyPolicy": "Forbid",
                            "suspend": False, "startingDeadlineSeconds": 300, "successfulJobsHistoryLimit": 3,
                            "failedJobsHistoryLimit": 1},
                    {"active": [{"name": "j1"}, {"name": "j2"}], "lastScheduleTime": "2018-03-11T04:34:56Z",
                     "lastSuccessfulTime": "2018-03-11T04:00:00Z"},
                    resourceVersion="11111", creationTimestamp="2018-03-01T00:00:00Z"),
        want=HEADERS + """
            kube_cronjob_info{namespace="ns1",cronjob="cj1",schedule="0 */6 * * *",concurrency_policy="Forbid",timezone="Asia/Shanghai"} 1
            kube_cronjob_created{namespace="ns1",cronjob="cj1"} 1.5198624e+09
            kube_cronjob_status_active{namespace="ns1",cronjob="cj1"} 2
            kube_cronjob_status_last_schedule_time{namespace="ns1",cronjob="cj1"} 1.520742896e+09
            kube_cronjob_status_last_successful_time{namespace="ns1",cronjob="cj1"} 1.5207408e+09
            kube_cronjob_spec_suspend{namespace="ns1",cronjob="cj1"} 0
            kube_cronjob_spec_starting_deadline_seconds{namespace="ns1",cronjob="cj1"} 300
            kube_cronjob_next_schedule_time{namespace="ns1",cronjob="cj1"} 1.5207624e+09
            kube_cronjob_metadata_resource_version{namespace="ns1",cronjob="cj1"} 11111
            kube_cronjob_spec_successful_job_history_limit{namespace="ns1",cronjob="cj1"} 3
            kube_cronjob_spec_failed_job_history_limit{namespace="ns1",cronjob="cj1"} 1
        """,
    ),
    Case(
        # No timeZone: local time (UTC here), concurrencyPolicy/resourceVersion absent or non-numeric.
        id="minimal-local-time",
        obj=cronjob("cj2", {"schedule": "0 */6 * * *"}, {"lastScheduleTime": "2018-03-11T04:34:56Z"},
                    resourceVersion="abc"),
        want=HEADERS + """
            kube_cronjob_info{namespace="ns1",cronjob="cj2",schedule="0 */6 * * *",concurrency_policy="",timezone="local"} 1
            kube_cronjob_status_active{namespace="ns1",cronjob="cj2"} 0
            kube_cronjob_status_last_schedule_time{namespace="ns1",cronjob="cj2"} 1.520742896e+09
            kube_cronjob_spec_suspend{namespace="ns1",cronjob="cj2"} 0
            kube_cronjob_next_schedule_time{namespace="ns1",cronjob="cj2"} 1.520748e+09
        """,
    ),
    Case(
        id="suspended-has-no-next-time",
        obj=cronjob("cj3", {"schedule": "0 */3 * * *", "suspend": True}, {"lastScheduleTime": "2018-03-11T10:04:56Z"}),
        families=["kube_cronjob_spec_suspend", NEXT, INVALID],
        want=headers("kube_cronjob_spec_suspend", NEXT, INVALID) + """
            kube_cronjob_spec_suspend{namespace="ns1",cronjob="cj3"} 1
        """,
    ),
    Case(
        # Never scheduled: the next time follows the creation time.
        id="never-scheduled-uses-creation-time",
        obj=cronjob("cj4", {"schedule": "25 * * * *", "suspend": False},
                    creationTimestamp="2018-03-11T11:04:56Z"),
        families=[NEXT],
        want=headers(NEXT) + """
            kube_cronjob_next_schedule_time{namespace="ns1",cronjob="cj4"} 1.5207675e+09
        """,
    ),
    Case(
        id="no-reference-time-no-next-time",
        obj=cronjob("cj5", {"schedule": "25 * * * *"}),
        families=[NEXT, INVALID, "kube_cronjob_created"],
        want=headers(NEXT, INVALID, "kube_cronjob_created"),
    ),
    Case(
        id="unparseable-schedule",
        obj=cronjob("cj6", {"schedule": "*/120 4-22 * * *"}, {"lastScheduleTime": "2018-03-11T04:34:56Z"}),
        families=[NEXT, INVALID],
        want=headers(NEXT, INVALID) + """
            kube_cronjob_schedule_invalid{namespace="ns1",cronjob="cj6"} 1
        """,
    ),
    Case(
        id="unknown-timezone",
        obj=cronjob("cj7", {"schedule": "0 */6 * * *", "timeZone": "Invalid/Zone"},
                    {"lastScheduleTime": "2018-03-11T04:34:56Z"}),
        families=[NEXT, INVALID, "kube_cronjob_info"],
        want=headers(NEXT, INVALID, "kube_cronjob_info") + """
            kube_cronjob_info{namespace="ns1",cronjob="cj7",schedule="0 */6 * * *",concurrency_policy="",timezone="Invalid/Zone"} 1
            kube_cronjob_schedule_invalid{namespace="ns1",cronjob="cj7"} 1
        """,
    ),
    Case(
        # A set but empty timeZone is not "local": it makes "CRON_TZ= ..." which does not parse.
        id="empty-timezone",
        obj=cronjob("cj8", {"schedule": "@daily", "timeZone": ""}, {"lastScheduleTime": "2018-03-11T04:34:56Z"}),
        families=[NEXT, INVALID, "kube_cronjob_info"],
        want=headers(NEXT, INVALID, "kube_cronjob_info") + """
            kube_cronjob_info{namespace="ns1",cronjob="cj8",schedule="@daily",concurrency_policy="",timezone=""} 1
            kube_cronjob_schedule_invalid{namespace="ns1",cronjob="cj8"} 1
        """,
    ),
    Case(
        # Valid but never firing: the Go zero time is exported as is.
        id="triggered-descriptor-zero-time",
        obj=cronjob("cj9", {"schedule": "@triggered"}, {"lastScheduleTime": "2018-03-11T04:34:56Z"}),
        families=[NEXT, INVALID],
        want=headers(NEXT, INVALID) + """
            kube_cronjob_next_schedule_time{namespace="ns1",cronjob="cj9"} -6.21355968e+10
        """,
    ),
    Case(
        id="every-descriptor",
        obj=cronjob("cj10", {"schedule": "@every 90m"}, {"lastScheduleTime": "2018-03-11T04:34:56Z"}),
        families=[NEXT],
        want=headers(NEXT) + """
            kube_cronjob_next_schedule_time{namespace="ns1",cronjob="cj10"} 1.520748296e+09
        """,
    ),
    Case(
        id="allowlists-sanitised-with-conflict",
        obj=cronjob("cj11", {"schedule": "@hourly"}, labels={"app": "x", "app.kind": "a", "app/kind": "b"},
                    annotations={"app.k8s.io/owner": "@foo", "other": "y"}),
        labels_allowlist=["app*"],
        annotations_allowlist=["app.k8s.io/owner"],
        families=["kube_cronjob_labels", "kube_cronjob_annotations"],
        want=headers("kube_cronjob_labels", "kube_cronjob_annotations") + """
            kube_cronjob_annotations{namespace="ns1",cronjob="cj11",annotation_app_k8s_io_owner="@foo"} 1
            kube_cronjob_labels{namespace="ns1",cronjob="cj11",label_app="x",label_app_kind_conflict1="a",label_app_kind_conflict2="b"} 1
        """,
    ),
]


@pytest.fixture(autouse=True)
def utc_local_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # Schedules without spec.timeZone run in the process zone, like upstream's time.Local.
    monkeypatch.setenv("TZ", "UTC")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_cronjobs(case: Case) -> None:
    check("cronjobs", case)


def test_local_zone_follows_tz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    check("cronjobs", Case(
        obj=cronjob("cj", {"schedule": "0 */6 * * *"}, {"lastScheduleTime": "2018-03-11T04:34:56Z"}),
        families=[NEXT],
        want=headers(NEXT) + """
            kube_cronjob_next_schedule_time{namespace="ns1",cronjob="cj"} 1.5207444e+09
        """))


def test_family_order() -> None:
    assert [f.name for f in RESOURCES["cronjobs"].families] == [
        "kube_cronjob_annotations",
        "kube_cronjob_labels",
        "kube_cronjob_info",
        "kube_cronjob_created",
        "kube_cronjob_status_active",
        "kube_cronjob_status_last_schedule_time",
        "kube_cronjob_status_last_successful_time",
        "kube_cronjob_spec_suspend",
        "kube_cronjob_spec_starting_deadline_seconds",
        "kube_cronjob_next_schedule_time",
        "kube_cronjob_schedule_invalid",
        "kube_cronjob_metadata_resource_version",
        "kube_cronjob_spec_successful_job_history_limit",
        "kube_cronjob_spec_failed_job_history_limit",
    ]


# (schedule, spec.timeZone, after, next with TZ=UTC, next with TZ=America/New_York); None = does not parse.
# Expected values were produced by github.com/netresearch/go-cron v0.15.1 ParseStandard(...).Next.
SCHEDULES = [
    ('0 */6 * * *', 'Asia/Shanghai', 1520742896, 1520762400, 1520762400),
    ('0 */6 * * *', None, 1520742896, 1520748000, 1520744400),
    ('25 * * * *', None, 1520766296, 1520767500, 1520767500),
    ('0 0 1 * 1', None, 1520742896, 1538352000, 1538366400),  # day-of-month AND day-of-week (go-cron default)
    ('0 0 1 * *', None, 1520742896, 1522540800, 1522555200),
    ('0 0 * * mon', None, 1520742896, 1520812800, 1520827200),
    ('0 22-2/2 * * *', None, 1520742896, 1520805600, 1520744400),  # wrapping range
    ('0 0 * nov-feb *', None, 1520742896, 1541030400, 1541044800),  # wrapping month names
    ('30 2 * * *', 'America/New_York', 1520733600, 1520753400, 1520753400),  # in the DST gap: 03:30 EDT
    ('30 1 * * *', 'America/New_York', 1541224800, 1541309400, 1541309400),  # ambiguous: first (EDT) 01:30
    ('0 0 30 2 *', None, 1520742896, -62135596800, -62135596800),  # never: Go zero time
    ('@daily', None, 1520742896, 1520812800, 1520744400),
    ('@weekly', 'Asia/Shanghai', 1520742896, 1521302400, 1521302400),
    ('@monthly', None, 1520742896, 1522540800, 1522555200),
    ('@yearly', None, 1520742896, 1546300800, 1546318800),
    ('@hourly', None, 1520742896, 1520744400, 1520744400),
    ('@every 90m', None, 1520742896, 1520748296, 1520748296),
    ('@every 1.5s', None, 1520742896, 1520742897, 1520742897),  # whole seconds
    ('@triggered', None, 1520742896, -62135596800, -62135596800),  # never fires
    ('0 12 * * ?', None, 1520742896, 1520769600, 1520784000),
    ('0 0 * * 7', None, 1520742896, 1521331200, 1520744400),  # 7 is Sunday
    ('70/5 * * * *', None, 1520742896, 1520742900, 1520742900),  # start above max wraps in uint64 (70,75 -> 10,15)
    ('0 0 ,, * *', None, 1520742896, -62135596800, -62135596800),  # empty list matches nothing
    ('*/120 4-22 * * *', None, 1520742896, None, None),  # step not smaller than the range
    ('0 1 */32,1-7 * 3', None, 1520742896, None, None),
    ('0 */6 * * *', 'Invalid/Zone', 1520742896, None, None),
    ('0 */6 * * *', '', 1520742896, None, None),
    ('', None, 1520742896, None, None),  # empty
    ('* * * * * *', None, 1520742896, None, None),  # no seconds field
    ('H * * * *', None, 1520742896, None, None),  # no hash, L, W or # in ParseStandard
    ('0 0 L * *', None, 1520742896, None, None),
    ('0 0 * * FRI#3', None, 1520742896, None, None),
    ('@every 500ms', None, 1520742896, None, None),
    ('@every', None, 1520742896, None, None),
    ('@daily ', None, 1520742896, None, None),  # descriptors match exactly
    ('TZ=UTC @daily', None, 1520742896, 1520812800, 1520812800),  # the schedule may carry its own zone
    ('*/60 * * * *', None, 1520742896, None, None),
    ('0 24 * * *', None, 1520742896, None, None),
    ('0 0 0 * *', None, 1520742896, None, None),
    ('0 0 * 13 *', None, 1520742896, None, None),
    ('0 0 * * 8', None, 1520742896, None, None),
    ('5-3-1 * * * *', None, 1520742896, None, None),
    ('1/2/3 * * * *', None, 1520742896, None, None),
    ('*/0 * * * *', None, 1520742896, None, None),
    ('-1 * * * *', None, 1520742896, None, None),
    ('+5 * * * *', None, 1520742896, 1520744700, 1520744700),  # strconv.Atoi accepts a sign
    ('0 0 * * *', 'Local', 1520742896, 1520812800, 1520744400),
    ('0 0 * * *', "'Europe/Berlin'", 1520742896, 1520809200, 1520809200),
]


@pytest.mark.parametrize("local", ["UTC", "America/New_York"])
@pytest.mark.parametrize(("spec", "tz", "after", "want_utc", "want_ny"), SCHEDULES)
def test_next_schedule(monkeypatch: pytest.MonkeyPatch, local: str, spec: str, tz: str | None, after: int,
                       want_utc: int | None, want_ny: int | None) -> None:
    monkeypatch.setenv("TZ", local)
    sched = parse_standard(spec if tz is None else f"CRON_TZ={tz} {spec}")
    want = want_utc if local == "UTC" else want_ny
    if want is None:
        assert isinstance(sched, str)
        return
    assert not isinstance(sched, str), sched
    got = sched.next(after)
    assert (GO_ZERO_TIME if got is None else got) == want


@pytest.mark.parametrize(("text", "ns"), [
    ("0", 0), ("1h30m", 5400 * 10**9), ("1.5s", 1_500_000_000), ("-2m", -120 * 10**9), ("+3ms", 3_000_000),
    (".5h", 1800 * 10**9), ("3.h", 3 * 3600 * 10**9), ("1\u00b5s", 1000), ("2\u03bcs", 2000), ("7ns", 7),
    ("", None), ("1", None), ("h", None), ("1d", None), (".h", None), ("1e3s", None), ("9223372036854775808ns", None),
])
def test_go_parse_duration(text: str, ns: int | None) -> None:
    if ns is None:
        with pytest.raises(ValueError):
            go_parse_duration(text)
    else:
        assert go_parse_duration(text) == ns
