"""kube_topology_relation: table cases per relation type, derived as the StackState agent does
(docs/stackstate.md §1.3), from small hand-written objects."""

from __future__ import annotations

import dataclasses

import pytest

from ksm_py.topology.model import RELATION_TYPES

from ._util import Obj, obj, owner, pod, topology


@dataclasses.dataclass
class Case:
    id: str
    objects: list[Obj]
    want: set[str]           # exactly these relations of the listed types
    types: tuple[str, ...]   # relation types the case is about ("encloses namespace": only those from a namespace)


def slice_(name: str, service: str, pods: list[str], address_type: str = "IPv4") -> Obj:
    return obj("discovery.k8s.io/v1", "EndpointSlice", name,
               metadata={"labels": {"kubernetes.io/service-name": service}}, addressType=address_type,
               endpoints=[{"addresses": ["10.0.0.1"], "targetRef": {"kind": "Pod", "namespace": "shop", "name": p}}
                          for p in pods])


CASES = [
    Case("belongs_to-node-cluster", [obj("v1", "Node", "n1", None)], {"belongs_to node//n1 -> cluster//kubernetes"},
         ("belongs_to",)),
    Case("scheduled_on-pod-node", [pod("p", node="n1")], {"scheduled_on pod/shop/p -> node//n1"}, ("scheduled_on",)),
    Case("scheduled_on-none-when-pending", [pod("p", phase="Pending")], set(), ("scheduled_on",)),
    Case("controls-replicaset-pod", [pod("p", owners=owner("ReplicaSet", "rs"))],
         {"controls replicaset/shop/rs -> pod/shop/p"}, ("controls", "encloses namespace")),
    Case("controls-statefulset-daemonset-job-pods", [
        pod("s-0", owners=owner("StatefulSet", "s")), pod("d-x", owners=owner("DaemonSet", "d")),
        pod("j-x", owners=owner("Job", "j"))],
         {"controls statefulset/shop/s -> pod/shop/s-0", "controls daemonset/shop/d -> pod/shop/d-x",
          "controls job/shop/j -> pod/shop/j-x"}, ("controls", "encloses namespace")),
    Case("controls-deployment-replicaset", [obj("apps/v1", "ReplicaSet", "web-1", metadata={
        "ownerReferences": owner("Deployment", "web")})], {"controls deployment/shop/web -> replicaset/shop/web-1"},
         ("controls", "encloses namespace")),
    # A finished Job pod stays controlled by its Job (the agent encloses it in the namespace instead,
    # which left a completed CronJob run's pod unconnected): CronJob -> Job -> Pod holds.
    Case("controls-finished-job-pods", [
        obj("batch/v1", "Job", "nightly-1", metadata={"ownerReferences": owner("CronJob", "nightly")}),
        pod("nightly-1-x", phase="Succeeded", owners=owner("Job", "nightly-1")),
        pod("nightly-1-y", phase="Failed", owners=owner("Job", "nightly-1"))],
         {"creates cronjob/shop/nightly -> job/shop/nightly-1", "controls job/shop/nightly-1 -> pod/shop/nightly-1-x",
          "controls job/shop/nightly-1 -> pod/shop/nightly-1-y"}, ("controls", "creates", "encloses namespace")),
    # ReplicationControllers (no agent type; modelled like a ReplicaSet): enclosed by the namespace,
    # controlling their pods.
    Case("controls-replicationcontroller-pods", [
        obj("v1", "ReplicationController", "legacy", spec={"replicas": 2, "selector": {"app": "legacy"}}),
        pod("legacy-a", owners=owner("ReplicationController", "legacy")),
        pod("legacy-b", phase="Pending", owners=owner("ReplicationController", "legacy"))],
         {"encloses namespace/shop/shop -> replicationcontroller/shop/legacy",
          "controls replicationcontroller/shop/legacy -> pod/shop/legacy-a",
          "controls replicationcontroller/shop/legacy -> pod/shop/legacy-b"}, ("controls", "encloses namespace")),
    Case("encloses-unowned-and-mirror-pods", [pod("p"), pod("mirror", owners=owner("Node", "n1"))],
         {"encloses namespace/shop/shop -> pod/shop/p", "encloses namespace/shop/shop -> pod/shop/mirror"},
         ("controls", "encloses namespace")),
    Case("encloses-namespace-workloads-and-services", [
        obj("apps/v1", "Deployment", "d"), obj("apps/v1", "StatefulSet", "s"), obj("apps/v1", "DaemonSet", "ds"),
        obj("batch/v1", "CronJob", "cj"), obj("v1", "Service", "svc"), obj("apps/v1", "ReplicaSet", "rs"),
        obj("batch/v1", "Job", "j")],
         {"encloses namespace/shop/shop -> deployment/shop/d", "encloses namespace/shop/shop -> statefulset/shop/s",
          "encloses namespace/shop/shop -> daemonset/shop/ds", "encloses namespace/shop/shop -> cronjob/shop/cj",
          "encloses namespace/shop/shop -> service/shop/svc", "encloses namespace/shop/shop -> replicaset/shop/rs",
          "encloses namespace/shop/shop -> job/shop/j"}, ("encloses",)),
    Case("encloses-pod-containers", [pod("p", containers=[{"name": "a"}, {"name": "b"}],
                                         init_containers=[{"name": "init"}])],
         {"encloses pod/shop/p -> container/shop/p/a", "encloses pod/shop/p -> container/shop/p/b",
          "encloses namespace/shop/shop -> pod/shop/p"}, ("encloses",)),
    Case("creates-cronjob-job", [obj("batch/v1", "Job", "nightly-1", metadata={
        "ownerReferences": owner("CronJob", "nightly")})], {"creates cronjob/shop/nightly -> job/shop/nightly-1"},
         ("creates", "encloses")),
    Case("runs_on-container-node", [pod("p", node="n1", containers=[{"name": "a"}, {"name": "b"}])],
         {"runs_on container/shop/p/a -> node//n1", "runs_on container/shop/p/b -> node//n1"}, ("runs_on",)),
    Case("runs_on-none-when-unscheduled", [pod("p")], set(), ("runs_on",)),
    Case("uses-envfrom", [pod("p", containers=[{"name": "a", "envFrom": [
        {"configMapRef": {"name": "cm"}}, {"secretRef": {"name": "sec"}}, {"prefix": "X_", "configMapRef": {"name": "cm"}},
        {"secretRef": {"name": "maybe", "optional": True}}]}])],
         {"uses pod/shop/p -> configmap/shop/cm", "uses pod/shop/p -> secret/shop/sec",
          "uses pod/shop/p -> secret/shop/maybe (optional)"}, ("uses",)),
    Case("uses-init-container-envfrom", [pod("p", init_containers=[{"name": "i", "envFrom": [
        {"configMapRef": {"name": "boot"}}]}])], {"uses pod/shop/p -> configmap/shop/boot"}, ("uses",)),
    Case("uses-service-external-service", [obj("v1", "Service", "db", spec={"type": "ExternalName",
                                                                            "externalName": "db.example"})],
         {"uses service/shop/db -> external-service/shop/db"}, ("uses",)),
    Case("uses_value-env", [pod("p", containers=[{"name": "a", "env": [
        {"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "a"}}},
        {"name": "B", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "b"}}},
        {"name": "C", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "D", "value": "plain"}]}, {"name": "b", "env": [
        # Referenced optionally here and required above: required wins.
        {"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "a", "optional": True}}}]}])],
         {"uses_value pod/shop/p -> configmap/shop/cm", "uses_value pod/shop/p -> secret/shop/sec"}, ("uses_value",)),
    Case("exposes-service-pod-from-endpointslices", [slice_("web-abc", "web", ["p1", "p2"]), slice_("web-def", "web", ["p3"])],
         {"exposes service/shop/web -> pod/shop/p1", "exposes service/shop/web -> pod/shop/p2",
          "exposes service/shop/web -> pod/shop/p3"}, ("exposes",)),
    # Dual-stack: the same pod in the IPv4 and the IPv6 slice is one relation (one series).
    Case("exposes-dual-stack-once", [slice_("web-4", "web", ["p1"]), slice_("web-6", "web", ["p1"], "IPv6")],
         {"exposes service/shop/web -> pod/shop/p1"}, ("exposes",)),
    Case("exposes-not-for-non-pod-targets-or-slices-without-service", [
        obj("discovery.k8s.io/v1", "EndpointSlice", "x", metadata={"labels": {"kubernetes.io/service-name": "ext"}},
            endpoints=[{"addresses": ["1.1.1.1"]}, {"addresses": ["1.1.1.2"], "targetRef": {"kind": "Node", "name": "n"}}]),
        obj("discovery.k8s.io/v1", "EndpointSlice", "y", endpoints=[{"targetRef": {"kind": "Pod", "name": "p"}}])],
         set(), ("exposes",)),
    Case("exposes-pvc-pv", [obj("v1", "PersistentVolumeClaim", "data", spec={"volumeName": "pv-1"})],
         {"exposes persistent-volume-claim/shop/data -> persistent-volume//pv-1"}, ("exposes",)),
    Case("exposes-pvc-unbound", [obj("v1", "PersistentVolumeClaim", "data", spec={})], set(), ("exposes",)),
    Case("exposes-pv-volume-source", [obj("v1", "PersistentVolume", "pv-1", None, spec={
        "awsElasticBlockStore": {"volumeID": "aws://eu-west-1a/vol-0abc"}})],
         {"exposes persistent-volume//pv-1 -> volume-source//aws-ebs/eu-west-1a/vol-0abc/0"}, ("exposes",)),
    Case("exposes-pv-csi-volume-source", [obj("v1", "PersistentVolume", "pv-2", None, spec={
        "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-1"}})],
         {"exposes persistent-volume//pv-2 -> volume-source//csi/ebs.csi.aws.com/vol-1"}, ("exposes",)),
    Case("exposes-node-pv-from-volumeattachment", [obj("storage.k8s.io/v1", "VolumeAttachment", "csi-123", None, spec={
        "attacher": "ebs.csi.aws.com", "nodeName": "n1", "source": {"persistentVolumeName": "pv-2"}})],
         {"exposes node//n1 -> persistent-volume//pv-2"}, ("exposes",)),
    Case("routes-ingress-services", [obj("networking.k8s.io/v1", "Ingress", "web", spec={
        "defaultBackend": {"service": {"name": "fallback", "port": {"number": 80}}},
        "rules": [{"host": "a.example", "http": {"paths": [
            {"path": "/", "backend": {"service": {"name": "web", "port": {"number": 80}}}},
            {"path": "/api", "backend": {"service": {"name": "api", "port": {"name": "http"}}}},
            {"path": "/static", "backend": {"resource": {"kind": "StorageBucket", "name": "b"}}}]}},
            {"host": "b.example", "http": {"paths": [
                {"path": "/", "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]})],
         {"routes ingress/shop/web -> service/shop/fallback", "routes ingress/shop/web -> service/shop/web",
          "routes ingress/shop/web -> service/shop/api"}, ("routes",)),
    Case("routes-endpoint-ingress", [obj("networking.k8s.io/v1", "Ingress", "web", spec={}, status={
        "loadBalancer": {"ingress": [{"ip": "10.1.2.3", "hostname": "lb.example"}]}})],
         {"routes endpoint//10.1.2.3 -> ingress/shop/web", "routes endpoint//lb.example -> ingress/shop/web"},
         ("routes",)),
    Case("claims-pod-volumes", [pod("p", node="n1", volumes=[
        {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
        {"name": "cfg", "configMap": {"name": "cm"}},
        {"name": "sec", "secret": {"secretName": "tls", "optional": True}},
        {"name": "tmp", "emptyDir": {"medium": "Memory"}},
        {"name": "logs", "hostPath": {"path": "/var/log"}},
        {"name": "info", "downwardAPI": {"items": []}},
        {"name": "api", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}},
        {"name": "disk", "gcePersistentDisk": {"pdName": "pd-1"}}])],
         {"claims pod/shop/p -> persistent-volume-claim/shop/data", "claims pod/shop/p -> configmap/shop/cm",
          "claims pod/shop/p -> secret/shop/tls (optional)", "claims pod/shop/p -> volume/shop/p/tmp",
          "claims pod/shop/p -> volume//hostpath/n1/var/log", "claims pod/shop/p -> volume/shop/p/api",
          "claims pod/shop/p -> volume//gce-pd/pd-1"}, ("claims",)),
    # hostPath of a pod not yet scheduled is pod-scoped (there is no node to place it on).
    Case("claims-hostpath-unscheduled", [pod("p", volumes=[{"name": "logs", "hostPath": {"path": "/var/log"}}])],
         {"claims pod/shop/p -> volume/shop/p/logs"}, ("claims",)),
    Case("mounts-container-volumes", [pod("p", containers=[
        {"name": "a", "volumeMounts": [{"name": "data", "mountPath": "/d"}, {"name": "info", "mountPath": "/i"},
                                       {"name": "cfg", "mountPath": "/c", "subPath": "x"}, {"name": "nope", "mountPath": "/n"}]},
        {"name": "b", "volumeMounts": [{"name": "tmp", "mountPath": "/t"}]}], volumes=[
        {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
        {"name": "cfg", "configMap": {"name": "cm", "optional": True}},
        {"name": "tmp", "emptyDir": {}},
        {"name": "info", "downwardAPI": {"items": []}}])],
         {"mounts container/shop/p/a -> persistent-volume-claim/shop/data", "mounts container/shop/p/a -> pod/shop/p",
          "mounts container/shop/p/a -> configmap/shop/cm (optional)", "mounts container/shop/p/b -> volume/shop/p/tmp"},
         ("mounts",)),
    Case("projects-projected-volume", [pod("p", volumes=[{"name": "bundle", "projected": {"sources": [
        {"configMap": {"name": "cm"}}, {"secret": {"name": "sec", "optional": True}},
        {"serviceAccountToken": {"path": "t"}}, {"downwardAPI": {"items": []}}]}}])],
         {"projects volume/shop/p/bundle -> configmap/shop/cm", "projects volume/shop/p/bundle -> secret/shop/sec (optional)"},
         ("projects",)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_relation(case: Case) -> None:
    _, relations = topology(case.objects)
    assert {r for r in relations if any(r.startswith(t + (" " if " " not in t else "/")) for t in case.types)} \
        == case.want


def test_every_relation_type_has_a_case() -> None:
    covered = {r.split(" ", 1)[0] for case in CASES for r in case.want}
    assert covered == set(RELATION_TYPES)


def test_a_whole_pod() -> None:
    """Every relation of one realistic pod, and nothing else."""
    p = pod("web-1", node="n1", owners=owner("ReplicaSet", "web-abc"), containers=[{
        "name": "app", "envFrom": [{"configMapRef": {"name": "settings"}}],
        "env": [{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}],
        "volumeMounts": [{"name": "kube-api-access-x", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"},
                         {"name": "data", "mountPath": "/data"}]}],
        volumes=[{"name": "kube-api-access-x", "projected": {"sources": [
            {"serviceAccountToken": {"path": "token"}}, {"configMap": {"name": "kube-root-ca.crt"}},
            {"downwardAPI": {"items": []}}]}},
            {"name": "data", "persistentVolumeClaim": {"claimName": "data"}}])
    components, relations = topology([p])
    assert components == {"pod/shop/web-1", "container/shop/web-1/app", "volume/shop/web-1/kube-api-access-x"}
    assert relations == {
        "scheduled_on pod/shop/web-1 -> node//n1",
        "controls replicaset/shop/web-abc -> pod/shop/web-1",
        "uses pod/shop/web-1 -> configmap/shop/settings",
        "uses_value pod/shop/web-1 -> secret/shop/db",
        "claims pod/shop/web-1 -> volume/shop/web-1/kube-api-access-x",
        "claims pod/shop/web-1 -> persistent-volume-claim/shop/data",
        "projects volume/shop/web-1/kube-api-access-x -> configmap/shop/kube-root-ca.crt",
        "encloses pod/shop/web-1 -> container/shop/web-1/app",
        "runs_on container/shop/web-1/app -> node//n1",
        "mounts container/shop/web-1/app -> volume/shop/web-1/kube-api-access-x",
        "mounts container/shop/web-1/app -> persistent-volume-claim/shop/data",
    }


@pytest.mark.parametrize(("source", "want"), [
    ({"awsElasticBlockStore": {"volumeID": "vol-1", "partition": 2}}, "aws-ebs/vol-1/2"),
    ({"azureDisk": {"diskName": "d", "diskURI": "u"}}, "azure-disk/d"),
    ({"azureFile": {"shareName": "s", "secretName": "x"}}, "azure-file/s"),
    ({"cephfs": {"monitors": ["m1", "m2"], "path": "/p"}}, "ceph-fs/m1/p"),
    ({"cephfs": {"monitors": ["m1"]}}, "ceph-fs/m1"),
    ({"cinder": {"volumeID": "c"}}, "cinder/c"),
    ({"fc": {"targetWWNs": ["w1"], "lun": 3}}, "fibre-channel/w1-lun-3"),
    ({"fc": {"wwids": ["id1"]}}, "fibre-channel/id1"),
    ({"flexVolume": {"driver": "dr"}}, "flex/dr"),
    ({"flocker": {"datasetName": "ds"}}, "flocker/ds"),
    ({"gcePersistentDisk": {"pdName": "pd"}}, "gce-pd/pd"),
    ({"gitRepo": {"repository": "https://git.example/r"}}, "git-repo/https://git.example/r"),
    ({"glusterfs": {"endpoints": "ep", "path": "vol"}}, "gluster-fs/ep/vol"),
    ({"iscsi": {"targetPortal": "10.0.0.1:3260", "iqn": "iqn.x", "lun": 0}}, "iscsi/10.0.0.1:3260/iqn.x/0"),
    ({"nfs": {"server": "s", "path": "/e"}}, "nfs/s/e"),
    ({"photonPersistentDisk": {"pdID": "ph"}}, "photon/ph"),
    ({"portworxVolume": {"volumeID": "px"}}, "portworx/px"),
    ({"quobyte": {"registry": "r", "volume": "v"}}, "quobyte/r/v"),
    ({"rbd": {"monitors": ["m"], "image": "img"}}, "rbd/m/rbd-image-img"),
    ({"scaleIO": {"gateway": "g", "system": "s"}}, "scale-io/g/s"),
    ({"storageos": {"volumeNamespace": "ns", "volumeName": "v"}}, "storage-os/ns/v"),
    ({"vsphereVolume": {"volumePath": "[ds] vols/v.vmdk"}}, "vsphere/[ds] vols/v.vmdk"),
])
def test_external_volume_names(source: dict[str, object], want: str) -> None:
    pv = obj("v1", "PersistentVolume", "pv", None, spec=source)
    _, relations = topology([pv])
    assert relations == {f"exposes persistent-volume//pv -> volume-source//{want}"}


def test_malformed_objects_render_what_they_can() -> None:
    bad = [obj("v1", "Pod", "p", spec={"containers": "nope", "volumes": [None, 3, {"name": 5}]}, status=[]),
           obj("networking.k8s.io/v1", "Ingress", "i", spec={"rules": [{"http": {"paths": "x"}}]}, status="y"),
           ]
    components, relations = topology(bad)
    assert "pod/shop/p" in components and "ingress/shop/i" in components
    assert "encloses namespace/shop/shop -> pod/shop/p" in relations
