"""Every family declares its label names (``labels=`` in the DSL, shown by ``ksm-py families``), and
what it emits agrees: rendered over the table-test objects of its resource (plus a few richer ones
below), each series carries the identity labels first, then only declared labels, in declared order.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest

from ksm_py.families import RESOURCES
from ksm_py.families._dsl import Family, Resource
from tests.expo import parse_line

from ._util import Case, render

# Objects that reach label combinations the table tests do not need.
EXTRA: dict[str, list[dict[str, Any]]] = {
    "ingresses": [{
        "metadata": {"name": "i", "namespace": "n", "uid": "u"},
        "spec": {"rules": [{"host": "h", "http": {"paths": [
            {"path": "/a", "pathType": "Prefix", "backend": {"service": {"name": "s", "port": {"number": 80}}}},
            {"path": "/b", "backend": {"resource": {"apiGroup": "g", "kind": "K", "name": "r"}}}]}}],
            "tls": [{"hosts": ["h"], "secretName": "s"}]}}],
    "horizontalpodautoscalers": [{
        "metadata": {"name": "h", "namespace": "n", "uid": "u"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "d"}, "maxReplicas": 3,
                 "metrics": [
                     {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                                   "averageUtilization": 50}}},
                     {"type": "ContainerResource", "containerResource": {
                         "name": "memory", "container": "c", "target": {"type": "AverageValue", "averageValue": "1Gi"}}},
                     {"type": "External", "external": {"metric": {"name": "q"}, "target": {"type": "Value",
                                                                                          "value": "10"}}}]},
        "status": {"currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {
            "averageUtilization": 40, "averageValue": "250m"}}}],
            "conditions": [{"type": "AbleToScale", "status": "True"}]}}],
}


def _cases(resource: str) -> Iterator[dict[str, Any]]:
    module = importlib.import_module(f"tests.families.test_{resource}")
    for value in vars(module).values():
        if isinstance(value, list):
            for item in value:
                if isinstance(item, Case):
                    yield item.obj
    yield from EXTRA.get(resource, [])


def _allowed(resource: Resource, family: Family) -> tuple[list[str], list[str]]:
    declared = list(family.labels or ())
    return [*resource.identity_label_names, *(d for d in declared if not d.endswith("*"))], \
        [d[:-1] for d in declared if d.endswith("*")]


def _check_series(resource: Resource, family: Family, labels: list[str]) -> None:
    fixed, prefixes = _allowed(resource, family)
    identity = list(resource.identity_label_names)
    assert labels[:len(identity)] == identity, f"{family.name}: identity labels first, got {labels}"
    positions = []
    for label in labels[len(identity):]:
        if label in fixed:
            positions.append(fixed.index(label))
        else:
            assert any(label.startswith(p) for p in prefixes), \
                f"{family.name} emits {label!r}, not declared in {family.labels}"
    assert positions == sorted(positions), f"{family.name}: labels {labels} not in declared order {family.labels}"


@pytest.mark.parametrize("name", sorted(RESOURCES))
def test_every_family_declares_its_labels(name: str) -> None:
    resource = RESOURCES[name]
    undeclared = [f.name for f in resource.families if f.labels is None]
    assert not undeclared, f"families without labels=(...): {undeclared}"
    for f in resource.families:
        assert len(set(f.labels or ())) == len(f.labels or ()), f"{f.name} declares a label twice"
        assert not set(f.labels or ()) & set(resource.identity_label_names), f"{f.name} repeats identity labels"


@pytest.mark.parametrize("name", sorted(RESOURCES))
def test_emitted_labels_are_declared(name: str) -> None:
    resource = RESOURCES[name]
    by_name = {f.name: f for f in resource.families}
    objects = list(_cases(name))
    assert objects, f"no sample objects for {name}"
    seen: set[str] = set()
    for obj in objects:
        text = render(name, [obj], labels_allowlist=["*"], annotations_allowlist=["*"],
                      opt_in=[f.name for f in resource.families if f.opt_in])
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            family_name = line.split("{", 1)[0].split(" ", 1)[0]
            # parse_line sorts labels; the emission order is read from the raw line.
            raw = line.split("{", 1)[1].rsplit("}", 1)[0] if "{" in line else ""
            order = [pair[0] for pair in _pairs(raw)]
            assert sorted(order) == [k for k, _ in parse_line(line)[1]]
            _check_series(resource, by_name[family_name], order)
            seen.add(family_name)
    unreached = sorted(set(by_name) - seen)
    assert not unreached, f"{name}: no sample object reaches {unreached}; add one to EXTRA"


def _pairs(raw: str) -> list[tuple[str, str]]:
    out, i = [], 0
    while i < len(raw):
        eq = raw.index("=", i)
        key = raw[i:eq]
        j = eq + 2
        value = []
        while raw[j] != '"':
            if raw[j] == "\\":
                value.append(raw[j:j + 2])
                j += 2
                continue
            value.append(raw[j])
            j += 1
        out.append((key, "".join(value)))
        i = j + 2  # skip '",'
    return out
