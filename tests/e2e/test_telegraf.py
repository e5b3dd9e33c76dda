"""deploy/telegraf end to end: the Telegraf of seed 002's layout scrapes ksm-py and writes to InfluxDB 1.x.

Real parts only: InfluxDB from Debian's ``influxdb`` package (1.x, authentication on, as the layout's
Secret implies), Telegraf built from the Go module proxy with only the plugins deploy/telegraf uses,
ksm-py on the local control plane with topology enabled. Telegraf runs the telegraf.conf that
kustomize renders from deploy/telegraf, fed the layout's environment variables; only the Service
DNS name becomes ksm-py's loopback address and the 30 s intervals become 1 s. What lands is read
back through InfluxDB's HTTP query API and compared tag for tag with ksm-py's own /metrics.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import shutil
import subprocess
import tomllib
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import build, versions
from harness.controlplane import wait_for
from harness.manifests import DEPLOY, KustomizeMissing, apply_all, delete_all, kustomize_build, render
from harness.rest import ApiError, Rest
from ksm_py.options import DEFAULT_RESOURCES
from tests.conftest import Objects, Process, built, e2e_unavailable, free_port, http_get, ksm_py_argv, wait_http_ok
from tests.expo import series

pytestmark = pytest.mark.e2e

TELEGRAF_DIR = DEPLOY / "telegraf"
DATABASE = "k8s"
ENV = "e2e"
# Telegraf gathers and flushes every second in the test.
RECENT = "4s"


def telegraf_binary() -> Path:
    return built(build.TELEGRAF)


def influxd_binary() -> str:
    exe = shutil.which("influxd")
    if exe is None:
        e2e_unavailable("influxd is missing: apt-get install influxdb (Debian's InfluxDB 1.x; .ci/run installs it)")
    assert exe is not None
    return exe


def rendered() -> list[dict[str, Any]]:
    try:
        return kustomize_build(TELEGRAF_DIR)
    except KustomizeMissing as e:
        pytest.fail(str(e))


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (doc,) = [d for d in docs if d["kind"] == kind]
    return doc


def telegraf_conf(docs: list[dict[str, Any]]) -> str:
    return one(docs, "ConfigMap")["data"]["telegraf.conf"]  # type: ignore[no-any-return]


def service_url() -> str:
    """http://<Service>.<namespace>.svc:<port>/metrics of deploy/base's ksm-py Service, port http-metrics."""
    service = one(render("base"), "Service")
    (port,) = [p["port"] for p in service["spec"]["ports"] if p["name"] == "http-metrics"]
    return f"http://{service['metadata']['name']}.{service['metadata']['namespace']}.svc:{port}/metrics"


