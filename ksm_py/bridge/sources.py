"""Read the topology from a running ksm-py: its ``/metrics`` or its ``/topology`` JSON.

A read either returns the whole topology or raises ``SourceIncomplete``: the bridge must never
push a snapshot built from partial data, since StackState deletes whatever a snapshot omits.  So
ksm-py's telemetry ``/readyz`` (200 only once every resource finished its initial list) is asked
before *and* after the read (a ksm-py restarted in between serves partial data), ``/metrics`` is
requested as OpenMetrics so a cut-off body is detected by its missing ``# EOF``, and a scrape
without the topology families (topology not enabled) or without a single component is refused.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Callable

import orjson
import urllib3

from .. import __version__
from .model import Key, Topology

logger = logging.getLogger(__name__)

USER_AGENT = f"ksm-py-bridge/{__version__}"
ACCEPT_METRICS = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
COMPONENT_FAMILY = "kube_topology_component"
RELATION_FAMILY = "kube_topology_relation"


class SourceIncomplete(Exception):
    """The source cannot be read completely; ``reason`` is a short label value for the self-metric."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class Http:
    """GETs with bounded timeouts and no retries (a failed read just skips the round)."""

    def __init__(self, timeout: float = 30, pool: urllib3.PoolManager | None = None) -> None:
        self.timeout = timeout
        self.pool = pool or urllib3.PoolManager(retries=False)

    def get(self, url: str, accept: str = "*/*") -> tuple[int, str, bytes]:
        resp = self.pool.request("GET", url, headers={"Accept": accept, "Accept-Encoding": "gzip",
                                                      "User-Agent": USER_AGENT},
                                 timeout=urllib3.Timeout(connect=5, read=self.timeout), retries=False,
                                 redirect=False)
        return resp.status, resp.headers.get("Content-Type", ""), bytes(resp.data)


def check_ready(http: Http, url: str, when: str) -> None:
    """Raise unless ksm-py's telemetry ``/readyz`` answers 200 (an empty URL skips the check)."""
    if not url:
        return
    try:
        status, _, _ = http.get(url)
    except Exception as e:  # noqa: BLE001 - any failure means "not known to be ready"
        raise SourceIncomplete("not_ready", f"{url} unreachable {when} the read: {type(e).__name__}: {e}") from e
    if status != 200:
        raise SourceIncomplete("not_ready", f"{url} answered {status} {when} the read (ksm-py has not listed "
                                            "every resource yet)")


def check_not_sharded(http: Http, readyz_url: str) -> None:
    """Raise when ksm-py is one shard of several (``kube_state_metrics_total_shards`` on the telemetry
    ``/metrics`` next to ``/readyz``): a shard only holds part of the objects, and a snapshot of part
    of the cluster would delete the rest.  An unreadable telemetry page is not an error."""
    if not readyz_url.endswith("/readyz"):
        return
    url = readyz_url[: -len("/readyz")] + "/metrics"
    try:
        status, _, body = http.get(url, "text/plain")
    except Exception:  # noqa: BLE001
        return
    if status != 200:
        return
    for line in body.decode("utf-8", "replace").splitlines():
        if line.startswith("kube_state_metrics_total_shards"):
            try:
                shards = float(line.rsplit(" ", 1)[1])
            except (IndexError, ValueError):
                return
            if shards > 1:
                raise SourceIncomplete("sharded", f"{url}: ksm-py is one of {shards:.0f} shards and only holds part "
                                                  "of the topology; point the bridge at an unsharded ksm-py")
            return


# -- exposition parsing ---------------------------------------------------------------------------

_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,?)')
_UNESCAPE = re.compile(r"\\(.)")


