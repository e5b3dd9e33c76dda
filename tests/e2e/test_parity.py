"""Parity with upstream: ksm-py and the kube-state-metrics binary, same flags, same cluster, same series.

A varied set of objects covering all 39 resources is created once (odd quantities, waiting and
terminated containers, init containers, taints, conditions, HPA metric types, several volume
sources, every Service type, labels and annotations that need sanitising and conflict, ...). Pods
that need states kwok does not play run on a Node no kubelet manages, so their status is written
through the ``/status`` subresource and stays as written.

Then both exporters run with the same flags and their normalised series sets are compared family by
family, until a scrape pair matches (objects change meanwhile: leases renew, controllers write
status). Remaining differences would have to be listed in README's "Deliberate deviations" table
and filtered in ``KNOWN_DEVIATIONS`` below (today: one, the last-applied-configuration annotation
of Secrets and ConfigMaps).

Also: with 3 shards each, every ksm-py shard equals the upstream shard of the same ordinal (and the
union equals upstream's), and Custom Resource State metrics over a CRD created by the test (found
while both exporters run, dropped when the CRD goes) equal upstream's for the same configuration.
"""

from __future__ import annotations

import base64
import datetime
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from harness import build
from harness.controlplane import wait_for
from ksm_py.options import KSM_RESOURCES
from tests.conftest import Process, built, free_port, http_get, ksm_py_argv, wait_http_ok
from tests.expo import parse_line, series_key
from tests.label_conflicts import CASES as CONFLICT_CASES
from tests.label_conflicts import EXPECTED as CONFLICT_EXPECTED
from tests.promcheck import CONTENT_TYPE_OPENMETRICS, checker

pytestmark = pytest.mark.e2e

RESOURCES_FLAG = "--resources=" + ",".join(KSM_RESOURCES)
ALLOWLISTS = ["--metric-labels-allowlist=*=[*]", "--metric-annotations-allowlist=*=[*]",
              "--metric-opt-in-list=kube_pod_nodeselectors,kube_persistentvolume_csi_attributes"]

# Differences that are deliberate (README "Deliberate deviations from upstream"): per family, a
# rewrite of the normalised series key applied to both sides before comparing.
_LAST_APPLIED = re.compile(r'annotation_kubectl_kubernetes_io_last_applied_configuration="(?:[^"\\]|\\.)*",?')


def _without_last_applied(key: str) -> str:
    # README row "kube_secret_annotations, kube_configmap_annotations": ksm-py never exports
    # kubectl's last-applied-configuration annotation of Secrets and ConfigMaps (it holds their data).
    return _LAST_APPLIED.sub("", key).replace(",}", "}")


KNOWN_DEVIATIONS: dict[str, Callable[[str], str]] = {
    "kube_secret_annotations": _without_last_applied,
    "kube_configmap_annotations": _without_last_applied,
}

# Labels and annotations every object gets: keys that sanitise to the same label name (conflicts),
# camel case, prefixes; values that need escaping.
LABELS = {"app.kubernetes.io/name": "parity", "foo-bar": "dash", "foo_bar": "underscore", "foo.bar": "dot",
          "camelCase": "camel", "ABCDef": "upper", "team": "a"}
ANNOTATIONS = {"example.com/quoted": 'say "hi"', "example.com/backslash": "C:\\path", "multi-line": "one\ntwo",
               "unicode": "größe ✓", "emptyValue": ""}


HOLD = "example.com/parity-hold"


def meta(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "labels": dict(LABELS), "annotations": dict(ANNOTATIONS), **extra}


# -- the cluster state --------------------------------------------------------------------------------

class World:
    """Creates objects as admin; cluster-scoped ones are deleted at the end."""

    def __init__(self, cluster: Any, dyn: Any, tag: str) -> None:
        self.cluster, self.dyn, self.tag = cluster, dyn, tag
        self.ns = f"parity-{tag}"
        self.node = f"parity-node-{tag}"
        self.cluster_scoped: list[tuple[str, str, str]] = []
        self.held: list[str] = []  # paths of objects a finalizer holds

    def api(self, api_version: str, kind: str) -> Any:
        return self.dyn.resources.get(api_version=api_version, kind=kind)

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        api = self.api(obj["apiVersion"], obj["kind"])
        if api.namespaced:
            obj["metadata"].setdefault("namespace", self.ns)
            created = api.create(body=obj, namespace=obj["metadata"]["namespace"])
        else:
            created = api.create(body=obj)
            self.cluster_scoped.append((obj["apiVersion"], obj["kind"], obj["metadata"]["name"]))
        return created.to_dict()  # type: ignore[no-any-return]

    def path(self, api_version: str, kind: str, name: str) -> str:
        api = self.api(api_version, kind)
        return str(api.path(name=name, namespace=self.ns if api.namespaced else None))

    def status(self, api_version: str, kind: str, name: str, status: dict[str, Any],
               subresource: str = "status") -> None:
        self.cluster.rest.request("PATCH", f"{self.path(api_version, kind, name)}/{subresource}", {"status": status},
                                  content_type="application/merge-patch+json")

    def doom(self, obj: dict[str, Any]) -> None:
        """Create ``obj`` with a finalizer and delete it: it stays, with a deletionTimestamp."""
        obj["metadata"]["finalizers"] = [HOLD]
        self.create(obj)
        api = self.api(obj["apiVersion"], obj["kind"])
        api.delete(name=obj["metadata"]["name"], namespace=self.ns if api.namespaced else None)
        self.held.append(self.path(obj["apiVersion"], obj["kind"], obj["metadata"]["name"]))

    def cleanup(self) -> None:
        for path in self.held:
            try:
                self.cluster.rest.request("PATCH", path, {"metadata": {"finalizers": None}},
                                          content_type="application/merge-patch+json")
            except Exception:  # noqa: BLE001 - best effort
                pass
        for api_version, kind, name in reversed(self.cluster_scoped):
            try:
                self.api(api_version, kind).delete(name=name)
            except Exception:  # noqa: BLE001 - best effort
                pass
        try:
            self.cluster.rest.request("DELETE", f"/api/v1/namespaces/{self.ns}")
        except Exception:  # noqa: BLE001
            pass


def _ts(seconds_ago: int) -> str:
    t = datetime.datetime.now(datetime.UTC).replace(microsecond=0) - datetime.timedelta(seconds=seconds_ago)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _csr_pem(cn: str) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])).sign(key, hashes.SHA256()))
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(csr.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    return (base64.b64encode(csr.public_bytes(serialization.Encoding.PEM)).decode(),
            base64.b64encode(cert.public_bytes(serialization.Encoding.PEM)).decode())


def _container(name: str, **resources: dict[str, str]) -> dict[str, Any]:
    return {"name": name, "image": f"registry.example/{name}:1.0", "resources": resources}


def _template(app: str, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"labels": {"app": app, **LABELS}, "annotations": dict(ANNOTATIONS)},
            "spec": {"nodeSelector": {"type": "kwok"},
                     "containers": [_container("main", requests={"cpu": "100m", "memory": "1e3"},
                                               limits={"memory": "1.5Gi"})], **spec}}


