"""Run a real Kubernetes control plane as plain processes on 127.0.0.1.

etcd, kube-apiserver (client-cert auth, Node+RBAC authorization, service-account signing),
kube-controller-manager, kube-scheduler and kwok (fake nodes that make pods Running), all bound
to loopback on free ports, with their data under one work directory.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import json
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml

from . import build
from .pki import PKI
from .rest import ApiError, Rest


class ClusterUnavailable(RuntimeError):
    """The binaries are missing: run ``python -m harness build`` first."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.25,
             on_timeout: Callable[[], str] | None = None) -> Any:
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as e:  # noqa: BLE001 - any failure means "not yet"
            last = e
        time.sleep(interval)
    detail = on_timeout() if on_timeout else ""
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what} (last error: {last!r}){detail}")


def _die_with_parent() -> None:
    # Children of a test session must not outlive it, even if pytest itself is killed.
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def kubeconfig_yaml(server: str, ca_pem: bytes, user: dict[str, str], user_name: str) -> str:
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "ksm-py-e2e", "cluster": {
            "server": server, "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
        "users": [{"name": user_name, "user": user}],
        "contexts": [{"name": "ksm-py-e2e", "context": {"cluster": "ksm-py-e2e", "user": user_name}}],
        "current-context": "ksm-py-e2e",
    })


# The annotation every harness node carries; with ``manage_all_nodes=False`` kwok plays only the
# nodes that have it, so a test can add a Node nobody heartbeats (it stays NotReady).
KWOK_NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")


def kwok_node(name: str, index: int) -> dict[str, Any]:
    resources = {"cpu": "32", "memory": "256Gi", "pods": "250", "ephemeral-storage": "100Gi"}
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {"type": "kwok", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                       "kubernetes.io/arch": "amd64", "node-role.kubernetes.io/agent": ""},
            "annotations": {KWOK_NODE_ANNOTATION[0]: KWOK_NODE_ANNOTATION[1], "node.alpha.kubernetes.io/ttl": "0"},
        },
        # kwok assigns pod IPs from the node's podCIDR; keep them clear of the service range.
        "spec": {"podCIDR": f"10.{128 + index // 256}.{index % 256}.0/24"},
        "status": {"allocatable": resources, "capacity": resources},
    }


