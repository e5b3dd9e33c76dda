"""Reading the topology from ksm-py: exposition parsing, /topology JSON, and refusing partial reads."""

from __future__ import annotations

import orjson
import pytest

from ksm_py.bridge.model import Key
from ksm_py.bridge.sources import (
    Http,
    JsonSource,
    MetricsSource,
    SourceIncomplete,
    parse_metrics,
    parse_sample,
    parse_topology_json,
)

from .conftest import FakeServer

HEADER = ("# HELP kube_topology_component [ALPHA] A component.\n# TYPE kube_topology_component gauge\n"
          "# HELP kube_topology_relation [ALPHA] A relation.\n# TYPE kube_topology_relation gauge\n")
BODY = HEADER + """\
kube_topology_component{type="cluster",namespace="",name="kubernetes",uid=""} 1
kube_topology_component{type="namespace",namespace="shop",name="shop",uid="u-ns"} 1
kube_topology_component{type="node",namespace="",name="n1",uid="u-n1"} 1
kube_topology_component{type="pod",namespace="shop",name="web-1",uid="u-p"} 1
kube_topology_component{type="container",namespace="shop",name="web-1/nginx",uid=""} 1
kube_topology_component{type="service",namespace="shop",name="web",uid="u-s"} 1
kube_topology_relation{type="belongs_to",source_type="node",source_namespace="",source_name="n1",target_type="cluster",target_namespace="",target_name="kubernetes"} 1
kube_topology_relation{type="uses",source_type="pod",source_namespace="shop",source_name="web-1",target_type="configmap",target_namespace="shop",target_name="gone",optional="true"} 1
# HELP kube_pod_labels [STABLE] Kubernetes labels converted to Prometheus labels.
# TYPE kube_pod_labels gauge
kube_pod_labels{namespace="shop",pod="web-1",uid="u-p",label_app="web",label_app_kubernetes_io_name="shop"} 1
kube_pod_info{namespace="shop",pod="web-1",uid="u-p",host_ip="",pod_ip="",node="n1",created_by_kind="",created_by_name="",priority_class="",host_network="false"} 1
kube_pod_status_phase{namespace="shop",pod="web-1",uid="u-p",phase="Pending"} 0
kube_pod_status_phase{namespace="shop",pod="web-1",uid="u-p",phase="Running"} 1
kube_pod_container_info{namespace="shop",pod="web-1",uid="u-p",container="nginx",image_spec="nginx",image="nginx",image_id="",container_id="containerd://abc"} 1
kube_node_info{node="n1",kernel_version="",os_image="",container_runtime_version="",kubelet_version="",kubeproxy_version="deprecated",provider_id="kind://n1",pod_cidr="",system_uuid="",internal_ip="10.0.0.9"} 1
kube_namespace_labels{namespace="shop",label_team="a"} 1
kube_service_info{namespace="shop",service="web",uid="u-s",cluster_ip="10.96.1.1",external_name="",load_balancer_ip="",external_traffic_policy=""} 1
kube_service_spec_type{namespace="shop",service="web",uid="u-s",type="ClusterIP"} 1
kube_deployment_labels{namespace="shop",deployment="not-a-component",label_x="y"} 1
"""


def test_parse_sample_with_escapes() -> None:
    name, labels, value = parse_sample('m{a="x\\"y",b="1\\\\2\\n",c="}{, "} 1.5 1700000000')
    assert (name, labels, value) == ("m", {"a": 'x"y', "b": "1\\2\n", "c": "}{, "}, "1.5")
    assert parse_sample("up 1") == ("up", {}, "1")
    with pytest.raises(ValueError):
        parse_sample('m{a="x" b="y"} 1')


def test_parse_metrics_components_relations_and_facts() -> None:
    t = parse_metrics(BODY)
    assert set(t.components) == {Key("cluster", "", "kubernetes"), Key("namespace", "shop", "shop"),
                                 Key("node", "", "n1"), Key("pod", "shop", "web-1"),
                                 Key("container", "shop", "web-1/nginx"), Key("service", "shop", "web")}
    assert [r.type for r in t.relations] == ["belongs_to", "uses"]
    pod = t.components[Key("pod", "shop", "web-1")]
    assert (pod.uid, pod.phase, pod.node) == ("u-p", "Running", "n1")
    assert pod.labels == {"app": "web", "app_kubernetes_io_name": "shop"}
    assert t.components[Key("namespace", "shop", "shop")].labels == {"team": "a"}
    assert t.components[Key("container", "shop", "web-1/nginx")].container_id == "containerd://abc"
    node = t.components[Key("node", "", "n1")]
    assert (node.addresses, node.provider_id) == ([("InternalIP", "10.0.0.9")], "kind://n1")
    svc = t.components[Key("service", "shop", "web")]
    assert (svc.cluster_ip, svc.service_type) == ("10.96.1.1", "ClusterIP")
    # facts never create components
    assert Key("deployment", "shop", "not-a-component") not in t.components


def test_node_status_addresses_win_over_node_info() -> None:
    body = BODY + 'kube_node_status_addresses{node="n1",type="InternalIP",address="10.0.0.1"}\n' \
                  'kube_node_status_addresses{node="n1",type="Hostname",address="n1"} 1\n'
    body = body.replace("{node=\"n1\",type=\"InternalIP\",address=\"10.0.0.1\"}\n",
                        "{node=\"n1\",type=\"InternalIP\",address=\"10.0.0.1\"} 1\n")
    node = parse_metrics(body).components[Key("node", "", "n1")]
    assert node.addresses == [("InternalIP", "10.0.0.1"), ("Hostname", "n1")]