# -- InfluxDB 1.x ---------------------------------------------------------------------------------
class Influx:
    """influxd on 127.0.0.1 with a temporary data directory and authentication on."""

    def __init__(self, work: Path) -> None:
        self.port, rpc = free_port(), free_port()
        self.admin = ("admin", secrets.token_hex(8))
        data = work / "influxdb"
        config = work / "influxdb.conf"
        # Only keys `influxd config` of Debian's 1.6 prints; everything listens on the loopback.
        config.write_text(f"""reporting-enabled = false
bind-address = "127.0.0.1:{rpc}"
[meta]
  dir = "{data}/meta"
  logging-enabled = false
[data]
  dir = "{data}/data"
  wal-dir = "{data}/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:{self.port}"
  auth-enabled = true
  log-enabled = false
  pprof-enabled = false
""")
        self.proc = Process([influxd_binary(), "-config", str(config)], work / "influxd.log")
        wait_for("influxd /ping", self._pinged, 60, interval=0.3, on_timeout=lambda: "\n" + self.proc.tail())
        # With no user yet, InfluxDB 1.x accepts exactly this statement unauthenticated.
        self.query(f"CREATE USER {self.admin[0]} WITH PASSWORD '{self.admin[1]}' WITH ALL PRIVILEGES",
                   method="POST", auth=False)

    def _pinged(self) -> bool:
        if self.proc.proc.poll() is not None:
            raise RuntimeError(f"influxd exited {self.proc.proc.returncode}:\n{self.proc.tail()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/ping", timeout=5) as r:
                return r.status == 204
        except OSError:
            return False

    def query(self, q: str, *, db: str = "", method: str = "GET", auth: bool = True) -> list[dict[str, Any]]:
        params = urllib.parse.urlencode({"q": q, "epoch": "s", **({"db": db} if db else {})})
        url = f"http://127.0.0.1:{self.port}/query"
        req = (urllib.request.Request(url, data=params.encode(), method="POST") if method == "POST"
               else urllib.request.Request(f"{url}?{params}"))
        if auth:
            token = base64.b64encode(":".join(self.admin).encode()).decode()
            req.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(req, timeout=30) as r:
            doc = json.loads(r.read())
        (result,) = doc["results"]
        assert "error" not in result, (q, result)
        return result.get("series") or []  # type: ignore[no-any-return]

    def last(self, measurement: str, field: str, where: str) -> dict[tuple[tuple[str, str], ...], float]:
        """The last value of ``field`` of every series of ``measurement`` matching ``where`` written in
        the last few seconds (a pod's earlier series, before it had an IP, stay in InfluxDB), by tag set."""
        found = self.query(f'SELECT last("{field}") FROM "{measurement}" WHERE {where} AND time > now() - {RECENT} '
                           'GROUP BY *', db=DATABASE)
        return {tuple(sorted(s["tags"].items())): s["values"][0][1] for s in found}

    def stop(self) -> None:
        self.proc.stop()


# -- the test's cluster state and processes --------------------------------------------------------
def web_deployment(replicas: int) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                         "nodeSelector": {"type": "kwok"},
                         "containers": [{"name": "c", "image": "registry.example/web:1",
                                         "ports": [{"name": "http", "containerPort": 80}]}]}}}}


def run_config(docs: list[dict[str, Any]], ksm_port: int, influx: Influx, work: Path) -> Path:
    """deploy/telegraf's telegraf.conf as the test runs it: the Service's DNS name becomes ksm-py's
    loopback address, the 30 s intervals 1 s. Everything else is the rendered file."""
    text = telegraf_conf(docs)
    url = service_url()
    assert text.count(f'"{url}"') == 1, f"telegraf.conf must scrape deploy/base's Service at {url}"
    text = text.replace(url, f"http://127.0.0.1:{ksm_port}/metrics")
    for key, value in (("interval", "1s"), ("flush_interval", "1s"), ("flush_jitter", "0s")):
        text, n = re.subn(rf'^(\s*{key}\s*=\s*)"[^"]*"', rf'\g<1>"{value}"', text, flags=re.M)
        assert n == 1, f"telegraf.conf: [agent] {key} not found exactly once"
    path = work / "telegraf.conf"
    path.write_text(text)
    return path


def telegraf_env(docs: list[dict[str, Any]], values: dict[str, str]) -> dict[str, str]:
    """The container's environment, each variable from the layout's Secret key it names."""
    (container,) = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
    env = {}
    for e in container["env"]:
        ref = e["valueFrom"]["secretKeyRef"]
        assert ref["name"] == "telegraf", e
        env[e["name"]] = values[ref["key"]]
    return env


