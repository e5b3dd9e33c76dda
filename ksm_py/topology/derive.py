"""Components and relations of one Kubernetes object, as the StackState cluster agent derives them.

Each function reads one raw object and returns its ``Record``; none needs another object.  Where
the agent joins two kinds (service -> pod by label selector) the EndpointSlice is used instead
(``endpointslice``); see docs/topology.md for the differences.  ConfigMaps and Secrets are read
through their metadata only: nothing here looks at ``data``.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from ..body import Body
from . import model as m
from .model import Builder, Record, Ref

Derive = Callable[[Body, str], Record]
# Objects are parsed JSON: ``isinstance(x, dict)`` (typing.Mapping is an ABC, ten times slower).


def _meta(obj: Body) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _dig(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _identity(obj: Body) -> tuple[str, str, str]:
    meta = _meta(obj)
    return _str(meta.get("namespace")), _str(meta.get("name")), _str(meta.get("uid"))


def _labels(obj: Body) -> tuple[tuple[str, str], ...]:
    """The object's Kubernetes labels (StackState's tags), sorted; never annotations."""
    labels = _meta(obj).get("labels")
    if not isinstance(labels, dict) or not labels:
        return ()
    return tuple(sorted((k, v) for k, v in labels.items() if isinstance(k, str) and isinstance(v, str)))


def namespace_ref(namespace: str) -> Ref:
    return Ref(m.NAMESPACE, namespace, namespace)


def _owners(obj: Body, *kinds: str) -> list[tuple[str, str]]:
    """``(kind, name)`` of the owner references of the given kinds, in order."""
    out = []
    for ref in _list(_meta(obj).get("ownerReferences")):
        kind, name = _str(ref.get("kind")), _str(ref.get("name"))
        if kind in kinds and name:
            out.append((kind, name))
    return out


def _simple(type_: str) -> Derive:
    """A namespaced component that the namespace encloses (deployment, statefulset, ...)."""
    def derive(obj: Body, cluster: str) -> Record:
        ns, name, uid = _identity(obj)
        b = Builder()
        ref = b.component(type_, ns, name, uid, _labels(obj))
        b.relation(m.ENCLOSES, namespace_ref(ns), ref)
        return b.record()
    derive.__name__ = type_
    return derive


def _only_component(type_: str, namespaced: bool = True) -> Derive:
    """A component with no relations of its own (configmap, secret, ...)."""
    def derive(obj: Body, cluster: str) -> Record:
        ns, name, uid = _identity(obj)
        b = Builder()
        b.component(type_, ns if namespaced else "", name, uid, _labels(obj))
        return b.record()
    derive.__name__ = type_
    return derive


deployment = _simple(m.DEPLOYMENT)
statefulset = _simple(m.STATEFULSET)
daemonset = _simple(m.DAEMONSET)
# Nothing owns a ReplicationController (Deployments create ReplicaSets): its namespace encloses it.
replicationcontroller = _simple(m.REPLICATIONCONTROLLER)
cronjob = _simple(m.CRONJOB)
configmap = _only_component(m.CONFIGMAP)
secret = _only_component(m.SECRET)


def cluster(obj: Body, cluster: str) -> Record:
    b = Builder()
    b.component(m.CLUSTER, "", cluster)
    return b.record()


def namespace(obj: Body, cluster: str) -> Record:
    _, name, uid = _identity(obj)
    b = Builder()
    b.component(m.NAMESPACE, name, name, uid, _labels(obj))
    return b.record()


def node(obj: Body, cluster: str) -> Record:
    _, name, uid = _identity(obj)
    b = Builder()
    ref = b.component(m.NODE, "", name, uid, _labels(obj))
    b.relation(m.BELONGS_TO, ref, Ref(m.CLUSTER, "", cluster))
    return b.record()


def _owned(obj: Body, component: str, owner_kind: str, owner_type: str, relation: str) -> Record:
    """A workload its owner relates to (Deployment controls ReplicaSet, CronJob creates Job); an
    unowned one is enclosed by its namespace instead."""
    ns, name, uid = _identity(obj)
    b = Builder()
    ref = b.component(component, ns, name, uid, _labels(obj))
    owners = _owners(obj, owner_kind)
    for _, owner in owners:
        b.relation(relation, Ref(owner_type, ns, owner), ref)
    if not owners:
        b.relation(m.ENCLOSES, namespace_ref(ns), ref)
    return b.record()


def replicaset(obj: Body, cluster: str) -> Record:
    return _owned(obj, m.REPLICASET, "Deployment", m.DEPLOYMENT, m.CONTROLS)


def job(obj: Body, cluster: str) -> Record:
    return _owned(obj, m.JOB, "CronJob", m.CRONJOB, m.CREATES)


def service(obj: Body, cluster: str) -> Record:
    ns, name, uid = _identity(obj)
    b = Builder()
    ref = b.component(m.SERVICE, ns, name, uid, _labels(obj))
    b.relation(m.ENCLOSES, namespace_ref(ns), ref)
    if _dig(obj, "spec", "type") == "ExternalName":
        external = b.component(m.EXTERNAL_SERVICE, ns, name, uid, _labels(obj))
        b.relation(m.USES, ref, external)
    return b.record()


def endpointslice_service(obj: Body) -> str:
    """The Service an EndpointSlice belongs to (its ``kubernetes.io/service-name`` label)."""
    return _str(_map(_meta(obj).get("labels")).get("kubernetes.io/service-name"))


def endpointslice(obj: Body, cluster: str) -> Record:
    """``exposes`` service -> pod for every endpoint whose targetRef is a Pod."""
    ns, _, _ = _identity(obj)
    svc = endpointslice_service(obj)
    b = Builder()
    if not svc:
        return b.record()
    source = Ref(m.SERVICE, ns, svc)
    for ep in _list(obj.get("endpoints")):
        target = _map(ep.get("targetRef"))
        if target.get("kind") == "Pod" and _str(target.get("name")):
            b.relation(m.EXPOSES, source, Ref(m.POD, _str(target.get("namespace")) or ns, _str(target.get("name"))))
    return b.record()


def ingress(obj: Body, cluster: str) -> Record:
    ns, name, uid = _identity(obj)
    b = Builder()
    ref = b.component(m.INGRESS, ns, name, uid, _labels(obj))
    spec = _map(obj.get("spec"))
    backends = [_map(spec.get("defaultBackend"))]
    for rule in _list(spec.get("rules")):
        backends += [_map(p.get("backend")) for p in _list(_dig(rule, "http", "paths"))]
    for backend in backends:
        svc = _str(_dig(backend, "service", "name"))
        if svc:
            b.relation(m.ROUTES, ref, Ref(m.SERVICE, ns, svc))
    for lb in _list(_dig(obj, "status", "loadBalancer", "ingress")):
        for address in (_str(lb.get("ip")), _str(lb.get("hostname"))):
            if address:
                b.relation(m.ROUTES, b.shared(m.ENDPOINT, "", address), ref)
    return b.record()


def persistentvolumeclaim(obj: Body, cluster: str) -> Record:
    ns, name, uid = _identity(obj)
    b = Builder()
    ref = b.component(m.PERSISTENT_VOLUME_CLAIM, ns, name, uid, _labels(obj))
    volume = _str(_dig(obj, "spec", "volumeName"))
    if volume:
        b.relation(m.EXPOSES, ref, Ref(m.PERSISTENT_VOLUME, "", volume))
    return b.record()


def persistentvolume(obj: Body, cluster: str) -> Record:
    _, name, uid = _identity(obj)
    b = Builder()
    ref = b.component(m.PERSISTENT_VOLUME, "", name, uid, _labels(obj))
    source = external_volume(_map(obj.get("spec")), persistent=True)
    if source:
        b.relation(m.EXPOSES, ref, b.shared(m.VOLUME_SOURCE, "", source))
    return b.record()


def volumeattachment(obj: Body, cluster: str) -> Record:
    b = Builder()
    node_name = _str(_dig(obj, "spec", "nodeName"))
    pv = _str(_dig(obj, "spec", "source", "persistentVolumeName"))
    if node_name and pv:
        b.relation(m.EXPOSES, Ref(m.NODE, "", node_name), Ref(m.PERSISTENT_VOLUME, "", pv))
    return b.record()


# -- volumes ----------------------------------------------------------------------------------

def _first(values: Any) -> str:
    return _str(values[0]) if isinstance(values, list) and values else ""


def _strip(path: str) -> str:
    return path.lstrip("/")


def _join(*parts: str) -> str:
    return "/".join(parts)


# (field of the VolumeSource / PersistentVolumeSource, name builder) in the agent's mapper order.
_EXTERNAL: list[tuple[str, Callable[[Mapping[str, Any]], str]]] = [
    ("awsElasticBlockStore", lambda s: _join("aws-ebs", _str(s.get("volumeID")).removeprefix("aws://"),
                                             str(s.get("partition") or 0))),
    ("azureDisk", lambda s: _join("azure-disk", _str(s.get("diskName")))),
    ("azureFile", lambda s: _join("azure-file", _str(s.get("shareName")))),
    ("cephfs", lambda s: _join("ceph-fs", _first(s.get("monitors")), *(
        [_strip(_str(s.get("path")))] if _str(s.get("path")) else []))),
    ("cinder", lambda s: _join("cinder", _str(s.get("volumeID")))),
    ("fc", lambda s: _join("fibre-channel", f"{_first(s.get('targetWWNs'))}-lun-{s.get('lun') or 0}")
        if _first(s.get("targetWWNs")) else _join("fibre-channel", _first(s.get("wwids")))),
    ("flexVolume", lambda s: _join("flex", _str(s.get("driver")))),
    ("flocker", lambda s: _join("flocker", _str(s.get("datasetName")) or _str(s.get("datasetUUID")))),
    ("gcePersistentDisk", lambda s: _join("gce-pd", _str(s.get("pdName")))),
    ("gitRepo", lambda s: _join("git-repo", _str(s.get("repository")))),
    ("glusterfs", lambda s: _join("gluster-fs", _str(s.get("endpoints")), _strip(_str(s.get("path"))))),
    ("iscsi", lambda s: _join("iscsi", _str(s.get("targetPortal")), _str(s.get("iqn")), str(s.get("lun") or 0))),
    ("nfs", lambda s: _join("nfs", _str(s.get("server")), _strip(_str(s.get("path"))))),
    ("photonPersistentDisk", lambda s: _join("photon", _str(s.get("pdID")))),
    ("portworxVolume", lambda s: _join("portworx", _str(s.get("volumeID")))),
    ("quobyte", lambda s: _join("quobyte", _str(s.get("registry")), _str(s.get("volume")))),
    ("rbd", lambda s: _join("rbd", _first(s.get("monitors")), f"{_str(s.get('pool')) or 'rbd'}-image-"
                                                               f"{_str(s.get('image'))}")),
    ("scaleIO", lambda s: _join("scale-io", _str(s.get("gateway")), _str(s.get("system")))),
    ("storageos", lambda s: _join("storage-os", _str(s.get("volumeNamespace")), _str(s.get("volumeName")))),
    ("vsphereVolume", lambda s: _join("vsphere", _strip(_str(s.get("volumePath"))))),
]


def external_volume(source: Mapping[str, Any], *, persistent: bool = False) -> str:
    """The cluster-independent name of a network or cloud volume (``nfs/server/path``), or ""."""
    for field, build in _EXTERNAL:
        spec = source.get(field)
        if isinstance(spec, dict):
            return build(spec)
    csi = source.get("csi")
    if persistent and isinstance(csi, dict):
        return _join("csi", _str(csi.get("driver")), _str(csi.get("volumeHandle")))
    return ""


def _optional(spec: Any) -> bool:
    return isinstance(spec, dict) and spec.get("optional") is True


def _pod_volumes(b: Builder, pod: Ref, obj: Body) -> dict[str, tuple[Ref, bool]]:
    """Resolve ``spec.volumes[]`` (first match wins, as the agent's volume correlator) and add the
    ``claims`` and ``projects`` relations; returns volume name -> (mount target, optional)."""
    ns, pod_name = pod.namespace, pod.name
    node_name = _str(_dig(obj, "spec", "nodeName"))
    out: dict[str, tuple[Ref, bool]] = {}
    for vol in _list(_dig(obj, "spec", "volumes")):
        vname = _str(vol.get("name"))
        if not vname:
            continue
        optional = False
        if isinstance(vol.get("downwardAPI"), dict):
            out[vname] = (pod, False)  # no volume component; containers mount the pod itself
            continue
        if isinstance(vol.get("persistentVolumeClaim"), dict):
            claim = _str(vol["persistentVolumeClaim"].get("claimName"))
            target = Ref(m.PERSISTENT_VOLUME_CLAIM, ns, claim)
        elif isinstance(vol.get("configMap"), dict):
            target = Ref(m.CONFIGMAP, ns, _str(vol["configMap"].get("name")))
            optional = _optional(vol["configMap"])
        elif isinstance(vol.get("secret"), dict):
            target = Ref(m.SECRET, ns, _str(vol["secret"].get("secretName")))
            optional = _optional(vol["secret"])
        elif isinstance(vol.get("emptyDir"), dict):
            target = b.component(m.VOLUME, ns, f"{pod_name}/{vname}")
        elif isinstance(vol.get("hostPath"), dict) and node_name:
            target = b.shared(m.VOLUME, "", _join("hostpath", node_name, _strip(_str(vol["hostPath"].get("path")))))
        elif isinstance(vol.get("projected"), dict):
            # Pod-scoped (the agent's id is not, and collides across pods: kube-api-access-xxxxx).
            target = b.component(m.VOLUME, ns, f"{pod_name}/{vname}")
            for src in _list(vol["projected"].get("sources")):
                if isinstance(src.get("configMap"), dict) and _str(src["configMap"].get("name")):
                    b.relation(m.PROJECTS, target, Ref(m.CONFIGMAP, ns, src["configMap"]["name"]),
                               optional=_optional(src["configMap"]))
                if isinstance(src.get("secret"), dict) and _str(src["secret"].get("name")):
                    b.relation(m.PROJECTS, target, Ref(m.SECRET, ns, src["secret"]["name"]),
                               optional=_optional(src["secret"]))
        else:
            external = external_volume(vol)
            if external:
                target = b.shared(m.VOLUME, "", external)
            else:  # any other source (CSI inline, ephemeral, image, ...) is pod-scoped like emptyDir
                target = b.component(m.VOLUME, ns, f"{pod_name}/{vname}")
        if not target.name:
            continue
        b.relation(m.CLAIMS, pod, target, optional=optional)
        out[vname] = (target, optional)
    return out


_CONTROLLERS = {"DaemonSet": m.DAEMONSET, "Deployment": m.DEPLOYMENT, "ReplicaSet": m.REPLICASET,
                "ReplicationController": m.REPLICATIONCONTROLLER, "StatefulSet": m.STATEFULSET, "Job": m.JOB}


def _env_references(b: Builder, pod: Ref, containers: Iterable[Mapping[str, Any]]) -> None:
    ns = pod.namespace
    for c in containers:
        for ref in _list(c.get("envFrom")):
            for key, type_ in (("configMapRef", m.CONFIGMAP), ("secretRef", m.SECRET)):
                spec = ref.get(key)
                if isinstance(spec, dict) and _str(spec.get("name")):
                    b.relation(m.USES, pod, Ref(type_, ns, spec["name"]), optional=_optional(spec))
        for env in _list(c.get("env")):
            for key, type_ in (("configMapKeyRef", m.CONFIGMAP), ("secretKeyRef", m.SECRET)):
                spec = _dig(env, "valueFrom", key)
                if isinstance(spec, dict) and _str(spec.get("name")):
                    b.relation(m.USES_VALUE, pod, Ref(type_, ns, spec["name"]), optional=_optional(spec))


def pod(obj: Body, cluster: str) -> Record:
    ns, name, uid = _identity(obj)
    b = Builder()
    ref = b.component(m.POD, ns, name, uid, _labels(obj))
    node_name = _str(_dig(obj, "spec", "nodeName"))
    node_ref = Ref(m.NODE, "", node_name)
    if node_name:
        b.relation(m.SCHEDULED_ON, ref, node_ref)
    # A finished Job pod stays controlled by its Job (the Job controller keeps its ownerReference;
    # the agent drops the relation once the pod Succeeded or Failed, which left the pod of every
    # completed Job, and so of every CronJob run, unconnected to its Job).
    owners = _owners(obj, *_CONTROLLERS)
    for kind, owner in owners:
        b.relation(m.CONTROLS, Ref(_CONTROLLERS[kind], ns, owner), ref)
    if not owners:
        b.relation(m.ENCLOSES, namespace_ref(ns), ref)
    spec = _map(obj.get("spec"))
    containers = _list(spec.get("containers"))
    # Init containers' env references count too (a missing ConfigMap blocks them just as well);
    # the agent ignores them.
    _env_references(b, ref, [*_list(spec.get("initContainers")), *containers])
    volumes = _pod_volumes(b, ref, obj)
    for c in containers:
        cname = _str(c.get("name"))
        if not cname:
            continue
        container = b.component(m.CONTAINER, ns, f"{name}/{cname}")
        b.relation(m.ENCLOSES, ref, container)
        if node_name:
            b.relation(m.RUNS_ON, container, node_ref)
        for mount in _list(c.get("volumeMounts")):
            target = volumes.get(_str(mount.get("name")))
            if target is not None:
                b.relation(m.MOUNTS, container, target[0], optional=target[1])
    return b.record()