def test_no_topology_family_is_incomplete() -> None:
    with pytest.raises(SourceIncomplete) as e:
        parse_metrics('kube_pod_info{namespace="a",pod="b"} 1\n')
    assert e.value.reason == "no_topology"


def test_openmetrics_without_eof_is_cut_off() -> None:
    with pytest.raises(SourceIncomplete) as e:
        parse_metrics(BODY, openmetrics=True)
    assert e.value.reason == "bad_response"
    assert parse_metrics(BODY + "# EOF\n", openmetrics=True).components


def test_malformed_topology_line_is_incomplete() -> None:
    with pytest.raises(SourceIncomplete) as e:
        parse_metrics(HEADER + 'kube_topology_component{type="pod",namespace="a" 1\n')
    assert e.value.reason == "bad_response"


def test_parse_topology_json() -> None:
    doc = {"cluster": "kubernetes",
           "components": [{"type": "pod", "namespace": "a", "name": "p", "uid": "u"},
                          {"type": "configmap", "namespace": "a", "name": "c", "uid": "u2", "labels": {"x": "y"}}],
           "relations": [{"type": "uses", "source": {"type": "pod", "namespace": "a", "name": "p"},
                          "target": {"type": "configmap", "namespace": "a", "name": "c"}, "optional": True}]}
    t = parse_topology_json(orjson.dumps(doc))
    assert t.components[Key("pod", "a", "p")].uid == "u"
    assert t.components[Key("configmap", "a", "c")].labels == {"x": "y"}
    assert t.relations[0].target == Key("configmap", "a", "c")
    for bad in (b"{", b"[]", b'{"components": []}'):
        with pytest.raises(SourceIncomplete):
            parse_topology_json(bad)


OM = "application/openmetrics-text; version=1.0.0; charset=utf-8"


def _ksm(server: FakeServer, *, ready: list[int] | int = 200, metrics: tuple[int, str, str] | None = None) -> None:
    statuses = ready if isinstance(ready, list) else [ready]
    server.routes["/readyz"] = [(s, {}, b"") for s in statuses]
    status, ctype, body = metrics or (200, OM, BODY + "# EOF\n")
    server.routes["/metrics"] = (status, {"Content-Type": ctype}, body.encode())


def _source(server: FakeServer) -> MetricsSource:
    return MetricsSource(server.url("/metrics"), server.url("/readyz"), Http(timeout=5))


def test_metrics_source_reads_when_ready(server: FakeServer) -> None:
    _ksm(server)
    assert len(_source(server).read().components) == 6
    paths = [r.path for r in server.requests]
    # readyz, the telemetry /metrics next to it (shards), the scrape, readyz again
    assert paths == ["/readyz", "/metrics", "/metrics", "/readyz"]
    assert server.requests[2].headers["accept"].startswith("application/openmetrics-text")


def test_a_shard_of_ksm_py_is_a_partial_source(server: FakeServer) -> None:
    _ksm(server, metrics=(200, OM, BODY + "kube_state_metrics_total_shards 1\n# EOF\n"))
    assert _source(server).read().components
    _ksm(server, metrics=(200, OM, BODY + "kube_state_metrics_total_shards 3\n# EOF\n"))
    with pytest.raises(SourceIncomplete) as e:
        _source(server).read()
    assert e.value.reason == "sharded"


@pytest.mark.parametrize(("ready", "metrics", "reason"), [
    ([503], None, "not_ready"),
    ([200, 503], None, "not_ready"),  # ksm-py restarted during the scrape
    (200, (500, "text/plain", "boom"), "scrape_error"),
    (200, (200, OM, BODY), "bad_response"),  # no # EOF: cut off
    (200, (200, "text/plain; version=0.0.4", "kube_pod_info 1\n"), "no_topology"),
])
def test_metrics_source_refuses_partial_reads(server: FakeServer, ready: list[int] | int,
                                              metrics: tuple[int, str, str] | None, reason: str) -> None:
    _ksm(server, ready=ready, metrics=metrics)
    with pytest.raises(SourceIncomplete) as e:
        _source(server).read()
    assert e.value.reason == reason


def test_unreachable_ksm_py_is_not_ready() -> None:
    from tests.conftest import free_port

    port = free_port()
    src = MetricsSource(f"http://127.0.0.1:{port}/metrics", f"http://127.0.0.1:{port}/readyz", Http(timeout=2))
    with pytest.raises(SourceIncomplete) as e:
        src.read()
    assert e.value.reason == "not_ready"
    no_readyz = MetricsSource(f"http://127.0.0.1:{port}/metrics", "", Http(timeout=2))
    with pytest.raises(SourceIncomplete) as e:
        no_readyz.read()
    assert e.value.reason == "scrape_error"


def test_json_source(server: FakeServer) -> None:
    server.routes["/readyz"] = (200, {}, b"OK")
    server.routes["/topology"] = (200, {"Content-Type": "application/json"}, orjson.dumps(
        {"cluster": "k", "components": [{"type": "namespace", "namespace": "a", "name": "a", "uid": ""}],
         "relations": []}))
    src = JsonSource(server.url("/topology"), server.url("/readyz"), Http(timeout=5))
    assert list(src.read().components) == [Key("namespace", "a", "a")]
    server.routes["/readyz"] = (503, {}, b"")
    with pytest.raises(SourceIncomplete):
        src.read()