def telegraf_argv(docs: list[dict[str, Any]], telegraf: Path, config: Path) -> list[str]:
    """The container's command line, with the built binary and the test's copy of the mounted config."""
    spec = one(docs, "Deployment")["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    (mount,) = container["volumeMounts"]
    mounted = f"{mount['mountPath']}/telegraf.conf"
    assert container["args"][0] == "telegraf" and mounted in container["args"], container["args"]
    return [str(telegraf), *(str(config) if a == mounted else a for a in container["args"][1:])]


def ksm_labels(text: str, family: str, **match: str) -> list[dict[str, str]]:
    """The label sets (empty values dropped: line protocol has no empty tags) of ksm-py's series."""
    found = []
    for key in series(text, prefix=family + "{"):
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', key))
        if all(labels.get(k) == v for k, v in match.items()):
            found.append({k: v for k, v in labels.items() if v})
    return found


class Run:
    def __init__(self, influx: Influx, ksm_port: int, ns: str, scraped_url: str, telegraf: Process) -> None:
        self.influx, self.ksm_port, self.ns, self.scraped_url, self.telegraf = (
            influx, ksm_port, ns, scraped_url, telegraf)

    def metrics(self) -> str:
        return http_get(f"http://127.0.0.1:{self.ksm_port}/metrics", timeout=60)[2].decode()

    def expected_tags(self, labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
        return tuple(sorted({**labels, "url": self.scraped_url, "env": ENV}.items()))

    def landed(self, measurement: str, field: str, **match: str) -> dict[tuple[tuple[str, str], ...], float]:
        where = " AND ".join(f""""{k}" = '{v}'""" for k, v in match.items())
        return self.influx.last(measurement, field, where)


@pytest.fixture
def run(cluster: Any, objects: Objects, restricted_kubeconfig_path: Path, tmp_path: Path) -> Iterator[Run]:
    docs = rendered()
    telegraf = telegraf_binary()
    started: list[Any] = []
    try:
        influx = Influx(tmp_path)
        started.append(influx)
        # Least privilege on the InfluxDB side too: Telegraf's user may only write the database.
        user, password = "telegraf", secrets.token_hex(8)
        influx.query(f"CREATE DATABASE {DATABASE}", method="POST")
        influx.query(f"CREATE USER {user} WITH PASSWORD '{password}'", method="POST")
        influx.query(f"GRANT WRITE ON {DATABASE} TO {user}", method="POST")

        o = objects
        o.create(web_deployment(2))
        o.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                  "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]}})

        # Topology is opt-in (or about to be): enable it explicitly on top of the defaults.
        resources = ",".join(dict.fromkeys([*DEFAULT_RESOURCES, "topology"]))
        port, tport = free_port(), free_port()
        ksm = Process([*ksm_py_argv(), f"--kubeconfig={restricted_kubeconfig_path}", f"--resources={resources}",
                       "--host=127.0.0.1", f"--port={port}", "--telemetry-host=127.0.0.1",
                       f"--telemetry-port={tport}"], tmp_path / "ksm-py.log")
        started.append(ksm)
        wait_http_ok(f"http://127.0.0.1:{tport}/readyz", timeout=120, proc=ksm)

        config = run_config(docs, port, influx, tmp_path)
        env = telegraf_env(docs, {"env": ENV, "monitor_host": f"http://127.0.0.1:{influx.port}",
                                  "monitor_database": DATABASE, "monitor_username": user,
                                  "monitor_password": password})
        tg = Process(telegraf_argv(docs, telegraf, config), tmp_path / "telegraf.log", env=env)
        started.append(tg)
        yield Run(influx, port, o.namespace, f"http://127.0.0.1:{port}/metrics", tg)
    finally:
        for p in reversed(started):
            p.stop()


def eventually(what: str, check: Any, run: Run, timeout: float = 90) -> Any:
    def checked() -> Any:
        if run.telegraf.proc.poll() is not None:
            raise RuntimeError(f"telegraf exited {run.telegraf.proc.returncode}:\n{run.telegraf.tail()}")
        return check()
    return wait_for(what, checked, timeout, interval=1, on_timeout=lambda: "\n" + run.telegraf.tail())


# -- the tests ---------------------------------------------------------------------------------------
def test_telegraf_writes_ksm_py_series_to_influxdb(run: Run, objects: Objects) -> None:
    ns = run.ns
    o = objects

    def web_ready() -> list[dict[str, Any]]:
        pods = o.list("v1", "Pod", label_selector="app=web")
        running = [p for p in pods if p["status"].get("phase") == "Running" and p["status"].get("podIP")]
        status = o.get("apps/v1", "Deployment", "web").get("status") or {}
        return running if len(running) == 2 and status.get("replicas") == 2 else []
    pods = o.wait("web's 2 pods Running", web_ready, 90)
    (rs,) = o.list("apps/v1", "ReplicaSet", label_selector="app=web")
    rs_name = rs["metadata"]["name"]

    # kube_deployment_status_replicas: one series, tags exactly ksm-py's labels plus url and env.
    replicas = eventually("kube_deployment_status_replicas of web = 2 in InfluxDB", lambda: {
        k: v for k, v in run.landed("kube_deployment_status_replicas", "gauge", namespace=ns).items() if v == 2}, run)
    assert list(replicas) == [run.expected_tags({"namespace": ns, "deployment": "web"})], replicas

    # kube_pod_info: both pods, every non-empty label of ksm-py's series as a tag, nothing else.
    def pod_info() -> dict[tuple[tuple[str, str], ...], float]:
        found = run.landed("kube_pod_info", "gauge", namespace=ns)
        want = {run.expected_tags(labels) for labels in ksm_labels(run.metrics(), "kube_pod_info", namespace=ns)}
        return found if set(found) == want and len(want) == 2 else {}
    info = eventually("kube_pod_info of both pods in InfluxDB with ksm-py's labels", pod_info, run)
    assert set(info.values()) == {1.0}
    by_pod = {dict(tags)["pod"]: dict(tags) for tags in info}
    assert set(by_pod) == {p["metadata"]["name"] for p in pods}
    for p in pods:
        tags = by_pod[p["metadata"]["name"]]
        assert tags["namespace"] == ns and tags["node"] == p["spec"]["nodeName"]
        assert tags["created_by_kind"] == "ReplicaSet" and tags["created_by_name"] == rs_name
        assert tags["uid"] == p["metadata"]["uid"] and tags["pod_ip"] == p["status"]["podIP"]

    # A topology relation: Deployment web controls its ReplicaSet.
    relation = {"type": "controls", "source_type": "deployment", "source_namespace": ns, "source_name": "web",
                "target_type": "replicaset", "target_namespace": ns, "target_name": rs_name}
    assert relation in ksm_labels(run.metrics(), "kube_topology_relation", source_namespace=ns)
    controls = eventually("kube_topology_relation deployment/web -> replicaset in InfluxDB", lambda: run.landed(
        "kube_topology_relation", "gauge", type="controls", source_namespace=ns, source_name="web"), run)
    assert controls == {run.expected_tags(relation): 1.0}

    # A scraped `address` label survives: kube_endpointslice_endpoints carries the pods' IPs, which
    # Telegraf's Kubernetes discovery would overwrite with ksm-py's own address.
    def addresses() -> set[str]:
        found = run.landed("kube_endpointslice_endpoints", "gauge", namespace=ns)
        return {dict(tags).get("address", "") for tags in found}
    ips = {p["status"]["podIP"] for p in pods}
    eventually("kube_endpointslice_endpoints with the pods' addresses", lambda: addresses() == ips, run)

    # Nothing rejected or dropped on the way (parse and write errors are E!, a full buffer W!). The one
    # expected warning: the write-only user may not create the database.
    complaints = [line for line in run.telegraf.tail(400).splitlines() if re.match(r"\S+ [EW]! ", line)
                  and not re.search(r'database "\w+" creation failed: 403', line)]
    assert not complaints, run.telegraf.tail()
    # The only measurements are ksm-py's families (no Telegraf-internal ones, no host metrics).
    names = {v[0] for s in run.influx.query("SHOW MEASUREMENTS", db=DATABASE) for v in s["values"]}
    assert names and all(n.startswith(("kube_", "ksm_py_")) for n in names), names


def test_telegraf_binary_has_only_the_plugins_the_config_uses() -> None:
    """The config's plugins are exactly what the binary is built with (build.TELEGRAF_TAGS)."""
    docs = rendered()
    conf = tomllib.loads(telegraf_conf(docs))
    used = {f"{kind}.{name}" for kind in ("inputs", "outputs", "processors", "aggregators")
            for name in conf.get(kind, {})}
    assert used == {"inputs.prometheus", "outputs.influxdb"}
    assert set(build.TELEGRAF_TAGS.split(",")) == {"custom", *used}
    exe = str(telegraf_binary())
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
    assert version.stdout.split() == ["Telegraf", versions.TELEGRAF.removeprefix("v")], version
    listed = subprocess.run([exe, "plugins"], capture_output=True, text=True, timeout=30)
    assert listed.returncode == 0, listed.stderr
    # The parsers and serializer the two plugins import directly are listed too (prometheus,
    # openmetrics, csv; influx); no other input, output, processor or aggregator is compiled in.
    plugins = {p for p in listed.stdout.split() if p.startswith(("inputs.", "outputs.", "processors.", "aggregators."))}
    assert plugins == used, listed.stdout
    # The image the manifests run is the version the tests build.
    (container,) = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"docker.io/library/telegraf:{versions.TELEGRAF.removeprefix('v')}"


def test_manifests_apply_and_telegraf_needs_no_api_access(cluster: Any) -> None:
    """deploy/telegraf applies in the layout's `monitoring` namespace next to its Secret, its pod
    runs, and its ServiceAccount has no token and may not even list pods."""
    docs = rendered()
    rest: Rest = cluster.rest
    assert {d["kind"] for d in docs} == {"ServiceAccount", "ConfigMap", "Deployment"}
    assert {d["metadata"]["namespace"] for d in docs} == {"monitoring"}
    deployment = one(docs, "Deployment")
    spec = deployment["spec"]["template"]["spec"]
    assert spec["automountServiceAccountToken"] is False
    assert one(docs, "ServiceAccount")["automountServiceAccountToken"] is False
    (container,) = spec["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    # Every variable telegraf.conf reads is set from the Secret.
    wanted = set(re.findall(r"\$\{?([A-Z_]+)", telegraf_conf(docs)))
    assert wanted == {e["name"] for e in container["env"]}, wanted

    created_ns = False
    try:
        rest.get("/api/v1/namespaces/monitoring")
    except ApiError as e:
        assert e.status == 404
        rest.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring"}})
        created_ns = True
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "telegraf", "namespace": "monitoring"},
              "stringData": {"env": ENV, "monitor_host": "http://influxdb.monitoring:8086",
                             "monitor_database": DATABASE}}
    secrets_path = "/api/v1/namespaces/monitoring/secrets"
    try:
        rest.request("POST", secrets_path, secret)
        apply_all(rest, docs)
        selector = ",".join(f"{k}={v}" for k, v in deployment["spec"]["selector"]["matchLabels"].items())

        def running() -> list[dict[str, Any]]:
            pods = rest.get(f"/api/v1/namespaces/monitoring/pods?labelSelector={urllib.parse.quote(selector)}")
            return [p for p in pods["items"] if p["status"].get("phase") == "Running"]
        (pod,) = wait_for("telegraf-ksm-py's pod Running", running, 120, interval=0.5)
        assert not any(v.get("projected") for v in pod["spec"].get("volumes", [])), "no token volume"

        user = "system:serviceaccount:monitoring:telegraf-ksm-py"
        groups = ["system:serviceaccounts", "system:serviceaccounts:monitoring", "system:authenticated"]
        for verb, resource, namespace in (("list", "pods", ""), ("list", "pods", "kube-system"),
                                          ("watch", "endpoints", "kube-system"), ("get", "secrets", "monitoring")):
            review = rest.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
                "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                "spec": {"user": user, "groups": groups,
                         "resourceAttributes": {"verb": verb, "resource": resource, "namespace": namespace}}})
            assert not review["status"].get("allowed"), (verb, resource, namespace)
    finally:
        delete_all(rest, docs)
        try:
            rest.request("DELETE", f"{secrets_path}/telegraf")
        except ApiError:
            pass
        if created_ns:
            rest.request("DELETE", "/api/v1/namespaces/monitoring")