def build_world(w: World) -> None:
    ns, node = w.ns, w.node
    w.create({"apiVersion": "v1", "kind": "Namespace", "metadata": meta(ns)})
    wait_for(f"default ServiceAccount in {ns}",
             lambda: w.cluster.rest.get(f"/api/v1/namespaces/{ns}/serviceaccounts/default"), 60)

    # A node nobody heartbeats: its status, and that of the pods bound to it, is ours to write.
    w.create({"apiVersion": "v1", "kind": "Node", "metadata": meta(node, labels={**LABELS, "disk": "ssd"}),
              "spec": {"podCIDR": "10.250.0.0/24", "podCIDRs": ["10.250.0.0/24", "fd00:250::/64"],
                       "providerID": "example://parity", "unschedulable": True,
                       "taints": [{"key": "dedicated", "value": "infra", "effect": "NoSchedule"},
                                  {"key": "example.com/gpu", "effect": "PreferNoSchedule"}]}})
    resources = {"cpu": "4", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi", "nvidia.com/gpu": "2",
                 "hugepages-2Mi": "1Gi", "example.com/foo": "3", "attachable-volumes-csi-x": "39"}
    w.status("v1", "Node", node, {
        "capacity": resources, "allocatable": {**resources, "cpu": "3500m", "memory": "15.5Gi"},
        "conditions": [
            {"type": "Ready", "status": "False", "reason": "KubeletNotReady", "lastHeartbeatTime": _ts(5),
             "lastTransitionTime": _ts(600)},
            {"type": "MemoryPressure", "status": "True", "reason": "KubeletHasInsufficientMemory",
             "lastHeartbeatTime": _ts(5), "lastTransitionTime": _ts(600)},
            {"type": "DiskPressure", "status": "Unknown", "lastHeartbeatTime": _ts(5), "lastTransitionTime": _ts(9)},
            {"type": "example.com/Custom", "status": "True", "lastHeartbeatTime": _ts(5),
             "lastTransitionTime": _ts(60)}],
        "addresses": [{"type": "InternalIP", "address": "192.0.2.50"}, {"type": "Hostname", "address": node}],
        "nodeInfo": {"kernelVersion": "6.1.0-parity", "osImage": "Parity OS 1", "containerRuntimeVersion":
                     "containerd://2.0.0", "kubeletVersion": "v1.37.2", "kubeProxyVersion": "v1.37.2",
                     "machineID": "m", "systemUUID": "s", "bootID": "b", "operatingSystem": "linux",
                     "architecture": "amd64"}})

    cm = w.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("parity-cm"), "data": {"a": "b"}})
    owner = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "parity-cm", "uid": cm["metadata"]["uid"],
              "controller": True}]
    w.create({"apiVersion": "v1", "kind": "Secret", "metadata": meta("parity-secret", ownerReferences=owner),
              "type": "Opaque", "data": {"k": "dg=="}})
    w.create({"apiVersion": "v1", "kind": "Secret", "metadata": meta("parity-tls"), "type": "kubernetes.io/tls",
              "data": {"tls.crt": "", "tls.key": ""}})
    # What `kubectl apply` leaves behind: the object, data included, in an annotation.
    applied = '{"apiVersion":"v1","data":{"password":"aHVudGVyMg=="},"kind":"Secret"}\n'
    for kind, name in (("Secret", "applied-secret"), ("ConfigMap", "applied-cm")):
        w.create({"apiVersion": "v1", "kind": kind, "metadata": meta(name, annotations={
            **ANNOTATIONS, "kubectl.kubernetes.io/last-applied-configuration": applied}), "data": {}})
    w.create({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta("parity-sa"),
              "automountServiceAccountToken": False, "secrets": [{"name": "parity-secret"}],
              "imagePullSecrets": [{"name": "regcred"}, {"name": "other"}]})

    # Storage: classes, volumes of several sources, claims (bound, pending), an attachment.
    w.create({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": meta(f"parity-sc-{w.tag}"),
              "provisioner": "example.com/none", "reclaimPolicy": "Retain", "volumeBindingMode": "WaitForFirstConsumer",
              "allowVolumeExpansion": True})
    w.create({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": meta(f"parity-sc2-{w.tag}"),
              "provisioner": "kubernetes.io/no-provisioner"})
    pv_common = {"accessModes": ["ReadWriteOnce", "ReadOnlyMany"], "persistentVolumeReclaimPolicy": "Retain"}
    volumes = {
        "hostpath": {"hostPath": {"path": "/data/parity", "type": "DirectoryOrCreate"},
                     "claimRef": {"namespace": ns, "name": "data"}, "capacity": {"storage": "1.5Gi"}},
        "nfs": {"nfs": {"server": "nfs.example.com", "path": "/exports/a"}, "capacity": {"storage": "10Gi"},
                "volumeMode": "Filesystem", "mountOptions": ["hard"]},
        "csi": {"csi": {"driver": "example.csi.io", "volumeHandle": "vol-123", "fsType": "ext4",
                        "volumeAttributes": {"zone": "a", "Tier.Name": "gold"}},
                "capacity": {"storage": "250M"}, "storageClassName": f"parity-sc-{w.tag}"},
        "local": {"local": {"path": "/mnt/disks/ssd1"}, "capacity": {"storage": "1e3"}, "storageClassName":
                  f"parity-sc2-{w.tag}", "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                      {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}},
        "iscsi": {"iscsi": {"targetPortal": "192.0.2.9:3260", "iqn": "iqn.2001-04.com.example:storage", "lun": 0,
                            "fsType": "xfs", "initiatorName": "iqn.1993-08.org.debian:01:abc"},
                  "capacity": {"storage": "2Ti"}},
        "fc": {"fc": {"targetWWNs": ["500a0982991b8dc5", "500a0982991b8dc6"], "lun": 2},
               "capacity": {"storage": "512Mi"}, "volumeMode": "Block"},
        "fcwwid": {"fc": {"wwids": ["3600508b400105e210000900000490000"]}, "capacity": {"storage": "1"}},
        "gce": {"gcePersistentDisk": {"pdName": "disk-1", "fsType": "ext4"}, "capacity": {"storage": "1Gi"}},
        "ebs": {"awsElasticBlockStore": {"volumeID": "vol-0abc"}, "capacity": {"storage": "1Gi"}},
        "azure": {"azureDisk": {"diskName": "d1", "diskURI": "https://example/d1"}, "capacity": {"storage": "1Gi"}},
        "ceph": {"csi": {"driver": "rbd.csi.ceph.com", "volumeHandle": "0001-abc",
                         "volumeAttributes": {"mounter": "rbd-nbd", "mapOptions": "krbd:rxbounce"}},
                 "capacity": {"storage": "3Gi"}},
    }
    for name, spec in volumes.items():
        w.create({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": meta(f"parity-{name}-{w.tag}"),
                  "spec": {**pv_common, **spec}})
    w.create({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta("data"),
              "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "", "volumeName": f"parity-hostpath-{w.tag}",
                       "resources": {"requests": {"storage": "1Gi"}, "limits": {"storage": "1.5Gi"}}}})
    w.create({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta("pending-claim"),
              "spec": {"accessModes": ["ReadWriteMany"], "storageClassName": f"parity-sc-{w.tag}",
                       "volumeMode": "Block", "resources": {"requests": {"storage": "250Mi"}}}})
    w.create({"apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttachment", "metadata": meta(f"parity-va-{w.tag}"),
              "spec": {"attacher": "example.csi.io", "nodeName": node,
                       "source": {"persistentVolumeName": f"parity-csi-{w.tag}"}}})
    w.status("storage.k8s.io/v1", "VolumeAttachment", f"parity-va-{w.tag}", {
        "attached": True, "attachmentMetadata": {"devicePath": "/dev/xvdb", "Foo.Bar": "x", "camelKey": "y"}})

    # Pods on the unmanaged node, their status written by hand.
    w.create({"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": meta(f"parity-rc-{w.tag}"),
              "handler": "runc", "overhead": {"podFixed": {"cpu": "250m", "memory": "120Mi"}}})
    tolerate_all = [{"operator": "Exists"},
                    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
                     "tolerationSeconds": 6000},
                    {"key": "dedicated", "operator": "Equal", "value": "infra", "effect": "NoSchedule"}]
    w.create({"apiVersion": "v1", "kind": "Pod", "metadata": meta("mixed", ownerReferences=owner), "spec": {
        "nodeName": node, "tolerations": tolerate_all, "runtimeClassName": f"parity-rc-{w.tag}",
        "nodeSelector": {"disk": "ssd", "example.com/Zone": "a"}, "schedulerName": "parity-scheduler",
        "serviceAccountName": "default", "priority": 0, "restartPolicy": "Always",
        "initContainers": [_container("init-ok", requests={"cpu": "50m"}),
                           _container("init-fail", requests={"memory": "64Mi"}, limits={"memory": "64Mi"})],
        "containers": [
            _container("app", requests={"cpu": "250m", "memory": "1.5Gi", "ephemeral-storage": "1e3"},
                       limits={"cpu": "1", "memory": "2Gi"}),
            _container("gpu", requests={"nvidia.com/gpu": "1", "example.com/foo": "2"},
                       limits={"nvidia.com/gpu": "1", "example.com/foo": "2"}),
            _container("huge", requests={"hugepages-2Mi": "4Mi", "memory": "64Mi", "cpu": "0.5"},
                       limits={"hugepages-2Mi": "4Mi", "memory": "64Mi", "cpu": "0.5"}),
            _container("sidecar")],
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data", "readOnly": True}},
                    {"name": "scratch", "persistentVolumeClaim": {"claimName": "pending-claim"}},
                    {"name": "cfg", "configMap": {"name": "parity-cm"}}],
        "resourceClaims": [{"name": "gpu-claim", "resourceClaimName": "parity-claim"},
                           {"name": "tmpl-claim", "resourceClaimTemplateName": "parity-template"}]}})
    running = {"running": {"startedAt": _ts(100)}}
    w.status("v1", "Pod", "mixed", {
        "phase": "Running", "hostIP": "192.0.2.50", "podIP": "10.250.0.7",
        "podIPs": [{"ip": "10.250.0.7"}, {"ip": "fd00:250::7"}], "startTime": _ts(300), "qosClass": "Burstable",
        "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": _ts(300)},
            {"type": "Initialized", "status": "True", "lastTransitionTime": _ts(250)},
            {"type": "ContainersReady", "status": "False", "lastTransitionTime": _ts(90)},
            {"type": "Ready", "status": "False", "lastTransitionTime": _ts(90)},
            {"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI",
             "lastTransitionTime": _ts(30)}],
        "initContainerStatuses": [
            {"name": "init-ok", "image": "registry.example/init-ok:1.0", "imageID": "sha256:aa", "ready": True,
             "restartCount": 0, "containerID": "containerd://i1",
             "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": _ts(290),
                                      "finishedAt": _ts(280)}}},
            {"name": "init-fail", "image": "registry.example/init-fail:1.0", "imageID": "sha256:ab", "ready": False,
             "restartCount": 2, "containerID": "containerd://i2",
             "state": {"waiting": {"reason": "CrashLoopBackOff"}},
             "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": _ts(270),
                                          "finishedAt": _ts(260)}}}],
        "containerStatuses": [
            {"name": "app", "image": "registry.example/app:1.0", "imageID": "sha256:bb", "ready": True,
             "started": True, "restartCount": 3, "containerID": "containerd://c1", "state": running,
             "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled", "startedAt": _ts(200),
                                          "finishedAt": _ts(110)}}},
            {"name": "gpu", "image": "registry.example/gpu:1.0", "imageID": "", "ready": False, "restartCount": 0,
             "state": {"waiting": {"reason": "ErrImagePull", "message": "pull failed"}}},
            {"name": "huge", "image": "registry.example/huge:1.0", "imageID": "sha256:cc", "ready": False,
             "restartCount": 1, "containerID": "containerd://c3",
             "state": {"terminated": {"exitCode": 2, "reason": "ContainerCannotRun", "startedAt": _ts(80),
                                      "finishedAt": _ts(70)}}},
            {"name": "sidecar", "image": "registry.example/sidecar:1.0", "imageID": "sha256:dd", "ready": False,
             "restartCount": 7, "state": {"waiting": {"reason": "CreateContainerConfigError"}}}],
        "resourceClaimStatuses": [{"name": "tmpl-claim", "resourceClaimName": "mixed-tmpl-claim-x1"}]})
    for name, phase, reason, state in [
        ("evicted", "Failed", "Evicted", {"terminated": {"exitCode": 137, "reason": "Error", "finishedAt": _ts(40)}}),
        ("done", "Succeeded", None, {"terminated": {"exitCode": 0, "reason": "Completed", "finishedAt": _ts(20)}}),
        ("lost", "Unknown", "NodeLost", {"running": {"startedAt": _ts(500)}})]:
        w.create({"apiVersion": "v1", "kind": "Pod", "metadata": meta(name), "spec": {
            "nodeName": node, "tolerations": tolerate_all, "restartPolicy": "Never",
            "containers": [_container("c", requests={"cpu": "10m"})]}})
        status: dict[str, Any] = {"phase": phase, "startTime": _ts(600), "qosClass": "Burstable",
                                  "containerStatuses": [{"name": "c", "image": "registry.example/c:1.0", "imageID": "",
                                                         "ready": False, "restartCount": 0, "state": state}]}
        if reason:
            status |= {"reason": reason, "message": f"{reason} for the test"}
        w.status("v1", "Pod", name, status)
    w.create({"apiVersion": "v1", "kind": "Pod", "metadata": meta("unschedulable"), "spec": {
        "schedulerName": "no-such-scheduler", "priorityClassName": "system-cluster-critical",
        "containers": [_container("c", limits={"cpu": "2", "memory": "1Gi"})]}})
    w.status("v1", "Pod", "unschedulable", {"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "lastTransitionTime": _ts(50)}]})

    # Workloads on kwok nodes.
    w.create({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("web"), "spec": {
        "replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": _template("web"),
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}}}})
    w.create({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("paused"), "spec": {
        "replicas": 3, "paused": True, "selector": {"matchLabels": {"app": "paused"}}, "template": _template("paused"),
        "strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "33%"}}}})
    w.create({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta("rs"), "spec": {
        "replicas": 1, "selector": {"matchLabels": {"app": "rs"}}, "template": _template("rs")}})
    w.create({"apiVersion": "v1", "kind": "ReplicationController", "metadata": meta("rc"), "spec": {
        "replicas": 1, "selector": {"app": "rc"}, "template": _template("rc")}})
    w.create({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta("db"), "spec": {
        "replicas": 2, "serviceName": "svc-headless", "ordinals": {"start": 5},
        "selector": {"matchLabels": {"app": "db"}}, "template": _template("db"),
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Retain"},
        "volumeClaimTemplates": [{"metadata": {"name": "vol"}, "spec": {
            "accessModes": ["ReadWriteOnce"], "storageClassName": f"parity-sc-{w.tag}",
            "resources": {"requests": {"storage": "1Gi"}}}}]}})
    w.create({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta("plain-sts"), "spec": {
        "replicas": 1, "serviceName": "svc-headless", "selector": {"matchLabels": {"app": "plain-sts"}},
        "template": _template("plain-sts")}})
    w.create({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta("ds"), "spec": {
        "selector": {"matchLabels": {"app": "ds"}}, "template": _template("ds"),
        "updateStrategy": {"rollingUpdate": {"maxUnavailable": "50%"}}}})
    w.create({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta("job-ok"), "spec": {
        "completions": 2, "parallelism": 2, "backoffLimit": 3, "activeDeadlineSeconds": 3600,
        "template": {**_template("job-ok"), "spec": {**_template("job-ok")["spec"], "restartPolicy": "Never"}}}})
    w.create({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta("job-suspended"), "spec": {
        "suspend": True, "completions": 3, "parallelism": 1,
        "template": {**_template("job-s"), "spec": {**_template("job-s")["spec"], "restartPolicy": "OnFailure"}}}})
    job_template = {"spec": {"template": {"spec": {"restartPolicy": "Never", "nodeSelector": {"type": "kwok"},
                                                   "containers": [_container("c")]}}}}
    w.create({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta("cron"), "spec": {
        "schedule": "*/30 * * * *", "timeZone": "Etc/UTC", "startingDeadlineSeconds": 100,
        "concurrencyPolicy": "Forbid", "successfulJobsHistoryLimit": 2, "failedJobsHistoryLimit": 5,
        "jobTemplate": job_template}})
    w.create({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta("cron-suspended"), "spec": {
        "schedule": "@hourly", "suspend": True, "jobTemplate": job_template}})

    # Services of every type, endpoints by hand, ingresses, policies.
    ports = [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
             {"name": "dns", "port": 53, "protocol": "UDP"}]
    w.create({"apiVersion": "v1", "kind": "Service", "metadata": meta("svc-cip"), "spec": {
        "selector": {"app": "web"}, "ports": ports, "externalIPs": ["198.51.100.7", "198.51.100.8"]}})
    w.create({"apiVersion": "v1", "kind": "Service", "metadata": meta("svc-np"), "spec": {
        "type": "NodePort", "selector": {"app": "web"}, "ports": ports[:1], "externalTrafficPolicy": "Local"}})
    w.create({"apiVersion": "v1", "kind": "Service", "metadata": meta("svc-lb"), "spec": {
        "type": "LoadBalancer", "selector": {"app": "web"}, "ports": ports[:1], "loadBalancerIP": "192.0.2.10"}})
    w.status("v1", "Service", "svc-lb", {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"},
                                                                       {"hostname": "lb.example.com"}]}})
    w.create({"apiVersion": "v1", "kind": "Service", "metadata": meta("svc-ext"), "spec": {
        "type": "ExternalName", "externalName": "db.example.com"}})
    w.create({"apiVersion": "v1", "kind": "Service", "metadata": meta("svc-headless"), "spec": {
        "clusterIP": "None", "selector": {"app": "db"}, "ports": ports[:1]}})
    w.create({"apiVersion": "v1", "kind": "Endpoints", "metadata": meta("manual-ep"), "subsets": [
        {"addresses": [{"ip": "10.9.0.1", "hostname": "a"}, {"ip": "10.9.0.2"}],
         "notReadyAddresses": [{"ip": "10.9.0.3"}],
         "ports": [{"name": "http", "port": 80, "protocol": "TCP"}, {"name": "metrics", "port": 9090}]},
        {"addresses": [{"ip": "10.9.1.1"}], "ports": [{"port": 443}]}]})
    w.create({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
              "metadata": meta("manual-slice", labels={**LABELS, "kubernetes.io/service-name": "manual"}),
              "addressType": "IPv4",
              "endpoints": [
                  {"addresses": ["10.9.0.1"], "conditions": {"ready": True, "serving": True, "terminating": False},
                   "hostname": "a", "nodeName": node, "zone": "zone-a",
                   "hints": {"forZones": [{"name": "zone-a"}, {"name": "zone-b"}]},
                   "targetRef": {"kind": "Pod", "name": "mixed", "namespace": ns}},
                  {"addresses": ["10.9.0.2", "10.9.0.3"], "conditions": {"ready": False}}],
              "ports": [{"name": "http", "port": 80, "protocol": "TCP"}, {"port": 9090}]})
    w.create({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": meta("fqdn-slice"),
              "addressType": "FQDN", "endpoints": [{"addresses": ["a.example.com"]}], "ports": []})
    w.create({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": meta(f"parity-{w.tag}"),
              "spec": {"controller": "example.com/ingress"}})
    w.create({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta("ing"), "spec": {
        "ingressClassName": f"parity-{w.tag}",
        "tls": [{"hosts": ["a.example.com", "b.example.com"], "secretName": "parity-tls"}, {"hosts": ["c.example.com"]}],
        "rules": [
            {"host": "a.example.com", "http": {"paths": [
                {"path": "/", "pathType": "Prefix",
                 "backend": {"service": {"name": "svc-cip", "port": {"number": 80}}}},
                {"path": "/named", "pathType": "Exact",
                 "backend": {"service": {"name": "svc-cip", "port": {"name": "http"}}}},
                {"path": "/bucket", "pathType": "ImplementationSpecific",
                 "backend": {"resource": {"apiGroup": "example.com", "kind": "Bucket", "name": "assets"}}}]}},
            {"host": "nohttp.example.com"}]}})
    w.create({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
              "metadata": meta("ing-annotated", annotations={**ANNOTATIONS, "kubernetes.io/ingress.class": "legacy"}),
              "spec": {"defaultBackend": {"service": {"name": "svc-cip", "port": {"number": 80}}}}})
    w.create({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta("np"), "spec": {
        "podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [{"podSelector": {}}]}, {"ports": [{"port": 80}]}],
        "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]}})
    w.create({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta("pdb-min"), "spec": {
        "minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}})
    w.create({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta("pdb-max"), "spec": {
        "maxUnavailable": "50%", "selector": {"matchLabels": {"app": "db"}}}})
    w.create({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta("hpa"), "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "paused"},
        "minReplicas": 3, "maxReplicas": 7,
        "metrics": [
            {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                          "averageUtilization": 60}}},
            {"type": "ContainerResource", "containerResource": {"name": "memory", "container": "main", "target": {
                "type": "AverageValue", "averageValue": "1.5Gi"}}},
            {"type": "Pods", "pods": {"metric": {"name": "packets"}, "target": {"type": "AverageValue",
                                                                                   "averageValue": "1k"}}},
            {"type": "Object", "object": {"metric": {"name": "requests"}, "describedObject": {
                "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "ing"},
                "target": {"type": "Value", "value": "10k"}}},
            {"type": "External", "external": {"metric": {"name": "queue", "selector": {"matchLabels": {"q": "a"}}},
                                              "target": {"type": "AverageValue", "averageValue": "250m"}}}],
        "behavior": {"scaleUp": {"stabilizationWindowSeconds": 0, "tolerance": "0.05"},
                     "scaleDown": {"tolerance": "100m"}}}})
    # Leases, RBAC, certificates, admission.
    w.create({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta("parity-lease",
              ownerReferences=owner), "spec": {"holderIdentity": "holder-1", "leaseDurationSeconds": 15,
                                               "renewTime": "2024-01-02T03:04:05.678901Z"}})
    w.create({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta("empty-lease"), "spec": {}})
    rules = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]
    w.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta("parity-role"),
              "rules": rules})
    w.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta("parity-rb"),
              "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "parity-role"},
              "subjects": [{"kind": "ServiceAccount", "name": "parity-sa", "namespace": ns}]})
    w.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": meta(f"parity-{w.tag}"),
              "rules": rules})
    w.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
              "metadata": meta(f"parity-{w.tag}"),
              "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": f"parity-{w.tag}"},
              "subjects": [{"kind": "ServiceAccount", "name": "parity-sa", "namespace": ns}]})
    for name, action in [("approved", "Approved"), ("denied", "Denied"), ("issued", "Approved"), ("pending", None)]:
        request, cert = _csr_pem(f"{name}-{w.tag}")
        csr = f"parity-{name}-{w.tag}"
        w.create({"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": meta(csr),
                  "spec": {"request": request, "signerName": "example.com/parity", "expirationSeconds": 3600,
                           "usages": ["client auth", "digital signature"]}})
        if action:
            w.status("certificates.k8s.io/v1", "CertificateSigningRequest", csr, {"conditions": [
                {"type": action, "status": "True", "reason": "Test", "message": "by the parity test"}]}, "approval")
        if name == "issued":
            w.status("certificates.k8s.io/v1", "CertificateSigningRequest", csr, {"certificate": cert})
    nothing = [{"apiGroups": ["example.com"], "apiVersions": ["v1"], "operations": ["CREATE"],
                "resources": ["nothings"]}]
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        w.create({"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind,
                  "metadata": meta(f"parity-{kind.lower()}-{w.tag}"), "webhooks": [
                      {"name": "svc.example.com", "rules": nothing, "failurePolicy": "Ignore", "sideEffects": "None",
                       "admissionReviewVersions": ["v1"],
                       "clientConfig": {"service": {"name": "svc-cip", "namespace": ns, "path": "/hook"}}},
                      {"name": "url.example.com", "rules": nothing, "failurePolicy": "Ignore", "sideEffects": "None",
                       "admissionReviewVersions": ["v1"], "clientConfig": {"url": "https://hook.example.com/x"}}]})
    constraints = {"resourceRules": [{"apiGroups": ["example.com"], "apiVersions": ["v1"], "operations": ["CREATE"],
                                      "resources": ["nothings"]}]}
    w.create({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
              "metadata": meta(f"parity-vap-{w.tag}"), "spec": {
                  "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"}, "failurePolicy": "Ignore",
                  "matchConstraints": constraints, "validations": [{"expression": "true"}]}})
    w.create({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
              "metadata": meta(f"parity-vapb-{w.tag}"), "spec": {
                  "policyName": f"parity-vap-{w.tag}", "validationActions": ["Deny", "Audit"],
                  "paramRef": {"name": "parity-cm", "namespace": ns, "parameterNotFoundAction": "Allow"}}})
    w.create({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
              "metadata": meta(f"parity-vapb2-{w.tag}"), "spec": {
                  "policyName": f"parity-vap-{w.tag}", "validationActions": ["Warn"]}})
    w.create({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingAdmissionPolicy",
              "metadata": meta(f"parity-map-{w.tag}"), "spec": {
                  "failurePolicy": "Ignore", "reinvocationPolicy": "IfNeeded", "matchConstraints": constraints,
                  "mutations": [{"patchType": "ApplyConfiguration",
                                 "applyConfiguration": {"expression": "Object{}"}}]}})
    w.create({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingAdmissionPolicyBinding",
              "metadata": meta(f"parity-mapb-{w.tag}"), "spec": {"policyName": f"parity-map-{w.tag}"}})

    # Objects being deleted (a finalizer holds them), a job past its deadline, a cron job's history.
    w.doom({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("doomed"), "spec": {
        "replicas": 0, "selector": {"matchLabels": {"app": "doomed"}}, "template": _template("doomed")}})
    w.doom({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta("doomed"), "spec": {
        "selector": {"matchLabels": {"app": "doomed-ds"}},
        "template": _template("doomed-ds", nodeSelector={"no-such": "node"})}})
    w.doom({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta("doomed"), "spec": {
        "replicas": 0, "serviceName": "x", "selector": {"matchLabels": {"app": "doomed-sts"}},
        "template": _template("doomed-sts")}})
    w.doom({"apiVersion": "v1", "kind": "Service", "metadata": meta("doomed"), "spec": {"ports": [{"port": 1}]}})
    w.doom({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta("doomed")})
    w.doom({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta("doomed"), "spec": {
        "accessModes": ["ReadWriteOnce"], "storageClassName": "none", "resources": {"requests": {"storage": "1Gi"}}}})
    w.doom({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta("doomed"), "spec": {
        "minAvailable": "10%", "selector": {"matchLabels": {"app": "none"}}}})
    w.doom({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta("doomed"), "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "doomed"}, "maxReplicas": 2}})
    w.doom({"apiVersion": "v1", "kind": "Node", "metadata": meta(f"parity-doomed-{w.tag}"),
            "spec": {"unschedulable": True}})
    w.doom({"apiVersion": "v1", "kind": "Pod", "metadata": meta("doomed"), "spec": {
        "nodeName": node, "tolerations": tolerate_all, "containers": [_container("c")]}})
    w.doom({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": meta(f"parity-doomed-{w.tag}"), "spec": {
        "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}, "hostPath": {"path": "/doomed"}}})
    # A namespace being deleted whose content cannot go yet: the namespace controller reports conditions.
    doomed_ns = f"{ns}-doomed"
    w.create({"apiVersion": "v1", "kind": "Namespace", "metadata": meta(doomed_ns)})
    w.api("v1", "ConfigMap").create(namespace=doomed_ns, body={
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "held", "finalizers": [HOLD]}})
    w.held.append(f"/api/v1/namespaces/{doomed_ns}/configmaps/held")
    w.api("v1", "Namespace").delete(name=doomed_ns)
    w.create({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta("job-deadline"), "spec": {
        "activeDeadlineSeconds": 1, "backoffLimit": 0,
        "template": {"spec": {"restartPolicy": "Never", "nodeSelector": {"no-such": "node"},
                              "containers": [_container("c")]}}}})
    w.status("batch/v1", "CronJob", "cron-suspended", {
        "lastScheduleTime": _ts(3600), "lastSuccessfulTime": _ts(3500),
        "active": [{"kind": "Job", "namespace": ns, "name": "cron-suspended-1", "apiVersion": "batch/v1"}]})

    # Last: a LimitRange would have defaulted the pods above, a quota rejected some.
    w.create({"apiVersion": "v1", "kind": "LimitRange", "metadata": meta("limits"), "spec": {"limits": [
        {"type": "Container", "default": {"cpu": "500m", "memory": "512Mi"},
         "defaultRequest": {"cpu": "100m", "memory": "1.5e8"}, "max": {"cpu": "64", "memory": "512Gi"},
         "min": {"cpu": "1m"}, "maxLimitRequestRatio": {"cpu": "10"}},
        {"type": "Pod", "max": {"cpu": "128"}},
        {"type": "PersistentVolumeClaim", "min": {"storage": "1Mi"}, "max": {"storage": "1Ti"}}]}})

    # And a quota (pods created from now on get the LimitRange's defaults, which it requires).
    w.create({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": meta("quota"), "spec": {"hard": {
        "pods": "50", "requests.cpu": "40", "requests.memory": "80Gi", "limits.memory": "1e11",
        "count/configmaps": "20", "requests.nvidia.com/gpu": "4", "requests.storage": "1.5Ti"}}})


    # Issue 13: label and annotation keys that collide after sanitising (chains, keys equal to the
    # generated names, three levels), on several kinds, namespaces and volume attachments included
    # (kube_volumeattachment_labels exports every label whatever the allowlist).
    for i, kv in enumerate(CONFLICT_CASES.values()):
        conflicted = {"name": f"{ns}-lc{i}", "labels": dict(kv), "annotations": dict(kv)}
        w.create({"apiVersion": "v1", "kind": "Namespace", "metadata": dict(conflicted)})
        w.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {**conflicted, "name": f"lc{i}"}, "data": {}})
        w.create({"apiVersion": "v1", "kind": "Secret", "metadata": {**conflicted, "name": f"lc{i}"}, "data": {}})
        w.create({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {**conflicted, "name": f"lc{i}"}})
        w.create({"apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttachment",
                  "metadata": {**conflicted, "name": f"parity-lc{i}-{w.tag}"},
                  "spec": {"attacher": "example.csi.io", "nodeName": node,
                           "source": {"persistentVolumeName": f"parity-csi-{w.tag}"}}})

    # Let the controllers do their first round before anything is compared.
    def settled() -> bool:
        pods = w.cluster.rest.get(f"/api/v1/namespaces/{ns}/pods")["items"]
        web = [p for p in pods if p["metadata"].get("labels", {}).get("app") == "web"]
        data = w.cluster.rest.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/data")
        return len(web) == 2 and all(p["status"].get("phase") == "Running" for p in web) and \
            data["status"].get("phase") == "Bound"
    wait_for("the parity workloads running", settled, 120)

    def deadline_exceeded() -> bool:
        job = w.cluster.rest.get(f"/apis/batch/v1/namespaces/{ns}/jobs/job-deadline")
        return any(c["type"] == "Failed" and c["status"] == "True" for c in job["status"].get("conditions", []))
    wait_for("the job past its deadline failed", deadline_exceeded, 60)
    wait_for("conditions on the namespace being deleted", lambda: w.cluster.rest.get(
        f"/api/v1/namespaces/{doomed_ns}")["status"].get("conditions"), 60)


