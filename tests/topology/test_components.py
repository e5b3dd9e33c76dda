"""kube_topology_component: one table case per component type, from small hand-written objects."""

from __future__ import annotations

import dataclasses

import pytest

from ksm_py.topology.model import COMPONENT_TYPES

from ._util import Obj, graph, obj, pod, render


@dataclasses.dataclass
class Case:
    id: str
    objects: list[Obj]
    want: dict[str, str]  # component -> uid, the cluster component excluded


CASES = [
    Case("namespace", [obj("v1", "Namespace", "shop", None)], {"namespace/shop/shop": "uid-shop"}),
    Case("node", [obj("v1", "Node", "n1", None)], {"node//n1": "uid-n1"}),
    Case("pod-and-container", [pod("p", containers=[{"name": "app"}, {"name": "side"}],
                                   init_containers=[{"name": "init"}])],
         {"pod/shop/p": "uid-p", "container/shop/p/app": "", "container/shop/p/side": ""}),
    Case("service", [obj("v1", "Service", "web", spec={"type": "ClusterIP", "selector": {"app": "web"}})],
         {"service/shop/web": "uid-web"}),
    Case("external-service", [obj("v1", "Service", "db", spec={"type": "ExternalName", "externalName": "db.example"})],
         {"service/shop/db": "uid-db", "external-service/shop/db": "uid-db"}),
    Case("ingress-and-endpoint", [obj("networking.k8s.io/v1", "Ingress", "web", spec={},
                                      status={"loadBalancer": {"ingress": [{"ip": "10.1.2.3"},
                                                                           {"hostname": "lb.example"}]}})],
         {"ingress/shop/web": "uid-web", "endpoint//10.1.2.3": "", "endpoint//lb.example": ""}),
    Case("deployment", [obj("apps/v1", "Deployment", "d")], {"deployment/shop/d": "uid-d"}),
    Case("replicaset", [obj("apps/v1", "ReplicaSet", "rs")], {"replicaset/shop/rs": "uid-rs"}),
    Case("replicationcontroller", [obj("v1", "ReplicationController", "rc", spec={"replicas": 1})],
         {"replicationcontroller/shop/rc": "uid-rc"}),
    Case("statefulset", [obj("apps/v1", "StatefulSet", "s")], {"statefulset/shop/s": "uid-s"}),
    Case("daemonset", [obj("apps/v1", "DaemonSet", "ds")], {"daemonset/shop/ds": "uid-ds"}),
    Case("job", [obj("batch/v1", "Job", "j")], {"job/shop/j": "uid-j"}),
    Case("cronjob", [obj("batch/v1", "CronJob", "cj", spec={"schedule": "* * * * *"})], {"cronjob/shop/cj": "uid-cj"}),
    Case("configmap", [obj("v1", "ConfigMap", "cm", data={"k": "v"})], {"configmap/shop/cm": "uid-cm"}),
    # What a metadata-only list/watch delivers.
    Case("configmap-metadata-only", [{"apiVersion": "v1", "kind": "ConfigMap",
                                      "metadata": {"name": "cm", "namespace": "shop", "uid": "u"}}],
         {"configmap/shop/cm": "u"}),
    Case("secret", [obj("v1", "Secret", "s", type="Opaque", data={"password": "c2VjcmV0"})], {"secret/shop/s": "uid-s"}),
    Case("persistent-volume", [obj("v1", "PersistentVolume", "pv", None, spec={"capacity": {"storage": "1Gi"}})],
         {"persistent-volume//pv": "uid-pv"}),
    Case("persistent-volume-claim", [obj("v1", "PersistentVolumeClaim", "data", spec={})],
         {"persistent-volume-claim/shop/data": "uid-data"}),
    Case("volume", [pod("p", node="n1", volumes=[
        {"name": "tmp", "emptyDir": {}},
        {"name": "api", "projected": {"sources": []}},
        {"name": "csi", "csi": {"driver": "inline.example"}},
        {"name": "logs", "hostPath": {"path": "/var/log"}},
        {"name": "share", "nfs": {"server": "nfs.example", "path": "/exports/share"}},
    ])], {"pod/shop/p": "uid-p", "container/shop/p/app": "", "volume/shop/p/tmp": "", "volume/shop/p/api": "",
          "volume/shop/p/csi": "", "volume//hostpath/n1/var/log": "", "volume//nfs/nfs.example/exports/share": ""}),
    Case("volume-source", [obj("v1", "PersistentVolume", "pv", None,
                               spec={"nfs": {"server": "nfs.example", "path": "/exports/pv"}})],
         {"persistent-volume//pv": "uid-pv", "volume-source//nfs/nfs.example/exports/pv": ""}),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_component(case: Case) -> None:
    components, _ = graph(render(case.objects))
    assert components.pop("cluster//kubernetes") == ""
    assert components == case.want


def test_cluster_component_has_the_configured_name() -> None:
    components, relations = graph(render([obj("v1", "Node", "n1", None)], cluster="prod-eu"))
    assert components == {"cluster//prod-eu": "", "node//n1": "uid-n1"}
    assert relations == {"belongs_to node//n1 -> cluster//prod-eu"}


def test_every_component_type_has_a_case() -> None:
    covered = {c.split("/", 1)[0] for case in CASES for c in case.want} | {"cluster"}
    assert covered == set(COMPONENT_TYPES)


def test_secret_data_and_configmap_data_never_reach_the_output() -> None:
    text = render([obj("v1", "Secret", "s", data={"password": "c2VjcmV0"}, stringData={"token": "hunter2"}),
                   obj("v1", "ConfigMap", "cm", data={"key": "very-private"})])
    for needle in ("c2VjcmV0", "hunter2", "very-private", "password"):
        assert needle not in text


def test_headers_and_exact_lines() -> None:
    lines = render([obj("v1", "Node", "n1", None)]).splitlines()
    assert [line for line in lines if line.startswith("#")] == [
        "# HELP kube_topology_component A component of the cluster topology (StackState component types); type, "
        "namespace and name identify it, uid is the Kubernetes object's uid when it is one.",
        "# TYPE kube_topology_component gauge",
        "# HELP kube_topology_relation A relation of the cluster topology (StackState relation types), from the "
        "source component to the target component; the target may not exist (a dangling reference).",
        "# TYPE kube_topology_relation gauge",
    ]
    assert sorted(line for line in lines if not line.startswith("#")) == [
        'kube_topology_component{type="cluster",namespace="",name="kubernetes",uid=""} 1',
        'kube_topology_component{type="node",namespace="",name="n1",uid="uid-n1"} 1',
        'kube_topology_relation{type="belongs_to",source_type="node",source_namespace="",source_name="n1",'
        'target_type="cluster",target_namespace="",target_name="kubernetes"} 1',
    ]


def test_label_values_are_escaped() -> None:
    text = render([obj("v1", "ConfigMap", 'we"ird\\name')])
    assert 'name="we\\"ird\\\\name"' in text
