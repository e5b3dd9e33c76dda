"""Realistic synthetic Kubernetes objects, shared by the offline and the cluster benchmarks.

``*_manifest`` functions return what a client POSTs; ``pod_as_listed`` adds what the API server
and kwok add afterwards (uid, resourceVersion, managedFields, a Running status), so the offline
benchmark parses and renders objects shaped like a real LIST page.
"""

from __future__ import annotations

import hashlib
from typing import Any

Obj = dict[str, Any]

TEAMS = ("payments", "search", "checkout", "identity", "platform", "data")
TIERS = ("frontend", "backend", "worker")
CREATED = "2024-05-01T10:00:00Z"


def template_hash(deployment: str) -> str:
    return hashlib.sha1(deployment.encode()).hexdigest()[:10]


def app_labels(app: str, i: int) -> dict[str, str]:
    return {"app": app, "app.kubernetes.io/name": app, "app.kubernetes.io/part-of": TEAMS[i % len(TEAMS)],
            "team": TEAMS[i % len(TEAMS)], "tier": TIERS[i % len(TIERS)]}


def _containers(app: str, i: int) -> list[Obj]:
    return [
        {"name": app, "image": f"registry.example.com/{TEAMS[i % len(TEAMS)]}/{app}:1.{i % 7}.{i % 3}",
         "imagePullPolicy": "IfNotPresent",
         "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                   {"name": "metrics", "containerPort": 9090, "protocol": "TCP"}],
         "env": [{"name": "LOG_LEVEL", "value": "info"},
                 {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}],
         "resources": {"requests": {"cpu": "250m", "memory": "256Mi", "ephemeral-storage": "1Gi"},
                       "limits": {"cpu": "1", "memory": "512Mi"}},
         "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}, {"name": "tls", "mountPath": "/etc/tls",
                                                                         "readOnly": True},
                          {"name": "cache", "mountPath": "/cache"}],
         "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080, "scheme": "HTTP"}, "periodSeconds": 10,
                            "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
         "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"},
        {"name": "sidecar", "image": "registry.example.com/platform/envoy:1.30.2", "imagePullPolicy": "IfNotPresent",
         "args": ["--config", "/etc/envoy/envoy.yaml"],
         "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
         "volumeMounts": [{"name": "config", "mountPath": "/etc/envoy"}],
         "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"},
    ]


def _volumes(app: str, i: int) -> list[Obj]:
    volumes: list[Obj] = [
        {"name": "config", "configMap": {"name": f"{app}-config", "defaultMode": 420}},
        {"name": "tls", "secret": {"secretName": f"{app}-tls", "defaultMode": 420}},
        {"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}},
    ]
    if i % 5 == 0:
        volumes.append({"name": "data", "persistentVolumeClaim": {"claimName": f"{app}-data", "readOnly": False}})
    return volumes


def pod_manifest(namespace: str, app: str, index: int, replica: int, node: str, rs_name: str, rs_uid: str) -> Obj:
    """A Deployment's pod as a client would create it: owned by the ReplicaSet, already bound."""
    name = f"{rs_name}-{replica:05d}"
    labels = {**app_labels(app, index), "pod-template-hash": template_hash(app)}
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "namespace": namespace, "labels": labels,
            "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9090",
                            "kubectl.kubernetes.io/default-container": app},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name, "uid": rs_uid,
                                 "controller": True, "blockOwnerDeletion": True}],
        },
        "spec": {
            "nodeName": node, "containers": _containers(app, index), "volumes": _volumes(app, index),
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default", "schedulerName": "default-scheduler",
            "enableServiceLinks": False,
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                 "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
                 "tolerationSeconds": 300},
                {"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"},
            ],
        },
    }


