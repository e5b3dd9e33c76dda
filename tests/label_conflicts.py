"""Label and annotation maps whose keys collide after sanitising, with the names upstream gives them.

Shared by the table test (tests/unit/test_label_conflicts.py) and the parity e2e, which puts every
map on real objects of several kinds and compares ksm-py with the upstream binary.

Provenance of EXPECTED: read off kube-state-metrics v2.20.0 (the binary harness/build.py
builds from the Go module proxy) on the local control plane, from ``kube_namespace_labels`` and
``kube_namespace_annotations`` of namespaces carrying each map, with
``--metric-labels-allowlist='*=[*]' --metric-annotations-allowlist='*=[*]'`` (2026-12-04), in the
order upstream prints them (the API server's own ``kubernetes.io/metadata.name`` namespace label
left out).  The parity e2e re-reads them from the binary on every run.
"""

from __future__ import annotations

# name -> the object's labels (also used as its annotations)
CASES: dict[str, dict[str, str]] = {
    # Issue 13: a key equal to the name the first collision generates.
    "taken-by-key": {"foo-bar": "dash", "foo.bar": "dot", "fooBAR": "caps", "foo_bar": "underscore",
                     "foo_bar_conflict1": "taken"},
    # A chain, three levels deep: each key is a name the previous collision generated.
    "chain": {"tier": "a", "Tier": "b", "TIER": "c", "tier_conflict1": "d", "tier_conflict1_conflict1": "e"},
    # Issue 13's ConfigMap, which already matched upstream.
    "configmap": {"app.kubernetes.io/name": "a", "app_kubernetes_io_name": "b",
                  "app_kubernetes_io_name_conflict1": "c", "app-kubernetes-io-name_conflict1": "d"},
    # The suffix skips a name a key (sorted before the collision) already holds.
    "taken-before": {"B.c_conflict2": "taken", "b-c": "dash", "b.c": "dot", "b_c": "underscore"},
    # A renamed entry is renamed again when a later key sanitises onto its new name.
    "renamed-again": {"A": "upper", "a": "lower", "a_conflict2": "taken"},
    # Upstream's own unit test case (utils_test.go).
    "upstream-skip": {"A.b.conflict1": "already_taken", "a-b": "dash", "a.b": "dot"},
    # Keys sorted after the first collision that sanitise onto the same base (camel case, '~' sorts last).
    "late-base": {"x.y": "dot", "x_y": "underscore", "x_y_conflict1": "taken", "xY": "camel",
                  "x_y_conflict2": "taken2"},
}

# name -> [(label name without the "label"/"annotation" prefix, value)] in upstream's order
EXPECTED: dict[str, list[tuple[str, str]]] = {
    "taken-by-key": [("foo_bar_conflict1_conflict1", "dash"), ("foo_bar_conflict2", "dot"),
                     ("foo_bar_conflict3", "caps"), ("foo_bar_conflict4", "underscore"),
                     ("foo_bar_conflict1_conflict2", "taken")],
    "chain": [("tier_conflict1_conflict1_conflict1", "c"), ("tier_conflict2", "b"), ("tier_conflict3", "a"),
              ("tier_conflict1_conflict2", "d"), ("tier_conflict1_conflict1_conflict2", "e")],
    "configmap": [("app_kubernetes_io_name_conflict1_conflict1", "d"), ("app_kubernetes_io_name_conflict2", "a"),
                  ("app_kubernetes_io_name_conflict3", "b"), ("app_kubernetes_io_name_conflict1_conflict2", "c")],
    "taken-before": [("b_c_conflict2", "taken"), ("b_c_conflict1", "dash"), ("b_c_conflict3", "dot"),
                     ("b_c_conflict4", "underscore")],
    "renamed-again": [("a_conflict1", "upper"), ("a_conflict2_conflict1", "lower"),
                      ("a_conflict2_conflict2", "taken")],
    "upstream-skip": [("a_b_conflict1", "already_taken"), ("a_b_conflict2", "dash"), ("a_b_conflict3", "dot")],
    "late-base": [("x_y_conflict1_conflict1", "dot"), ("x_y_conflict2_conflict1", "camel"), ("x_y_conflict3", "underscore"),
                  ("x_y_conflict1_conflict2", "taken"), ("x_y_conflict2_conflict2", "taken2")],
}
