"""Bad input: randomly mutated objects never crash rendering and never produce invalid exposition.

Seeds are the hand-written objects of the family table tests; hypothesis replaces random
subtrees with hostile values (nulls, wrong types, huge or odd strings, absurd quantities), or
gives them label and annotation maps whose keys collide after sanitising.  Every body, text and
OpenMetrics, goes through Prometheus' own parser and scrape-path checks (tests/promcheck.py):
whatever a user puts on an object, Prometheus must take the whole scrape.
"""

from __future__ import annotations

import copy
import importlib
import pkgutil
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tests.families as family_tests
from ksm_py.builder import compile_resources
from ksm_py.exposition import ResourceWriter, negotiate, render_body
from ksm_py.families import RESOURCES
from ksm_py.options import Options
from ksm_py.store import MetricsStore
from tests.families._util import Case
from tests.promcheck import checker

# The text format, strictly: name{label="escaped",...} value
_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
_VALUE = r"(?:[+-]?(?:[0-9]+(?:\.[0-9]+)?(?:e[+-][0-9]{2,3})?)|NaN|\+Inf|-Inf)"
SAMPLE = re.compile(rf"^{_NAME}(?:\{{{_LABEL}(?:,{_LABEL})*\}})? {_VALUE}$")
HELP = re.compile(rf"^# HELP {_NAME} .*$")
TYPE = re.compile(rf"^# TYPE {_NAME} (?:gauge|counter)$")


def _seeds() -> dict[str, list[dict[str, Any]]]:
    by_resource: dict[str, list[dict[str, Any]]] = {}
    for info in pkgutil.iter_modules(family_tests.__path__):
        if not info.name.startswith("test_"):
            continue
        resource = info.name.removeprefix("test_")
        if resource not in RESOURCES:
            continue
        module = importlib.import_module(f"tests.families.{info.name}")
        for value in vars(module).values():
            if isinstance(value, list):
                for item in value:
                    obj = item.obj if isinstance(item, Case) else getattr(item, "values", [None])[0] if hasattr(item, "values") else None
                    if isinstance(obj, dict) and "metadata" in obj:
                        by_resource.setdefault(resource, []).append(obj)
    return by_resource


SEEDS = _seeds()
HOSTILE_STRINGS = st.sampled_from([
    "", " ", 'quote"d', "back\\slash", "new\nline", "tab\tcr\r", "ünïcödé ☃", "\u0000nul", "x" * 100_000,
    "1e99999", "-1", "NaN", "Inf", "250m", "1.5Gi", "9Ei", "abc", "2017-08-01T06:30:18Z", "not-a-time",
    "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "*/5 * * * *", "@every 1h", "@garbage", "100%", "%",
])
HOSTILE = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True) | HOSTILE_STRINGS
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(HOSTILE_STRINGS | st.text(max_size=8),
                                                                       children, max_size=3),
    max_leaves=8,
)


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*prefix, i))
    return out