class ControlPlane:
    """One local cluster. ``start()`` blocks until the API is ready and the nodes are Ready."""

    def __init__(self, workdir: Path, *, nodes: int = 3, scale: bool = False, bound_to_parent: bool = True,
                 manage_all_nodes: bool = True, controllers: bool = True) -> None:
        self.workdir = workdir
        # False: no kube-controller-manager or kube-scheduler (a benchmark that plays their part,
        # or one that restarts on a populated etcd and must not let controllers touch it).
        self.controllers = controllers
        self.nodes = nodes
        self.scale = scale
        # False: kwok manages only the nodes annotated with KWOK_NODE_ANNOTATION (every node
        # add_nodes() creates), so other Nodes are left without heartbeats.
        self.manage_all_nodes = manage_all_nodes
        self.bound_to_parent = bound_to_parent
        self.pki = PKI(workdir / "pki")
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.ports: dict[str, int] = {}
        self.admin_kubeconfig = workdir / "admin.kubeconfig"
        self._rest: Rest | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        missing = [c.name for c in build.CONTROL_PLANE if not c.is_built()]
        if missing:
            raise ClusterUnavailable(f"not built: {', '.join(missing)}; run `python -m harness build`")
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "logs").mkdir(exist_ok=True)
        self.pki.create()
        for name in ("etcd", "etcd_peer", "apiserver", "scheduler"):
            self.ports[name] = free_port()
        try:
            self._start_etcd()
            self._start_apiserver()
            self._write_admin_kubeconfig()
            if self.controllers:
                self._start_controller_manager()
                self._start_scheduler()
            self._start_kwok()
            self.add_nodes(self.nodes)
            if self.controllers:
                wait_for("the default ServiceAccount (controller-manager running)",
                         lambda: self.rest.get("/api/v1/namespaces/default/serviceaccounts/default"), 90,
                         on_timeout=lambda: self._log_tail("kube-controller-manager"))
            self.save_state()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every process started here, newest first; SIGKILL whatever ignores SIGTERM."""
        for proc in reversed(list(self.processes.values())):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in reversed(list(self.processes.values())):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.processes.clear()

    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.ports['apiserver']}"

    @property
    def rest(self) -> Rest:
        if self._rest is None:
            self._rest = Rest(self.admin_kubeconfig)
        return self._rest

    def pids(self) -> dict[str, int]:
        return {name: p.pid for name, p in self.processes.items()}

    def save_state(self) -> None:
        (self.workdir / "state.json").write_text(json.dumps({
            "pids": self.pids(), "ports": self.ports, "kubeconfig": str(self.admin_kubeconfig),
            "server": self.server,
        }, indent=2))

    # -- processes ------------------------------------------------------------------------------
    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = (self.workdir / "logs" / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.workdir,
            start_new_session=True, preexec_fn=_die_with_parent if self.bound_to_parent else None,
        )
        log.close()
        self.processes[name] = proc
        return proc

    def _log_tail(self, name: str, lines: int = 30) -> str:
        path = self.workdir / "logs" / f"{name}.log"
        if not path.exists():
            return ""
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        return f"\n--- last lines of {path} ---\n" + "\n".join(tail)

    def _check_alive(self, name: str) -> bool:
        proc = self.processes[name]
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}{self._log_tail(name)}")
        return True

    def _start_etcd(self) -> None:
        client = f"http://127.0.0.1:{self.ports['etcd']}"
        peer = f"http://127.0.0.1:{self.ports['etcd_peer']}"
        self._spawn("etcd", [
            str(build.ETCD.binary()), "--name=ksm-py-e2e", f"--data-dir={self.workdir / 'etcd'}",
            f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=ksm-py-e2e={peer}", "--logger=zap", "--log-level=warn",
            "--quota-backend-bytes=8589934592", "--unsafe-no-fsync",
        ])

        def healthy() -> bool:
            self._check_alive("etcd")
            with urllib.request.urlopen(f"{client}/health", timeout=2) as r:
                return bool(json.loads(r.read()).get("health") == "true")
        wait_for("etcd /health", healthy, 30, on_timeout=lambda: self._log_tail("etcd"))

    def apiserver_argv(self) -> list[str]:
        p = self.pki.path
        argv = [
            str(build.KUBERNETES.binary("kube-apiserver")),
            f"--etcd-servers=http://127.0.0.1:{self.ports['etcd']}",
            "--bind-address=127.0.0.1", f"--secure-port={self.ports['apiserver']}",
            # Without these the apiserver derives an address from the default route (none here)
            # and the endpoint reconciler would write 127.0.0.1 into the kubernetes Service.
            "--advertise-address=127.0.0.1", "--endpoint-reconciler-type=none",
            f"--tls-cert-file={p('apiserver.crt')}", f"--tls-private-key-file={p('apiserver.key')}",
            f"--client-ca-file={p('ca.crt')}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={p('sa.pub')}", f"--service-account-signing-key-file={p('sa.key')}",
            "--authorization-mode=Node,RBAC", "--service-cluster-ip-range=10.0.0.0/24",
            "--allow-privileged=true", "--v=1",
            # Events expire after 1 h by default; keep the default but make it explicit.
            "--event-ttl=1h0m0s",
        ]
        if self.scale:
            argv += ["--max-requests-inflight=0", "--max-mutating-requests-inflight=0",
                     "--enable-priority-and-fairness=false"]
        return argv

    def _start_apiserver(self) -> None:
        self._spawn("kube-apiserver", self.apiserver_argv())
        tls = ssl.create_default_context(cafile=str(self.pki.path("ca.crt")))
        opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=tls))

        def ready() -> bool:
            self._check_alive("kube-apiserver")
            with opener.open(f"{self.server}/readyz", timeout=5) as r:
                return bool(r.read().strip() == b"ok")
        wait_for("kube-apiserver /readyz", ready, 120, interval=0.5, on_timeout=lambda: self._log_tail("kube-apiserver"))

    def restart_apiserver(self, *, hard: bool = True) -> None:
        """Kill (SIGKILL by default) and restart kube-apiserver on the same port and storage."""
        proc = self.processes.pop("kube-apiserver")
        os.killpg(proc.pid, signal.SIGKILL if hard else signal.SIGTERM)
        proc.wait()
        self._start_apiserver()
        self.save_state()

    def _write_admin_kubeconfig(self) -> None:
        user = {
            "client-certificate-data": base64.b64encode(self.pki.path("admin.crt").read_bytes()).decode(),
            "client-key-data": base64.b64encode(self.pki.path("admin.key").read_bytes()).decode(),
        }
        self.admin_kubeconfig.write_text(
            kubeconfig_yaml(self.server, self.pki.path("ca.crt").read_bytes(), user, "ksm-py-e2e-admin"))
        self.admin_kubeconfig.chmod(0o600)

    def _start_controller_manager(self) -> None:
        self._spawn("kube-controller-manager", [
            str(build.KUBERNETES.binary("kube-controller-manager")),
            f"--kubeconfig={self.admin_kubeconfig}", "--leader-elect=false", "--secure-port=0",
            f"--service-account-private-key-file={self.pki.path('sa.key')}",
            f"--root-ca-file={self.pki.path('ca.crt')}",
            "--kube-api-qps=500", "--kube-api-burst=1000", "--concurrent-replicaset-syncs=10",
            "--concurrent-deployment-syncs=10", "--v=1",
        ])

    def _start_scheduler(self) -> None:
        config = self.workdir / "kube-scheduler.yaml"
        config.write_text(yaml.safe_dump({
            "apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration",
            "clientConnection": {"kubeconfig": str(self.admin_kubeconfig), "qps": 1000, "burst": 2000},
            "leaderElection": {"leaderElect": False},
        }))
        self._spawn("kube-scheduler", [
            str(build.KUBERNETES.binary("kube-scheduler")), f"--config={config}",
            "--bind-address=127.0.0.1", f"--secure-port={self.ports['scheduler']}", "--v=1",
        ])

    def _start_kwok(self) -> None:
        # Standalone kwok applies no defaults to its options (kwokctl does), so set them here;
        # the stage documents come from the kwok module (assembled at build time).
        stages = [d for d in yaml.safe_load_all((build.KWOK.home / "kwok.yaml").read_text())
                  if d and d.get("kind") == "Stage"]
        options = {
            "podPlayStageParallelism": 8 if self.scale else 4, "nodePlayStageParallelism": 4,
            "nodeLeaseParallelism": 4, "podsOnNodeSyncParallelism": 1, "nodeLeaseDurationSeconds": 40,
            "enablePodsOnNodeSyncListPager": True, "enablePodsOnNodeSyncStreamWatch": False,
            "enableDebuggingHandlers": False, "enableContentionProfiling": False, "enableProfilingHandler": False,
        }
        config = self.workdir / "kwok.yaml"
        config.write_text(yaml.safe_dump_all([
            {"apiVersion": "config.kwok.x-k8s.io/v1alpha1", "kind": "KwokConfiguration", "options": options},
            *stages]))
        self._spawn("kwok", [
            str(build.KWOK.binary()), f"--kubeconfig={self.admin_kubeconfig}",
            f"--config={config}",
            "--manage-all-nodes=true" if self.manage_all_nodes
            else "--manage-nodes-with-annotation-selector={}={}".format(*KWOK_NODE_ANNOTATION),
            "--node-ip=10.255.0.1", "--node-lease-duration-seconds=40",
        ])

    def add_nodes(self, count: int, *, start: int = 0, wait: bool = True) -> list[str]:
        names = [f"kwok-node-{i}" for i in range(start, start + count)]
        for i, name in enumerate(names, start):
            self.rest.apply(kwok_node(name, i))
        if wait:
            def all_ready() -> bool:
                self._check_alive("kwok")
                items = self.rest.get("/api/v1/nodes?labelSelector=type%3Dkwok")["items"]
                ready = {n["metadata"]["name"] for n in items
                         if any(c["type"] == "Ready" and c["status"] == "True"
                                for c in n.get("status", {}).get("conditions", []))}
                return set(names) <= ready
            wait_for(f"{count} kwok nodes Ready", all_ready, 60 + count / 10, on_timeout=lambda: self._log_tail("kwok"))
        return names

    # -- identities -----------------------------------------------------------------------------
    def restricted_kubeconfig(self, cluster_role: Path, *, name: str = "ksm-py", namespace: str = "kube-system",
                              path: Path | None = None) -> Path:
        return restricted_kubeconfig(self.rest, self.admin_kubeconfig, cluster_role, name=name,
                                     namespace=namespace, path=path or self.workdir / f"{name}.kubeconfig")

    # -- storage --------------------------------------------------------------------------------
    def compact_etcd(self) -> int:
        """Compact etcd up to its current revision so older resourceVersions answer 410 Gone.

        Like kube-apiserver's own compactor, the revision is also written to ``compact_rev_key``:
        the apiserver watches that key and drops its watch-cache list snapshots older than the
        revision within ~15 s, so continue tokens issued before then expire too (410) without
        a restart. A watch from an old resourceVersion needs an apiserver restart as well (its
        watch cache keeps the event history)."""
        base = f"http://127.0.0.1:{self.ports['etcd']}"

        def post(path: str, body: dict[str, Any]) -> Any:
            req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST")
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.loads(r.read())
        revision = int(post("/v3/maintenance/status", {})["header"]["revision"])
        post("/v3/kv/put", {"key": base64.b64encode(b"compact_rev_key").decode(),
                            "value": base64.b64encode(str(revision).encode()).decode()})
        post("/v3/kv/compaction", {"revision": revision, "physical": True})
        return revision


def restricted_kubeconfig(rest: Rest, admin_kubeconfig: Path, cluster_role: Path, *, name: str, namespace: str,
                          path: Path) -> Path:
    """A ServiceAccount bound only to the ClusterRole in ``cluster_role``, with a TokenRequest token."""
    roles = [d for d in yaml.safe_load_all(cluster_role.read_text()) if d and d.get("kind") == "ClusterRole"]
    if len(roles) != 1:
        raise ValueError(f"{cluster_role} must hold exactly one ClusterRole, found {len(roles)}")
    role = roles[0]
    rest.apply(role)
    rest.apply({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace}})
    rest.apply({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": f"{name}-e2e"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role["metadata"]["name"]},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
    })
    return service_account_kubeconfig(rest, admin_kubeconfig, name=name, namespace=namespace, path=path)


def service_account_kubeconfig(rest: Rest, admin_kubeconfig: Path, *, name: str, namespace: str,
                               path: Path) -> Path:
    """A kubeconfig for an existing ServiceAccount, with a TokenRequest token (what its pods would mount)."""
    token = rest.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token", {
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
        "spec": {"expirationSeconds": 86400},
    })["status"]["token"]
    admin = yaml.safe_load(admin_kubeconfig.read_text())
    cluster = admin["clusters"][0]["cluster"]
    path.write_text(kubeconfig_yaml(cluster["server"], base64.b64decode(cluster["certificate-authority-data"]),
                                    {"token": token}, f"system:serviceaccount:{namespace}:{name}"))
    path.chmod(0o600)
    return path


def listening_sockets(pids: list[int]) -> list[tuple[int, str, int]]:
    """(pid, address, port) of every TCP socket in LISTEN state owned by the given processes."""
    inodes: dict[str, int] = {}
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, PermissionError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(FileNotFoundError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith("socket:["):
                        inodes[target[8:-1]] = pid
    found = []
    for table, v6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
        with contextlib.suppress(FileNotFoundError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state != "0A" or inode not in inodes:
                    continue
                addr_hex, port_hex = local.split(":")
                found.append((inodes[inode], _decode_addr(addr_hex, v6), int(port_hex, 16)))
    return found


def _decode_addr(hex_addr: str, v6: bool) -> str:
    raw = bytes.fromhex(hex_addr)
    # /proc/net/tcp* stores each 32-bit word in host (little-endian) order.
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return socket.inet_ntop(socket.AF_INET6 if v6 else socket.AF_INET, words)


def process_tree(root_pids: list[int]) -> Iterator[int]:
    """The given pids and all their live descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError, IndexError):
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
    stack = list(root_pids)
    while stack:
        pid = stack.pop()
        if Path(f"/proc/{pid}").exists():
            yield pid
        stack.extend(children.get(pid, []))


def api_error_status(exc: BaseException) -> int | None:
    return exc.status if isinstance(exc, ApiError) else getattr(exc, "status", None)