@pytest.fixture(scope="module")
def world(cluster: Any, dyn: Any) -> Iterator[World]:
    w = World(cluster, dyn, uuid.uuid4().hex[:6])
    try:
        build_world(w)
        yield w
    finally:
        w.cleanup()


# -- running and comparing the exporters --------------------------------------------------------------

class Exporter:
    def __init__(self, spawn: Callable[..., Process], argv: list[str], kubeconfig: Path, flags: list[str],
                 name: str) -> None:
        self.port, self.tport = free_port(), free_port()
        self.proc = spawn([*argv, f"--kubeconfig={kubeconfig}", "--host=127.0.0.1", f"--port={self.port}",
                           "--telemetry-host=127.0.0.1", f"--telemetry-port={self.tport}", *flags], name=name)
        self.name = name

    def wait(self) -> None:
        wait_http_ok(f"http://127.0.0.1:{self.port}/healthz", timeout=90, proc=self.proc)

    def metrics(self) -> str:
        status, _, body = http_get(f"http://127.0.0.1:{self.port}/metrics", timeout=60)
        assert status == 200, f"{self.name}: HTTP {status}"
        return body.decode()

    def metrics_openmetrics(self) -> bytes:
        status, _, body = http_get(f"http://127.0.0.1:{self.port}/metrics", {"Accept": CONTENT_TYPE_OPENMETRICS},
                                         timeout=60)
        assert status == 200, f"{self.name}: HTTP {status}"
        return body


