"""Label-name conflict renaming is upstream v2.20's (``mapToPrometheusLabels``), whatever the keys."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ksm_py.families._helpers import prometheus_labels
from tests.label_conflicts import CASES, EXPECTED


def _everything(_key: str) -> bool:
    return True


@pytest.mark.parametrize("prefix", ["label", "annotation"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_conflicts_renamed_like_upstream(case: str, prefix: str) -> None:
    got = prometheus_labels(CASES[case], _everything, prefix)
    assert got == [(f"{prefix}_{name}", value) for name, value in EXPECTED[case]]


def test_only_allowed_keys_take_part_in_the_renaming() -> None:
    # Upstream filters by the allowlist first: a key left out does not push the others' suffixes.
    labels = CASES["taken-by-key"]
    got = prometheus_labels(labels, lambda k: k in ("foo-bar", "foo_bar_conflict1"), "label")
    assert got == [("label_foo_bar", "dash"), ("label_foo_bar_conflict1", "taken")]
    got = prometheus_labels(labels, lambda k: k in ("foo-bar", "foo.bar", "foo_bar_conflict1"), "label")
    assert got == [("label_foo_bar_conflict1_conflict1", "dash"), ("label_foo_bar_conflict2", "dot"),
                   ("label_foo_bar_conflict1_conflict2", "taken")]


def test_no_conflict_keeps_plain_names_in_key_order() -> None:
    got = prometheus_labels({"b": "2", "a.b": "1", "camelCase": "3"}, _everything, "label")
    assert got == [("label_a_b", "1"), ("label_b", "2"), ("label_camel_case", "3")]


# Keys built from few parts so that they collide often, and often hit generated names.
_PART = st.sampled_from(["a", "A", "b", "B", "x", "_", "-", ".", "/", "conflict1", "conflict2", "_conflict1",
                         "_conflict2", "Conflict1", "~"])
COLLIDING_KEYS = st.lists(_PART, min_size=1, max_size=5).map("".join)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(COLLIDING_KEYS, st.text(max_size=3), max_size=12))
def test_every_label_name_is_unique_and_every_value_kept(labels: dict[str, str]) -> None:
    got = prometheus_labels(labels, _everything, "label")
    names = [n for n, _ in got]
    assert len(names) == len(set(names)), got
    assert sorted(v for _, v in got) == sorted(labels.values())