def _mutate(obj: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    for _ in range(data.draw(st.integers(1, 4))):
        paths = [p for p in _paths(obj) if p]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent = obj
        for step in path[:-1]:
            parent = parent[step]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(HOSTILE)
    return obj


def check_exposition(text: str) -> None:
    # Only LF ends a line in the text format; CR and other separators may appear in label values.
    for line in text.split("\n")[:-1]:
        if line.startswith("# HELP"):
            assert HELP.match(line), line
        elif line.startswith("# TYPE"):
            assert TYPE.match(line), line
        else:
            assert SAMPLE.match(line), repr(line[:300])


_COMPILED = {c.name: c for c in compile_resources(Options(
    resources=sorted(RESOURCES), labels_allowlist={r: ("*",) for r in RESOURCES},
    annotations_allowlist={r: ("*",) for r in RESOURCES}, metric_opt_in_list=[".*"]))}
_ERRORS: list[tuple[str, str]] = []
for _c in _COMPILED.values():
    _c.on_render_error = lambda r, f, e: _ERRORS.append((r, f))


OPENMETRICS = negotiate("application/openmetrics-text; version=1.0.0")


def check_with_prometheus(writers: list[ResourceWriter], *, duplicate_series_ok: bool = False) -> str:
    """Render the text and the OpenMetrics body; Prometheus' parser must accept both."""
    text = render_body(writers)
    checker().check(text, duplicate_series_ok=duplicate_series_ok)
    checker().check(render_body(writers, OPENMETRICS), OPENMETRICS.content_type,
                    duplicate_series_ok=duplicate_series_ok)
    return text.decode()


_STRICT_SEEDS: dict[str, list[dict[str, Any]]] = {}


def strict_seeds(resource: str) -> list[dict[str, Any]]:
    """The seeds whose own body has no repeated series (some repeat a list entry, e.g. two
    conditions of one type, and upstream renders one sample per entry as well)."""
    if resource not in _STRICT_SEEDS:
        compiled = _COMPILED[resource]
        ok = []
        for seed in SEEDS[resource]:
            store = MetricsStore(compiled)
            store.upsert(copy.deepcopy(seed))
            if checker().verdict(render_body([ResourceWriter(compiled, [store])])).startswith("ok "):
                ok.append(seed)
        _STRICT_SEEDS[resource] = ok
    return _STRICT_SEEDS[resource]


@pytest.mark.parametrize("resource", sorted(SEEDS))
@settings(max_examples=270, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_mutated_objects_render_valid_exposition(resource: str, data: st.DataObject) -> None:
    compiled = _COMPILED[resource]
    seed = data.draw(st.sampled_from(SEEDS[resource]))
    obj = _mutate(seed, data)
    store = MetricsStore(compiled)
    store.upsert(obj)  # must not raise, whatever the object
    # A mutation can repeat a list entry (two conditions of one type): one sample per entry, as upstream.
    body = check_with_prometheus([ResourceWriter(compiled, [store])], duplicate_series_ok=True)
    assert body.endswith("\n")
    check_exposition(body)


# Label/annotation keys that sanitise to the same few names and spell the names the conflict
# renaming generates: one base ("tier", "app.name"), each key a spelling of it (separator, case)
# plus maybe a generated suffix ("Tier", "TIER", "app-name_conflict1", "app.name_conflict1_conflict1").
_WORDS = st.lists(st.sampled_from(["a", "b", "tier", "app", "x"]), min_size=1, max_size=3)
_SUFFIX = st.sampled_from(["", "", "_conflict1", "_conflict2", "_conflict3", "_conflict1_conflict1",
                           "_conflict1_conflict2", "_conflict2_conflict1", "-conflict1", ".conflict2", "_Conflict1"])


def _spelling(words: list[str]) -> st.SearchStrategy[str]:
    cased = st.lists(st.sampled_from([str.lower, str.upper, str.capitalize]), min_size=len(words),
                     max_size=len(words))
    return st.tuples(cased, st.sampled_from(["_", "-", ".", "/"]), _SUFFIX).map(
        lambda t: t[1].join(f(w) for f, w in zip(t[0], words, strict=True)) + t[2])


COLLIDING_KEYS = _WORDS.flatmap(lambda words: st.lists(_spelling(words), min_size=1, max_size=10))
LABEL_VALUES = HOSTILE_STRINGS | st.text(max_size=10)
COLLIDING_MAPS = st.tuples(COLLIDING_KEYS, st.lists(st.text(max_size=4), max_size=4)).flatmap(
    lambda t: st.fixed_dictionaries({k: LABEL_VALUES for k in [*t[0], *t[1]]}))
# Where user-chosen keys become label names (labels/annotations families, pod node selectors,
# volume attachment metadata).
_KEYED_MAPS = (("metadata", "labels"), ("metadata", "annotations"), ("spec", "nodeSelector"),
               ("status", "attachmentMetadata"))


@pytest.mark.parametrize("resource", sorted(SEEDS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_colliding_label_keys_render_valid_exposition(resource: str, data: st.DataObject) -> None:
    compiled = _COMPILED[resource]
    seeds = strict_seeds(resource)
    assert seeds, f"every seed of {resource} repeats a series"
    obj = copy.deepcopy(data.draw(st.sampled_from(seeds)))
    for parent, key in _KEYED_MAPS:
        if parent == "metadata" or isinstance(obj.get(parent), dict):
            obj.setdefault(parent, {})[key] = data.draw(COLLIDING_MAPS)
    store = MetricsStore(compiled)
    store.upsert(obj)
    # Several objects in one body: each sample's labels must be unique, and the families stay grouped.
    second = copy.deepcopy(obj)
    second["metadata"]["name"] = f"{obj['metadata'].get('name') or 'x'}-2"
    second["metadata"]["uid"] = f"{obj['metadata'].get('uid') or 'u'}-2"
    second["metadata"]["labels"] = data.draw(COLLIDING_MAPS)
    store.upsert(second)
    body = check_with_prometheus([ResourceWriter(compiled, [store])])
    check_exposition(body)


def test_every_resource_has_fuzz_seeds() -> None:
    assert set(SEEDS) == set(RESOURCES), sorted(set(RESOURCES) - set(SEEDS))


def test_failing_families_are_counted() -> None:
    compiled = _COMPILED["pods"]
    before = len(_ERRORS)
    store = MetricsStore(compiled)
    store.upsert({"metadata": {"name": "p", "namespace": "n", "uid": "u"}, "spec": {"containers": 5},
                  "status": {"conditions": "nope", "containerStatuses": [7]}})
    assert len(_ERRORS) > before
    check_exposition(check_with_prometheus([ResourceWriter(compiled, [store])], duplicate_series_ok=True))
