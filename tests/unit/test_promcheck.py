"""The Prometheus-parser checker (harness/promcheck) rejects what Prometheus rejects.

Each body is what a broken exporter could serve; the checker is the oracle of the fuzzing and of
the parity e2e, so it has to say no to each of them, in both formats, and yes to a clean body.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.promcheck import CONTENT_TYPE_OPENMETRICS, Rejected, binary, checker

HEAD = b"# HELP kube_namespace_labels Kubernetes labels converted to Prometheus labels.\n" \
       b"# TYPE kube_namespace_labels gauge\n"
GOOD = HEAD + b'kube_namespace_labels{namespace="a",label_x="q\\"\\\\\\n"} 1\n' \
    + b'kube_namespace_labels{namespace="b",label_x=""} 1\n'


@pytest.mark.parametrize(("body", "why"), [
    # Issue 13's sample as the old renaming printed it.
    (HEAD + b'kube_namespace_labels{namespace="lc",label_foo_bar_conflict1="dash",label_foo_bar_conflict2="dot",'
            b'label_foo_bar_conflict1="taken"} 1\n', 'label name "label_foo_bar_conflict1" is not unique'),
    (HEAD + b'kube_namespace_labels{namespace="\xff"} 1\n', "UTF-8"),
    (HEAD + b'kube_namespace_labels{namespace="a\\q"} 1\n', "undefined escape"),
    (HEAD + b'kube_namespace_labels{label-x="a"} 1\n', "parse error"),
    (HEAD + b'kube_namespace_labels{label_x="a"} x1\n', "parse error"),
    (HEAD + b"# HELP other x\n# TYPE other gauge\nother 1\n" + b'kube_namespace_labels{namespace="a"} 1\n',
     "not one group"),
    (HEAD + HEAD, "second HELP"),
    (HEAD + b'kube_namespace_labels{namespace="a"} 1\n# TYPE kube_namespace_labels gauge\n', "second TYPE"),
])
@pytest.mark.parametrize("openmetrics", [False, True])
def test_rejects(body: bytes, why: str, openmetrics: bool) -> None:
    ct = CONTENT_TYPE_OPENMETRICS if openmetrics else "text/plain; version=0.0.4; charset=utf-8"
    verdict = checker().verdict(body + (b"# EOF\n" if openmetrics else b""), ct)
    assert verdict.startswith("rejected ") and why in verdict, verdict


def test_a_series_twice_is_reported_as_dropped() -> None:
    body = HEAD + b'kube_namespace_labels{namespace="a"} 1\nkube_namespace_labels{namespace="a"} 0\n'
    assert checker().verdict(body).startswith("duplicates 2 ")
    # Prometheus drops empty-valued labels before storing: these two are one series.
    body = HEAD + b'kube_namespace_labels{namespace="a",label_x=""} 1\nkube_namespace_labels{namespace="a"} 1\n'
    assert checker().verdict(body).startswith("duplicates 2 ")


def test_openmetrics_needs_its_eof() -> None:
    assert checker().verdict(GOOD, CONTENT_TYPE_OPENMETRICS).startswith("rejected ")
    assert checker().verdict(GOOD + b"# EOF\n", CONTENT_TYPE_OPENMETRICS) == "ok 2"


def test_accepts_a_clean_body() -> None:
    assert checker().verdict(GOOD) == "ok 2"


def test_command_line_exit_status_and_message() -> None:
    bad = HEAD + b'kube_namespace_labels{label_a="1",label_a="2"} 1\n'
    run = subprocess.run([str(binary())], input=bad, capture_output=True, timeout=30)
    assert run.returncode == 1
    assert b'label name "label_a" is not unique: invalid sample' in run.stderr
    assert b"REJECTED" in run.stderr
    run = subprocess.run([str(binary())], input=GOOD, capture_output=True, timeout=30)
    assert run.returncode == 0 and b"ok, 2 series" in run.stdout


SPLIT = HEAD + b'kube_namespace_labels{namespace="a"} 1\n# HELP other x\n# TYPE other gauge\nother 1\n' \
    + b'kube_namespace_labels{namespace="b"} 1\n'
DUPLICATE_LABEL = HEAD + b'kube_namespace_labels{namespace="a",label_x="1",label_x="2"} 1\n'


def test_a_split_family_passes_only_where_upstream_splits_it_too() -> None:
    """The parity e2e tolerates the grouping rule only as far as upstream breaks it (one store per
    CRD version); anything else, or a split upstream does not have, is still rejected."""
    checker().check_like_upstream(SPLIT, SPLIT)
    checker().check_like_upstream(GOOD, SPLIT)
    with pytest.raises(Rejected, match="not one group"):
        checker().check_like_upstream(SPLIT, GOOD)
    with pytest.raises(Rejected, match="not unique"):
        checker().check_like_upstream(DUPLICATE_LABEL, DUPLICATE_LABEL)
