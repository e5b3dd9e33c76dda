"""``--auth-filter`` on the local control plane.

Upstream's ``tests/e2e/auth-filter_test.go`` (``TestAuthFilter``) starts kube-state-metrics inside
its own test process, so its binary cannot exercise another exporter; its scenario is replayed here
against ksm-py with the same objects (``testdata/metrics-reader_role*.yaml``), requests and
expectations. Then: ksm-py's refusals compared with the real upstream binary's, byte for byte; an
identity without the binding; a binding revoked while ksm-py runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.controlplane import wait_for
from tests.conftest import CLUSTER_ROLE, Process, http_get
from tests.e2e._exporter import Exporter, ksm_py, upstream

AUTH_ROLE = CLUSTER_ROLE.parent.parent / "components" / "auth-filter" / "cluster-role.yaml"
# upstream tests/e2e/testdata/metrics-reader_role.yaml and metrics-reader_rolebinding.yaml
METRICS_READER = {
    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "metrics-reader"},
    "rules": [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}],
}


def binding(name: str, sa: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "metrics-reader"},
        "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": namespace}],
    }


def token(cluster: Any, name: str, namespace: str) -> str:
    """``kubectl create token``: a TokenRequest for the ServiceAccount (created if missing)."""
    cluster.rest.apply({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace}})
    return str(cluster.rest.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token", {
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600},
    })["status"]["token"])


@pytest.fixture(scope="module")
def exporter_kubeconfig(cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The exporter's identity: deploy/'s list/watch ClusterRole plus the auth-filter component's
    (create TokenReviews and SubjectAccessReviews), as one ClusterRole."""
    (base,) = [d for d in yaml.safe_load_all(CLUSTER_ROLE.read_text()) if d]
    (auth,) = [d for d in yaml.safe_load_all(AUTH_ROLE.read_text()) if d]
    role = {**base, "metadata": {"name": "ksm-py-auth-filter-e2e"}, "rules": base["rules"] + auth["rules"]}
    path = tmp_path_factory.mktemp("auth") / "role.yaml"
    path.write_text(yaml.safe_dump(role))
    return cluster.restricted_kubeconfig(path, name="ksm-py-auth-filter")  # type: ignore[no-any-return]


def get(port: int, token_: str | None = None, path: str = "/metrics") -> tuple[int, dict[str, str], bytes]:
    headers = {"Authorization": f"Bearer {token_}"} if token_ is not None else {}
    return http_get(f"http://127.0.0.1:{port}{path}", headers, timeout=30)


def poll(what: str, check: Callable[[], bool], proc: Process, timeout: float = 20) -> None:
    wait_for(what, check, timeout, interval=1, on_timeout=lambda: "\n" + proc.tail())


def test_upstream_auth_filter_scenario(cluster: Any, exporter_kubeconfig: Path, spawn: Any) -> None:
    """TestAuthFilter: the scraper's token reads both ports, no token reads ``Unauthorized\\n``."""
    cluster.rest.apply(METRICS_READER)
    rb = cluster.rest.apply(binding("metrics-reader-rolebinding", "kube-state-metrics", "kube-system"))
    try:
        exp = ksm_py(spawn, exporter_kubeconfig, "--auth-filter")
        scraper = token(cluster, "kube-state-metrics", "kube-system")

        def main_port() -> bool:
            status, _, body = get(exp.port, scraper)
            if status != 200 or b"kube_configmap_info" not in body:
                return False
            return get(exp.port) == (401, get(exp.port)[1], b"Unauthorized\n")
        poll("metrics with the bearer token, Unauthorized without", main_port, exp.proc)

        # Upstream's auth-filter_test.go looks for kube_state_metrics_build_info on the telemetry port.
        def telemetry_port() -> bool:
            status, _, body = get(exp.tport, scraper)
            return (status == 200 and b"\nkube_state_metrics_build_info{" in body
                    and get(exp.tport)[2] == b"Unauthorized\n")
        poll("telemetry with the bearer token, Unauthorized without", telemetry_port, exp.proc)

        # Probes and the landing pages stay open, as upstream's.
        assert get(exp.port, path="/healthz")[0] == 200 and get(exp.tport, path="/readyz")[0] in (200, 503)
    finally:
        cluster.rest.delete(rb)
        cluster.rest.delete(METRICS_READER)


