"""Table-test helpers: render one object through a resource and compare exposition text.

Comparison follows upstream's ``compareOutput``: indentation and empty lines ignored, label
order and line order ignored, everything else byte-exact (values, HELP text, escaping).
"""

from __future__ import annotations

import dataclasses
import textwrap
from typing import Any, Sequence

from ksm_py.builder import compile_resources
from ksm_py.exposition import ResourceWriter, render_body
from ksm_py.families import RESOURCES
from ksm_py.options import Options
from ksm_py.shape import decoders
from ksm_py.store import MetricsStore


@dataclasses.dataclass
class Case:
    obj: dict[str, Any]
    want: str
    families: Sequence[str] = ()          # only these families (and their headers) are compared
    labels_allowlist: Sequence[str] | None = None
    annotations_allowlist: Sequence[str] | None = None
    opt_in: Sequence[str] = ()
    id: str = ""
    headers: bool = True                  # False: compare sample lines only (HELP/TYPE checked elsewhere)


def render(resource: str, objs: Sequence[dict[str, Any]], *, labels_allowlist: Sequence[str] | None = None,
           annotations_allowlist: Sequence[str] | None = None, opt_in: Sequence[str] = ()) -> str:
    options = Options(resources=[resource], metric_opt_in_list=list(opt_in))
    if labels_allowlist is not None:
        options.labels_allowlist = {resource: tuple(labels_allowlist)}
    if annotations_allowlist is not None:
        options.annotations_allowlist = {resource: tuple(annotations_allowlist)}
    compiled = compile_resources(options)
    assert [c.name for c in compiled] == [resource], f"resource {resource} is not registered"
    store = MetricsStore(compiled[0])
    store.replace(objs)
    return render_body([ResourceWriter(compiled[0], [store])]).decode()


def _sort_labels(line: str) -> str:
    if line.startswith("#") or "{" not in line:
        return line
    name, rest = line.split("{", 1)
    labels, value = rest.rsplit("}", 1)
    pairs, current, in_quotes, escaped = [], "", False, False
    for ch in labels:
        if escaped:
            current += ch
            escaped = False
            continue
        if ch == "\\":
            escaped = True
            current += ch
            continue
        if ch == '"':
            in_quotes = not in_quotes
        if ch == "," and not in_quotes:
            pairs.append(current)
            current = ""
            continue
        current += ch
    if current:
        pairs.append(current)
    return name + "{" + ",".join(sorted(pairs)) + "}" + value


def normalise(text: str, families: Sequence[str] = ()) -> list[str]:
    lines = [line.lstrip(" \t") for line in textwrap.dedent(text).splitlines()]
    lines = [line for line in lines if line]
    if families:
        # Like upstream's filterMetricNames: keep lines that mention a listed family.
        lines = [line for line in lines if any(f in line for f in families)]
    return sorted(_sort_labels(line) for line in lines)


def check(resource: str, case: Case) -> None:
    got = render(resource, [case.obj], labels_allowlist=case.labels_allowlist,
                 annotations_allowlist=case.annotations_allowlist, opt_in=case.opt_in)
    families = case.families
    want, have = normalise(case.want, families), normalise(got, families)
    if not case.headers:
        want, have = [x for x in want if not x.startswith("#")], [x for x in have if not x.startswith("#")]
    assert have == want, f"\n--- got ---\n{got}"
    # The reflector parses only the fields a resource declares its families read: the same output.
    reads = RESOURCES[resource].reads
    if reads is not None:
        shaped = decoders(reads).items([case.obj])
        if shaped is not None:
            assert render(resource, shaped, labels_allowlist=case.labels_allowlist,
                          annotations_allowlist=case.annotations_allowlist, opt_in=case.opt_in) == got
    # The reflector drops metadata.managedFields before parsing for every built-in resource: no
    # family may read it.
    meta = case.obj.get("metadata")
    if isinstance(meta, dict):
        managed = {**case.obj, "metadata": {**meta, "managedFields": [
            {"manager": "kubectl", "operation": "Update", "apiVersion": "v1", "time": "2024-01-01T00:00:00Z",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}}]}}
        assert render(resource, [managed], labels_allowlist=case.labels_allowlist,
                      annotations_allowlist=case.annotations_allowlist, opt_in=case.opt_in) == got