def start(spawn: Callable[..., Process], kubeconfig: Path, flags: list[str], name: str) -> tuple[Exporter, Exporter]:
    ours = Exporter(spawn, ksm_py_argv(), kubeconfig, flags, f"ksm-py-{name}")
    theirs = Exporter(spawn, [str(built(build.KSM))], kubeconfig, flags, f"kube-state-metrics-{name}")
    ours.wait()
    theirs.wait()
    return ours, theirs


def normalise(text: str) -> tuple[dict[str, dict[str, str]], set[str]]:
    """Per family, ``{'name{sorted labels}': value}``; and the set of HELP/TYPE lines."""
    families: dict[str, dict[str, str]] = {}
    headers = set()
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("#"):
            headers.add(line)
            continue
        name, pairs, value = parse_line(line)
        families.setdefault(name, {})[series_key(name, pairs)] = value
    return families, headers


def differences(upstream: str, ksm_py: str) -> list[str]:
    a, ha = normalise(upstream)
    b, hb = normalise(ksm_py)
    out = [f"header only upstream: {h}" for h in sorted(ha - hb)]
    out += [f"header only ksm-py: {h}" for h in sorted(hb - ha)]
    for family in sorted(set(a) | set(b)):
        sa, sb = a.get(family, {}), b.get(family, {})
        fix = KNOWN_DEVIATIONS.get(family)
        if fix is not None:
            sa, sb = {fix(k): v for k, v in sa.items()}, {fix(k): v for k, v in sb.items()}
        for key in sorted(set(sa) | set(sb)):
            if key not in sb:
                out.append(f"- {key} {sa[key]}")
            elif key not in sa:
                out.append(f"+ {key} {sb[key]}")
            elif sa[key] != sb[key]:
                out.append(f"~ {key} upstream {sa[key]} ksm-py {sb[key]}")
    return out