def answer(exp: Exporter, port: int, token_: str | None) -> tuple[int, str, str, bytes]:
    status, headers, body = get(port, token_)
    lower = {k.lower(): v for k, v in headers.items()}
    return status, lower.get("content-type", ""), lower.get("x-content-type-options", ""), body


def test_refusals_match_upstream_and_denied_identity(cluster: Any, exporter_kubeconfig: Path, spawn: Any) -> None:
    """No token, a token the API server rejects, and a valid identity without the metrics-reader
    binding: ksm-py answers exactly what kube-state-metrics answers, on both ports."""
    cluster.rest.apply(METRICS_READER)
    rb = cluster.rest.apply(binding("ksm-py-e2e-metrics-reader", "scraper", "default"))
    try:
        flags = ("--auth-filter", "--resources=configmaps")
        ours, theirs = ksm_py(spawn, exporter_kubeconfig, *flags), upstream(spawn, exporter_kubeconfig, *flags)
        allowed, denied = token(cluster, "scraper", "default"), token(cluster, "not-a-scraper", "default")
        forged = allowed[:-4] + ("AAAA" if not allowed.endswith("AAAA") else "BBBB")
        for port_of in (lambda e: e.port, lambda e: e.tport):
            for who, tok in (("no token", None), ("forged token", forged), ("denied", denied)):
                got, want = answer(ours, port_of(ours), tok), answer(theirs, port_of(theirs), tok)
                assert got == want, f"{who}: ksm-py {got} != kube-state-metrics {want}"
            assert answer(ours, port_of(ours), None)[0] == 401
            assert answer(ours, port_of(ours), forged)[:1] + answer(ours, port_of(ours), forged)[3:] == (
                500, b"Authentication failed\n")
            assert answer(ours, port_of(ours), denied)[0] == 403
            assert answer(ours, port_of(ours), denied)[3] == (
                b"Authorization denied for user system:serviceaccount:default:not-a-scraper\n")
            assert answer(ours, port_of(ours), allowed)[0] == 200
    finally:
        cluster.rest.delete(rb)


def test_revoked_binding_is_refused_once_the_cached_decision_expires(cluster: Any, exporter_kubeconfig: Path,
                                                                    spawn: Any) -> None:
    """Allowed decisions are cached (upstream: 5 minutes; 3 s here through a test-only setting):
    deleting the binding refuses the scraper once the cache entry expires, and a new binding
    lets it back in."""
    ttl = 3.0
    cluster.rest.apply(METRICS_READER)
    rb = binding("ksm-py-e2e-revoked", "revoked-scraper", "default")
    cluster.rest.apply(rb)
    try:
        exp = ksm_py(spawn, exporter_kubeconfig, "--auth-filter", "--resources=configmaps,topology",
                     env={"KSM_PY_AUTH_ALLOW_TTL": str(ttl), "KSM_PY_AUTH_DENY_TTL": str(ttl)})
        scraper = token(cluster, "revoked-scraper", "default")
        poll("scraper allowed", lambda: get(exp.port, scraper)[0] == 200, exp.proc)
        # ksm-py's own routes are guarded too, each path asked for by itself: the upstream
        # metrics-reader role grants /metrics only.
        for path in ("/topology", "/topology/ui", "/topology/ui/graph"):
            assert get(exp.port, None, path)[:3:2] == (401, b"Unauthorized\n"), path
            status, _, body = get(exp.port, scraper, path)
            assert (status, body) == (403, b"Authorization denied for user "
                                           b"system:serviceaccount:default:revoked-scraper\n"), path
        cluster.rest.delete(rb)
        revoked = time.monotonic()
        poll("scraper refused after the binding is deleted", lambda: get(exp.port, scraper)[0] == 403, exp.proc,
             timeout=ttl + 15)
        # Not before the cached decision expired (the RBAC authorizer's cache may take longer, never less).
        assert time.monotonic() - revoked >= ttl - 0.5
        cluster.rest.apply(rb)
        poll("scraper allowed again", lambda: get(exp.port, scraper)[0] == 200, exp.proc, timeout=ttl + 15)
    finally:
        cluster.rest.delete(rb)