def _unescape(value: str) -> str:
    if "\\" not in value:
        return value
    return _UNESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def parse_sample(line: str) -> tuple[str, dict[str, str], str]:
    """``name{a="b",...} value [timestamp]`` -> (name, labels, value text)."""
    brace = line.find("{")
    space = line.find(" ")
    if brace < 0 or (0 <= space < brace):
        name, _, rest = line.partition(" ")
        return name, {}, rest.split(" ", 1)[0]
    name = line[:brace]
    labels: dict[str, str] = {}
    pos = brace + 1
    while True:
        if line.startswith("}", pos):
            pos += 1
            break
        m = _LABEL.match(line, pos)
        if not m:
            raise ValueError(f"malformed labels at column {pos}: {line[:200]!r}")
        labels[m.group(1)] = _unescape(m.group(2))
        pos = m.end()
        if not m.group(3):
            if not line.startswith("}", pos):
                raise ValueError(f"malformed labels at column {pos}: {line[:200]!r}")
    return name, labels, line[pos:].strip().split(" ", 1)[0]


Handler = Callable[[Topology, dict[str, str], str], None]


def _component(t: Topology, labels: dict[str, str], _: str) -> None:
    key = Key(labels.get("type", ""), labels.get("namespace", ""), labels.get("name", ""))
    if key.type and key.name:
        t.component(key, labels.get("uid", ""))


def _relation(t: Topology, labels: dict[str, str], _: str) -> None:
    source = Key(labels.get("source_type", ""), labels.get("source_namespace", ""), labels.get("source_name", ""))
    target = Key(labels.get("target_type", ""), labels.get("target_namespace", ""), labels.get("target_name", ""))
    if labels.get("type") and source.name and target.name:
        t.relation(labels["type"], source, target)


class _Facts:
    """Facts from KSM families, keyed like the components, applied once the scrape is read."""

    def __init__(self) -> None:
        self.by_key: dict[Key, list[tuple[str, Any]]] = {}

    def add(self, key: Key, attr: str, value: Any) -> None:
        self.by_key.setdefault(key, []).append((attr, value))

    def apply(self, t: Topology) -> None:
        for key, facts in self.by_key.items():
            c = t.components.get(key)
            if c is None:
                continue
            for attr, value in facts:
                if attr == "internal_ip":
                    continue  # see _node_internal_ips
                if attr == "labels":
                    c.labels.update(value)
                elif attr in ("addresses", "external_ips", "ingress_points"):
                    getattr(c, attr).append(value)
                else:
                    setattr(c, attr, value)


# kube_<kind>_labels family -> (component type, label holding the object's name, namespaced)
LABEL_FAMILIES = {
    "kube_pod_labels": ("pod", "pod", True), "kube_deployment_labels": ("deployment", "deployment", True),
    "kube_namespace_labels": ("namespace", "namespace", False), "kube_node_labels": ("node", "node", False),
    "kube_service_labels": ("service", "service", True), "kube_replicaset_labels": ("replicaset", "replicaset", True),
    "kube_statefulset_labels": ("statefulset", "statefulset", True),
    "kube_daemonset_labels": ("daemonset", "daemonset", True), "kube_job_labels": ("job", "job_name", True),
    "kube_cronjob_labels": ("cronjob", "cronjob", True), "kube_configmap_labels": ("configmap", "configmap", True),
    "kube_secret_labels": ("secret", "secret", True), "kube_ingress_labels": ("ingress", "ingress", True),
    "kube_persistentvolume_labels": ("persistent-volume", "persistentvolume", False),
    "kube_persistentvolumeclaim_labels": ("persistent-volume-claim", "persistentvolumeclaim", True),
}


def _key_of(type: str, labels: dict[str, str], name_label: str, namespaced: bool) -> Key:
    name = labels.get(name_label, "")
    if type == "namespace":
        return Key(type, name, name)
    return Key(type, labels.get("namespace", "") if namespaced else "", name)


def _labels_handler(type: str, name_label: str, namespaced: bool, facts: _Facts) -> Handler:
    def handle(t: Topology, labels: dict[str, str], _: str) -> None:
        k8s = {k[len("label_"):]: v for k, v in labels.items() if k.startswith("label_")}
        if k8s:
            facts.add(_key_of(type, labels, name_label, namespaced), "labels", k8s)
    return handle