def pod_as_listed(namespace: str, app: str, index: int, replica: int, node: str) -> Obj:
    """``pod_manifest`` plus what the API server and kwok add: a Running pod as a LIST returns it."""
    rs_name = f"{app}-{template_hash(app)}"
    rs_uid = f"00000000-0000-4000-8000-{index:012d}"
    pod = pod_manifest(namespace, app, index, replica, node, rs_name, rs_uid)
    meta = pod["metadata"]
    seq = index * 1000 + replica
    meta.update({
        "uid": f"{seq:08x}-1111-4222-8333-{seq:012x}", "resourceVersion": str(100000 + seq),
        "creationTimestamp": CREATED, "generation": 1,
        "managedFields": [
            {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1", "time": CREATED,
             "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {k: {} for k in meta["labels"]}},
                                                    "f:spec": {"f:containers": {}, "f:volumes": {}}}},
            {"manager": "kwok", "operation": "Update", "apiVersion": "v1", "time": CREATED, "subresource": "status",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:conditions": {}, "f:containerStatuses": {},
                                                                 "f:phase": {}, "f:podIP": {}}}},
        ],
    })
    spec = pod["spec"]
    spec["priority"] = 0
    spec["volumes"].append({"name": "kube-api-access", "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}]}})
    for c in spec["containers"]:
        c["volumeMounts"].append({"name": "kube-api-access", "readOnly": True,
                                  "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"})
    ip = f"10.{128 + index % 64}.{replica % 250}.{(index * 7 + replica) % 250 + 2}"
    pod["status"] = {**running_status(pod, ip, seq), "qosClass": "Burstable"}
    return pod


def running_status(pod: Obj, ip: str, seq: int, started: str = "2024-05-01T10:00:05Z") -> Obj:
    """A Running status like kwok's pod-ready stage writes (kwok skips pods that have a podIP)."""
    return {
        "phase": "Running", "hostIP": "10.255.0.1", "hostIPs": [{"ip": "10.255.0.1"}], "podIP": ip,
        "podIPs": [{"ip": ip}], "startTime": CREATED,
        "conditions": [{"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": started}
                       for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
        "containerStatuses": [
            {"name": c["name"], "image": c["image"], "imageID": f"docker-pullable://{c['image']}@sha256:{'ab' * 32}",
             "containerID": f"containerd://{hashlib.sha1((ip + c['name']).encode()).hexdigest()}",
             "ready": True, "started": True, "restartCount": (seq + k) % 3,
             "state": {"running": {"startedAt": started}},
             "lastState": {} if (seq + k) % 3 == 0 else {"terminated": {
                 "exitCode": 137, "reason": "OOMKilled", "startedAt": CREATED, "finishedAt": started}}}
            for k, c in enumerate(pod["spec"]["containers"])
        ],
    }


def deployment_manifest(namespace: str, app: str, index: int, replicas: int) -> Obj:
    labels = app_labels(app, index)
    selector = {"app": app}
    pod_spec = {"containers": _containers(app, index), "volumes": _volumes(app, index)}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": app, "namespace": namespace, "labels": labels,
                     "annotations": {"deployment.kubernetes.io/revision": "1"}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": selector}, "revisionHistoryLimit": 10,
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                 "template": {"metadata": {"labels": labels}, "spec": pod_spec}},
    }


def replicaset_manifest(namespace: str, app: str, index: int, replicas: int, deploy_uid: str) -> Obj:
    labels = {**app_labels(app, index), "pod-template-hash": template_hash(app)}
    pod_spec = {"containers": _containers(app, index), "volumes": _volumes(app, index)}
    return {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": f"{app}-{template_hash(app)}", "namespace": namespace, "labels": labels,
                     "annotations": {"deployment.kubernetes.io/revision": "1",
                                     "deployment.kubernetes.io/desired-replicas": str(replicas)},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": app,
                                          "uid": deploy_uid, "controller": True, "blockOwnerDeletion": True}]},
        "spec": {"replicas": replicas,
                 "selector": {"matchLabels": {"app": app, "pod-template-hash": template_hash(app)}},
                 "template": {"metadata": {"labels": labels}, "spec": pod_spec}},
    }


def workload_status(replicas: int, generation: int = 1) -> Obj:
    return {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas,
            "fullyLabeledReplicas": replicas, "observedGeneration": generation}


def deployment_status(replicas: int, generation: int = 1) -> Obj:
    return {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas,
            "updatedReplicas": replicas, "observedGeneration": generation,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                 "message": "Deployment has minimum availability.", "lastUpdateTime": CREATED,
                 "lastTransitionTime": CREATED},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                 "message": "ReplicaSet has successfully progressed.", "lastUpdateTime": CREATED,
                 "lastTransitionTime": CREATED}]}


# The local control plane's service range is a /24: only the first services get a cluster IP.
CLUSTER_IP_SERVICES = 100


def service_manifest(namespace: str, app: str, index: int) -> Obj:
    spec: Obj = {"type": "ClusterIP"} if index < CLUSTER_IP_SERVICES else {"type": "ClusterIP", "clusterIP": "None"}
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": app, "namespace": namespace, "labels": app_labels(app, index)},
        "spec": {**spec, "selector": {"app": app},
                 "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
                           {"name": "metrics", "port": 9090, "targetPort": 9090, "protocol": "TCP"}]},
    }


def endpointslice_manifest(namespace: str, app: str, index: int, addresses: list[tuple[str, str, str]]) -> Obj:
    """``addresses``: (pod name, ip, node) per endpoint."""
    return {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": f"{app}-{template_hash(app)[:5]}", "namespace": namespace,
                     "labels": {"kubernetes.io/service-name": app, "endpointslice.kubernetes.io/managed-by": "bench"}},
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}, {"name": "metrics", "port": 9090,
                                                                       "protocol": "TCP"}],
        "endpoints": [{"addresses": [ip], "conditions": {"ready": True, "serving": True, "terminating": False},
                       "nodeName": node, "targetRef": {"kind": "Pod", "namespace": namespace, "name": pod}}
                      for pod, ip, node in addresses],
    }


def configmap_manifest(namespace: str, name: str, index: int) -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace, "labels": {"team": TEAMS[index % len(TEAMS)]}},
            "data": {"app.yaml": f"listen: 8080\nworkers: {index % 8 + 1}\nfeature_flags: [a, b, c]\n" * 4}}


def secret_manifest(namespace: str, name: str, index: int) -> Obj:
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": name, "namespace": namespace, "labels": {"team": TEAMS[index % len(TEAMS)]}},
            "data": {"tls.crt": "QUJD" * 200, "tls.key": "REVG" * 100}}


def job_manifest(namespace: str, name: str, index: int) -> Obj:
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": namespace, "labels": {"team": TEAMS[index % len(TEAMS)]}},
        "spec": {"backoffLimit": 3, "completions": 1, "parallelism": 1, "ttlSecondsAfterFinished": 86400,
                 "template": {"metadata": {"labels": {"job": name}}, "spec": {
                     "restartPolicy": "Never",
                     "containers": [{"name": "main", "image": "registry.example.com/batch/report:2.1",
                                     "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}}]}}},
    }


def namespace_manifest(name: str, index: int) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"team": TEAMS[index % len(TEAMS)], "bench": "ksm-py"}}}


def service_account_manifest(namespace: str) -> Obj:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": namespace}}