def assert_same(pairs: list[tuple[Exporter, Exporter]], timeout: float = 120,
                check: Callable[[list[str]], None] | None = None) -> list[str]:
    """Scrape each (ksm-py, upstream) pair back to back until every pair is identical."""
    last: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        bodies = [(ours.metrics(), theirs.metrics()) for ours, theirs in pairs]
        last = [d for body_ours, body_theirs in bodies for d in differences(body_theirs, body_ours)]
        if not last:
            # Prometheus' own parser takes every ksm-py body whole, text and OpenMetrics (issue 13);
            # the format's family-grouping rule only as strictly as upstream's body keeps it.
            for (ours, theirs), (body_ours, body_theirs) in zip(pairs, bodies, strict=True):
                checker().check_like_upstream(body_ours.encode(), body_theirs.encode())
                checker().check_like_upstream(ours.metrics_openmetrics(), theirs.metrics_openmetrics(),
                                              CONTENT_TYPE_OPENMETRICS)
            if check is not None:
                check([b for pair in bodies for b in pair])
            return [body for body, _ in bodies]
        if time.monotonic() > deadline:
            shown = "\n".join(last[:80])
            pytest.fail(f"{len(last)} differences (- only upstream, + only ksm-py, ~ value):\n{shown}")
        time.sleep(2)