def _fact_handlers(facts: _Facts) -> dict[str, Handler]:
    def pod(labels: dict[str, str]) -> Key:
        return Key("pod", labels.get("namespace", ""), labels.get("pod", ""))

    def node(labels: dict[str, str]) -> Key:
        return Key("node", "", labels.get("node", ""))

    def service(labels: dict[str, str]) -> Key:
        return Key("service", labels.get("namespace", ""), labels.get("service", ""))

    def is_one(value: str) -> bool:
        return value in ("1", "1.0")

    def pod_phase(t: Topology, labels: dict[str, str], value: str) -> None:
        if is_one(value):
            facts.add(pod(labels), "phase", labels.get("phase", ""))

    def pod_info(t: Topology, labels: dict[str, str], _: str) -> None:
        if labels.get("node"):
            facts.add(pod(labels), "node", labels["node"])

    def container_info(t: Topology, labels: dict[str, str], _: str) -> None:
        key = Key("container", labels.get("namespace", ""), f"{labels.get('pod', '')}/{labels.get('container', '')}")
        if labels.get("container_id"):
            facts.add(key, "container_id", labels["container_id"])

    def node_info(t: Topology, labels: dict[str, str], _: str) -> None:
        if labels.get("provider_id"):
            facts.add(node(labels), "provider_id", labels["provider_id"])
        if labels.get("internal_ip"):
            facts.add(node(labels), "internal_ip", labels["internal_ip"])

    def node_address(t: Topology, labels: dict[str, str], _: str) -> None:
        if labels.get("type") and labels.get("address"):
            facts.add(node(labels), "addresses", (labels["type"], labels["address"]))

    def service_info(t: Topology, labels: dict[str, str], _: str) -> None:
        for label, attr in (("cluster_ip", "cluster_ip"), ("external_name", "external_name"),
                            ("load_balancer_ip", "load_balancer_ip")):
            if labels.get(label):
                facts.add(service(labels), attr, labels[label])
                if label == "external_name":
                    facts.add(Key("external-service", labels.get("namespace", ""), labels.get("service", "")),
                              attr, labels[label])

    def service_type(t: Topology, labels: dict[str, str], _: str) -> None:
        if labels.get("type"):
            facts.add(service(labels), "service_type", labels["type"])

    def service_external_ip(t: Topology, labels: dict[str, str], _: str) -> None:
        if labels.get("external_ip"):
            facts.add(service(labels), "external_ips", labels["external_ip"])

    def service_lb_ingress(t: Topology, labels: dict[str, str], _: str) -> None:
        for label in ("ip", "hostname"):
            if labels.get(label):
                facts.add(service(labels), "ingress_points", labels[label])

    handlers: dict[str, Handler] = {
        "kube_pod_status_phase": pod_phase, "kube_pod_info": pod_info, "kube_pod_container_info": container_info,
        "kube_node_info": node_info, "kube_node_status_addresses": node_address, "kube_service_info": service_info,
        "kube_service_spec_type": service_type, "kube_service_spec_external_ip": service_external_ip,
        "kube_service_status_load_balancer_ingress": service_lb_ingress,
    }
    for family, (type, name_label, namespaced) in LABEL_FAMILIES.items():
        handlers[family] = _labels_handler(type, name_label, namespaced, facts)
    return handlers


def parse_metrics(text: str, *, openmetrics: bool = False) -> Topology:
    """The topology in a ksm-py exposition, with facts from the KSM families joined in."""
    topology = Topology()
    facts = _Facts()
    handlers: dict[str, Handler] = {COMPONENT_FAMILY: _component, RELATION_FAMILY: _relation, **_fact_handlers(facts)}
    seen_family = False
    eof = False
    for line in text.splitlines():
        if not line:
            continue
        if line[0] == "#":
            if line.startswith(("# TYPE kube_topology_component ", "# HELP kube_topology_component ")):
                seen_family = True
            elif line == "# EOF":
                eof = True
            continue
        name_end = min((i for i in (line.find("{"), line.find(" ")) if i >= 0), default=len(line))
        handler = handlers.get(line[:name_end])
        if handler is None:
            continue
        try:
            _, labels, value = parse_sample(line)
        except ValueError as e:
            raise SourceIncomplete("bad_response", str(e)) from e
        handler(topology, labels, value)
    if openmetrics and not eof:
        raise SourceIncomplete("bad_response", "the OpenMetrics body has no '# EOF': it was cut off")
    if not seen_family:
        raise SourceIncomplete("no_topology", f"no {COMPONENT_FAMILY} family in the scrape: is ksm-py running with "
                                              "the topology enabled (--resources=...,topology)?")
    facts.apply(topology)
    _node_internal_ips(topology, facts)
    return topology


