"""The render's shortcuts write what calling every family plainly would.

``Family.needs``: the render does not call a family for an object lacking the path it declares,
so the family must have no sample there.  Checked over every table-test object of its resource
(the path deleted, then set to null), and the render of such an object through the guards equals
the render that calls every family.  ``Constant`` samples: rendered from lines kept per family,
equal to the same samples as a plain list."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from ksm_py.builder import compile_resources
from ksm_py.families import RESOURCES
from ksm_py.families._dsl import Allowlists, Family, Resource
from ksm_py.options import Options

from .test_declared_labels import _cases

GUARDED = [(resource, family) for resource in RESOURCES.values() for family in resource.families if family.needs]


def _without(obj: dict[str, Any], path: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    """``obj`` with the value at ``path`` deleted, then null (when its parents are objects)."""
    for null in (False, True):
        out = copy.deepcopy(obj)
        node: Any = out
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            if null:
                node[path[-1]] = None
            else:
                node.pop(path[-1], None)
        yield out


def test_pods_declare_needs() -> None:
    """The guards are in use (a pod without init containers skips a dozen families)."""
    assert sum(1 for resource, _ in GUARDED if resource.name == "pods") >= 14


@pytest.mark.parametrize(("resource", "family"), GUARDED, ids=[f.name for _, f in GUARDED])
def test_no_samples_without_needed_path(resource: Resource, family: Family) -> None:
    fn = family.build(Allowlists(labels=("*",), annotations=("*",)))
    checked = 0
    for obj in _cases(resource.name):
        for stripped in _without(obj, family.needs):
            assert not list(fn(stripped)), (family.name, stripped)
            checked += 1
    assert checked


@pytest.mark.parametrize("resource", sorted({r.name for r, _ in GUARDED}))
def test_guarded_render_equals_calling_every_family(resource: str) -> None:
    guarded = compile_resources(Options(resources=[resource]))[0]
    unguarded = compile_resources(Options(resources=[resource]))[0]
    unguarded._guards = ()  # every family called for every object
    paths = {f.needs for f in guarded.families if f.needs}
    for obj in _cases(resource):
        for path in paths:
            for stripped in _without(obj, path):
                assert guarded.render(stripped) == unguarded.render(stripped)


def test_constant_samples_render_as_plain_samples() -> None:
    """Families returning shared ``Constant`` samples (rendered from lines kept per family) write
    what they would as plain lists of the same samples, with and without identity labels."""
    from ksm_py.families._dsl import Constant

    constant = compile_resources(Options(resources=["pods"]))[0]
    plain = compile_resources(Options(resources=["pods"]))[0]  # every Constant handed over as a list
    plain.fns[:] = [(name, lambda p, fn=fn: list(s) if type(s := fn(p)) is Constant else s) for name, fn in plain.fns]
    tolerations = [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}, {"key": "a\\\"b", "value": "v"}]
    pods = [{"metadata": {"name": "p", "namespace": "n", "uid": "u"}, "spec": {"tolerations": tolerations},
             "status": {"phase": "Running", "qosClass": "Burstable", "conditions": [
                 {"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "False"}]}},
            {"metadata": {}, "status": {"phase": "Pending", "conditions": [
                {"type": "Ready", "status": "Unknown"}, {"type": "Ready", "status": "True"}]}}]
    returned = 0
    for pod in pods:
        assert constant.render(pod) == plain.render(pod)
        returned += sum(type(fn(pod)) is Constant for _, fn in constant.fns)
    assert returned >= 6  # phase, qos, ready, scheduled, tolerations; phase of the second
    with pytest.raises(ValueError):
        Constant([("", 1)])


@pytest.mark.parametrize("values", [
    ("a", "b", "c"), ("", "", ""), ('q"uote', "b", "c"), ("back\\slash", "new\nline", '"'), (3, 1.5, True),
    ("a", '""', ""), ("\\n", "é", "x=\"y\",z=\"w\""),
])
def test_label_set_renders_as_label_pairs(values: tuple[Any, ...]) -> None:
    """``LabelSet`` (one format, escaping only when a value may need it) writes what the render
    writes for the same (name, value) pairs."""
    from ksm_py.families._helpers import LabelSet
    from ksm_py.store import _label_pairs

    names = ("first", "second", "third")
    assert LabelSet(*names)(*values) == _label_pairs(list(zip(names, values, strict=True)))