def _families_with_series(text: str) -> set[str]:
    return set(normalise(text)[0])


@pytest.mark.parametrize("variant", ["defaults", "allowlists"])
def test_same_series_as_upstream_for_every_resource(world: World, restricted_kubeconfig_path: Path, spawn: Any,
                                                   variant: str) -> None:
    flags = [RESOURCES_FLAG, *(ALLOWLISTS if variant == "allowlists" else [])]
    ours, theirs = start(spawn, restricted_kubeconfig_path, flags, variant)
    wait_for("both exporters see the parity objects", lambda: all(
        f'namespace="{world.ns}"' in e.metrics() and 'pod="mixed"' in e.metrics() for e in (ours, theirs)), 90)
    (body,) = assert_same([(ours, theirs)])
    total = sum(len(f) for f in normalise(body)[0].values())
    print(f"PARITY {variant}: {total}/{total} series identical with upstream")
    if variant == "allowlists":
        for i, case in enumerate(CONFLICT_CASES):
            name, value = CONFLICT_EXPECTED[case][0]
            for family, who in (("kube_namespace_labels", f'namespace="{world.ns}-lc{i}"'),
                                ("kube_configmap_annotations", f'configmap="lc{i}"'),
                                ("kube_volumeattachment_labels", f'volumeattachment="parity-lc{i}-{world.tag}"')):
                prefix = "annotation" if family.endswith("annotations") else "label"
                assert any(line.startswith(family + "{") and who in line and f'{prefix}_{name}="{value}"' in line
                           for line in body.splitlines()), (family, case)
    # The object set really is varied: every family has series, but those it cannot reach here.
    from ksm_py.families import RESOURCES

    every = {f.name: f for r in RESOURCES.values() for f in r.families}
    allowed = set(UNREACHED)
    if variant == "defaults":
        allowed |= {n for n, f in every.items() if f.opt_in or n.endswith(("_labels", "_annotations"))}
    missing = set(every) - _families_with_series(body)
    print(f"PARITY {variant}: families without series: {sorted(missing)}")
    assert missing <= allowed, f"families without series: {sorted(missing - allowed)}"
    if variant == "allowlists":  # the deviation above is exercised: upstream exports the Secret's data
        assert "aHVudGVyMg" in theirs.metrics() and "aHVudGVyMg" not in body
    for needle in ['label_foo_bar_conflict1="dash"', 'container="init-fail"', 'reason="CrashLoopBackOff"',
                   'resource="nvidia_com_gpu"', 'reason="OOMKilled"', 'type="LoadBalancer"', 'pod_cidr="fd00:250::/64"',
                   'metric_target_type="utilization"', 'key="dedicated"']:
        if variant == "allowlists" or "label_" not in needle:
            assert needle in body, needle