def _node_internal_ips(topology: Topology, facts: _Facts) -> None:
    """``kube_node_info{internal_ip}`` stands in for the addresses when ``kube_node_status_addresses``
    is not exposed (it is an ALPHA family a metric denylist may drop)."""
    for key, items in facts.by_key.items():
        c = topology.components.get(key)
        if c is None or c.type != "node" or c.addresses:
            continue
        for attr, value in items:
            if attr == "internal_ip":
                c.addresses.append(("InternalIP", value))


# -- /topology JSON -------------------------------------------------------------------------------

def _ref(value: Any) -> Key:
    if not isinstance(value, dict):
        return Key("", "", "")
    return Key(str(value.get("type") or ""), str(value.get("namespace") or ""), str(value.get("name") or ""))


def parse_topology_json(body: bytes) -> Topology:
    """``{"components": [{type, namespace, name, uid, labels?}], "relations": [{type, source, target}]}``."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise SourceIncomplete("bad_response", f"/topology is not JSON: {e}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("components"), list) \
            or not isinstance(doc.get("relations"), list):
        raise SourceIncomplete("bad_response", "/topology has no 'components' and 'relations' lists")
    if doc.get("complete") is False or doc.get("ready") is False:
        raise SourceIncomplete("not_ready", "/topology says it is incomplete")
    topology = Topology()
    for item in doc["components"]:
        key = _ref(item)
        if not key.type or not key.name:
            continue
        c = topology.component(key, str(item.get("uid") or ""))
        labels = item.get("labels")
        if isinstance(labels, dict):
            c.labels.update({str(k): str(v) for k, v in labels.items()})
    for item in doc["relations"]:
        if not isinstance(item, dict):
            continue
        source, target = _ref(item.get("source")), _ref(item.get("target"))
        if item.get("type") and source.name and target.name:
            topology.relation(str(item["type"]), source, target)
    return topology


# -- the two sources --------------------------------------------------------------------------------

class _HttpSource:
    """Read one URL of a ready, unsharded ksm-py; readiness is checked before and after, so a
    restart in between never passes for a complete (but empty) topology."""

    accept = "*/*"

    def __init__(self, url: str, readyz_url: str, http: Http | None = None) -> None:
        self.url = url
        self.readyz_url = readyz_url
        self.http = http or Http()

    def describe(self) -> str:
        return self.url

    def parse(self, body: bytes, content_type: str) -> Topology:
        raise NotImplementedError

    def read(self) -> Topology:
        check_ready(self.http, self.readyz_url, "before")
        check_not_sharded(self.http, self.readyz_url)
        try:
            status, content_type, body = self.http.get(self.url, self.accept)
        except Exception as e:  # noqa: BLE001 - connection refused, reset, cut-off chunked body, ...
            raise SourceIncomplete("scrape_error", f"{self.url}: {type(e).__name__}: {e}") from e
        if status != 200:
            raise SourceIncomplete("scrape_error", f"{self.url} answered {status}")
        topology = self.parse(body, content_type)
        check_ready(self.http, self.readyz_url, "after")
        return topology


class MetricsSource(_HttpSource):
    """The ``kube_topology_*`` series (and KSM facts) of ksm-py's ``/metrics``."""

    accept = ACCEPT_METRICS

    def parse(self, body: bytes, content_type: str) -> Topology:
        return parse_metrics(body.decode("utf-8", "replace"),
                             openmetrics=content_type.startswith("application/openmetrics-text"))


class JsonSource(_HttpSource):
    """ksm-py's ``/topology`` JSON."""

    accept = "application/json"

    def parse(self, body: bytes, content_type: str) -> Topology:
        return parse_topology_json(body)