# Families the object set cannot produce on this cluster: no schedule the API server accepts is one
# kube-state-metrics cannot parse, and the HPA controller (without a metrics API) rewrites the
# status without current metrics.
UNREACHED = {"kube_cronjob_schedule_invalid", "kube_horizontalpodautoscaler_status_target_metric"}


def test_shards_equal_upstream_shards(world: World, restricted_kubeconfig_path: Path, spawn: Any) -> None:
    flags = [RESOURCES_FLAG, "--metric-labels-allowlist=pods=[*],namespaces=[app.kubernetes.io/*]"]
    pairs = []
    for shard in range(3):
        sharded = [*flags, f"--shard={shard}", "--total-shards=3"]
        pairs.append(start(spawn, restricted_kubeconfig_path, sharded, f"shard{shard}"))
    whole = start(spawn, restricted_kubeconfig_path, flags, "whole")
    bodies = assert_same([*pairs, whole], timeout=180)
    union: dict[str, str] = {}
    sizes = []
    for body in bodies[:3]:
        series = {k: v for family in normalise(body)[0].values() for k, v in family.items()}
        sizes.append(len(series))
        assert not set(series) & set(union), "a series in two shards"
        union |= series
    whole_series = {k: v for family in normalise(bodies[3])[0].values() for k, v in family.items()}
    # Scraped at slightly different moments: compare the object identities, not fast-moving values.
    assert set(union) == set(whole_series)
    assert all(n > len(whole_series) / 10 for n in sizes), f"uneven shards: {sizes}"


# -- custom resource state ----------------------------------------------------------------------------

CRS_CONFIG = """
kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind: {group: parity.example.com, version: "*", kind: Widget}
      labelsFromPath:
        name: [metadata, name]
        namespace: [metadata, namespace]
      commonLabels: {source: parity}
      metrics:
        - name: replicas
          help: "Desired replicas"
          each: {type: Gauge, gauge: {path: [spec, replicas]}}
        - name: size_bytes
          help: "Size, a quantity"
          each: {type: Gauge, gauge: {path: [spec, size], nilIsZero: true}}
        - name: ratio
          help: "A percentage"
          each: {type: Gauge, gauge: {path: [spec, ratio]}}
        - name: created_at
          help: "A timestamp string"
          each: {type: gauge, gauge: {path: [metadata, creationTimestamp]}}
        - name: condition
          help: "Conditions"
          each:
            type: Gauge
            gauge:
              path: [status, conditions]
              labelsFromPath: {type: [type], reason: [reason]}
              valueFrom: [status]
        - name: ready
          help: "The Ready condition"
          each: {type: Gauge, gauge: {path: [status, conditions, "[type=Ready]", status]}}
        - name: count
          help: "Per-kind counts"
          each: {type: Gauge, gauge: {path: [status, counts], labelFromKey: kind}}
        - name: phase
          help: "Phase"
          each: {type: StateSet, stateSet: {path: [status, phase], labelName: phase, list: [Pending, Running, Failed]}}
        - name: info
          help: "Info from labels"
          labelsFromPath: {version: [spec, version]}
          each: {type: Info, info: {path: [metadata, labels], labelFromKey: label}}
        - name: owner_info
          help: "Copied labels"
          each: {type: Info, info: {labelsFromPath: {"*": [metadata, annotations], "label_*": [spec, selector]}}}
        - name: first_port
          help: "An index"
          each: {type: Gauge, gauge: {path: [spec, ports, "0", port], labelsFromPath: {proto: [protocol]}}}
    - groupVersionKind: {group: parity.example.com, version: v1, kind: Gadget}
      metricNamePrefix: ""
      metrics:
        - name: parity_gadget_enabled
          help: ""
          commonLabels: {customresource_group: overridden}
          each: {type: Gauge, gauge: {path: [spec, enabled], nilIsZero: true}}
"""


def _crd(kind: str, plural: str, versions: list[tuple[str, bool, bool]], scope: str = "Namespaced") -> dict[str, Any]:
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.parity.example.com"},
            "spec": {"group": "parity.example.com", "scope": scope,
                     "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": f"{kind}List"},
                     "versions": [{"name": v, "served": served, "storage": storage, "schema": schema}
                                  for v, served, storage in versions]}}


def test_custom_resource_state_same_as_upstream(world: World, cluster: Any, restricted_kubeconfig_path: Path,
                                                spawn: Any, tmp_path: Path) -> None:
    # The shipped role covers the CRDs; the custom resources need their own rule.
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "ksm-py-parity-crs"},
            "rules": [{"apiGroups": ["parity.example.com"], "resources": ["widgets", "gadgets"],
                       "verbs": ["list", "watch"]}]}
    cluster.rest.apply(role)
    # The identity of restricted_kubeconfig_path (tests/conftest.py).
    cluster.rest.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                        "metadata": {"name": "ksm-py-parity-crs"},
                        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                    "name": "ksm-py-parity-crs"},
                        "subjects": [{"kind": "ServiceAccount", "name": "ksm-py", "namespace": "kube-system"}]})
    crds = world.api("apiextensions.k8s.io/v1", "CustomResourceDefinition")
    # --custom-resource-state-only: the built-in resources are off, whatever --resources says.
    flags = [f"--custom-resource-state-config={CRS_CONFIG}", "--custom-resource-state-only", "--resources=namespaces"]
    ours, theirs = start(spawn, restricted_kubeconfig_path, flags, "crs")
    try:
        # Created while both run: discovery has to find them.
        crds.create(body=_crd("Widget", "widgets", [("v1", True, True), ("v2beta1", True, False),
                                                    ("v0", False, False)]))
        crds.create(body=_crd("Gadget", "gadgets", [("v1", True, True)], scope="Cluster"))

        def established() -> bool:
            for name in ("widgets", "gadgets"):
                c = crds.get(name=f"{name}.parity.example.com").to_dict()
                if not any(x["type"] == "Established" and x["status"] == "True"
                           for x in c.get("status", {}).get("conditions", [])):
                    return False
            return True
        wait_for("CRDs established", established, 60)
        widgets = world.api("parity.example.com/v1", "Widget")
        widgets.create(namespace=world.ns, body={
            "apiVersion": "parity.example.com/v1", "kind": "Widget",
            "metadata": {"name": "w1", "labels": {"app": "w", "tier.name": "gold"},
                         "annotations": {"owner": "team-a", "cost-center": "42"}},
            "spec": {"replicas": 3, "size": "1.5Gi", "ratio": "28%", "version": 1.10,
                     "selector": {"app": "w", "weird-key": "x"},
                     "ports": [{"port": 8080, "protocol": "TCP"}, {"port": 9090}]},
            "status": {"phase": "Running", "counts": {"red": 1, "blue": 2.5, "green": "250m"},
                       "conditions": [{"type": "Ready", "status": "True", "reason": "Fine"},
                                      {"type": "Degraded", "status": "False"},
                                      {"type": "Weird", "status": "yes"}]}})
        widgets.create(namespace=world.ns, body={
            "apiVersion": "parity.example.com/v1", "kind": "Widget", "metadata": {"name": "w2"},
            "spec": {"replicas": "not-a-number"}, "status": {"phase": "Unknown"}})
        world.api("parity.example.com/v2beta1", "Widget").create(namespace=world.ns, body={
            "apiVersion": "parity.example.com/v2beta1", "kind": "Widget", "metadata": {"name": "w3"},
            "spec": {"replicas": 0, "size": "100m"}, "status": {"conditions": []}})
        world.api("parity.example.com/v1", "Gadget").create(body={
            "apiVersion": "parity.example.com/v1", "kind": "Gadget", "metadata": {"name": "g1"},
            "spec": {"enabled": True}})

        def crs_present() -> bool:
            return all("kube_customresource_replicas{" in e.metrics() and "parity_gadget_enabled{" in e.metrics()
                       for e in (ours, theirs))
        wait_for("custom resource metrics in both", crs_present, 90,
                 on_timeout=lambda: "\n" + ours.proc.tail() + "\n" + theirs.proc.tail())

        def check(bodies: list[str]) -> None:
            body = bodies[0]
            assert 'customresource_version="v2beta1"' in body and 'customresource_version="v0"' not in body
            assert "# TYPE kube_customresource_phase gauge" in body
            assert 'customresource_group="overridden"' in body
        assert_same([(ours, theirs)], check=check)
        status, _, om = http_get(f"http://127.0.0.1:{ours.port}/metrics",
                                 {"Accept": "application/openmetrics-text;version=1.0.0"})
        assert status == 200 and b"# TYPE kube_customresource_phase stateset" in om
        assert b"# TYPE kube_customresource_info info" in om

        # A CRD going away takes its series with it, in both.
        crds.delete(name="gadgets.parity.example.com")
        wait_for("gadget series gone", lambda: all("parity_gadget_enabled" not in e.metrics()
                                                   for e in (ours, theirs)), 60)
        assert_same([(ours, theirs)])
        assert "kube_customresource_replicas{" in ours.metrics()
    finally:
        for name in ("widgets", "gadgets"):
            try:
                crds.delete(name=f"{name}.parity.example.com")
            except Exception:  # noqa: BLE001 - already gone
                pass
        for kind, name in (("ClusterRoleBinding", "ksm-py-parity-crs"), ("ClusterRole", "ksm-py-parity-crs")):
            cluster.rest.delete({"kind": kind, "metadata": {"name": name}})


def test_prometheus_takes_the_scrape_with_conflicting_labels(world: World, restricted_kubeconfig_path: Path,
                                                             spawn: Any, tmp_path: Path) -> None:
    """Issue 13: a real Prometheus scraping ksm-py with the conflicting keys present (wildcard
    allowlists) stores the samples: up == 1 and the renamed labels are queryable."""
    import json
    import urllib.parse

    import yaml

    from tests.e2e.test_prometheus import prometheus_binary

    prom_bin = prometheus_binary()
    ksm = Exporter(spawn, ksm_py_argv(), restricted_kubeconfig_path, [RESOURCES_FLAG, *ALLOWLISTS], "ksm-py-prom")
    ksm.wait()
    wait_for("ksm-py sees the conflicting objects", lambda: f'namespace="{world.ns}-lc0"' in ksm.metrics(), 90)
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
        "scrape_configs": [{"job_name": "ksm-py", "static_configs": [{"targets": [f"127.0.0.1:{ksm.port}"]}]}]}))
    port = free_port()
    prom = spawn([str(prom_bin), f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                  f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"], name="prometheus")
    wait_http_ok(f"http://127.0.0.1:{port}/-/ready", timeout=90, proc=prom)

    def query(expr: str) -> list[dict[str, Any]]:
        status, _, body = http_get(f"http://127.0.0.1:{port}/api/v1/query?{urllib.parse.urlencode({'query': expr})}")
        assert status == 200, body[:300]
        return list(json.loads(body)["data"]["result"])

    name, value = CONFLICT_EXPECTED["chain"][0]
    ns_index = list(CONFLICT_CASES).index("chain")
    wait_for("Prometheus stored a scrape with the conflicting labels", lambda: query(
        f'kube_namespace_labels{{namespace="{world.ns}-lc{ns_index}",label_{name}="{value}"}}'), 60, interval=1,
        on_timeout=lambda: "\n" + prom.tail())
    time.sleep(3)  # a few more scrapes
    up = query('up{job="ksm-py"}')
    assert [r["value"][1] for r in up] == ["1"], up
    samples = query('scrape_samples_scraped{job="ksm-py"}')
    print(f"PROMETHEUS: up=1, {samples[0]['value'][1]} samples per scrape of ksm-py with the conflicting labels")
    for i, case in enumerate(CONFLICT_CASES):
        name, value = CONFLICT_EXPECTED[case][-1]
        assert query(f'kube_volumeattachment_labels{{volumeattachment="parity-lc{i}-{world.tag}",'
                     f'label_{name}="{value}"}}'), case
