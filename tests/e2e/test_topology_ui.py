"""``/topology/ui`` in a real browser: Debian's chromium, headless, driven by selenium through
chromium-driver, against ksm-py on the local control plane with the demo workloads, behind
``--tls-config`` (HTTPS and basic auth).

Screenshots go to ``$KSM_PY_ARTIFACTS/topology-ui/`` (else the test's tmp dir): one per view,
action and check, to look at.
"""

from __future__ import annotations

import base64
import os
import shutil
import ssl
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import bcrypt
import pytest
import yaml

from harness.controlplane import wait_for
from tests.conftest import ROOT, Objects, Process, free_port, http_get, ksm_py_argv
from tests.e2e.test_tls import _cert, _key, _write

pytestmark = pytest.mark.e2e

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
USER, PASSWORD = "sre", "topology-pa55"
# A hostPath path is free text to the API server: the one place a hostile string reaches a name.
XSS = "/srv/\"><img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script>&amp;"


def _unavailable(reason: str) -> None:
    if os.environ.get("KSM_PY_REQUIRE_E2E"):
        pytest.fail(f"browser test required (KSM_PY_REQUIRE_E2E is set) but unavailable: {reason}")
    pytest.skip(reason)


@pytest.fixture
def artefacts(tmp_path: Path) -> Path:
    base = os.environ.get("KSM_PY_ARTIFACTS")
    d = Path(base) / "topology-ui" if base else tmp_path / "screenshots"
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(path, os.X_OK):
            _unavailable(f"{path} missing: apt-get install {package}")
    if shutil.which("dot") is None:
        _unavailable("Graphviz dot missing: apt-get install graphviz")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,900",
                "--ignore-certificate-errors", f"--user-data-dir={tmp_path / 'chromium'}", "--no-first-run",
                "--disable-extensions", "--disable-background-networking"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log")),
                              options=options)
    driver.set_page_load_timeout(30)
    # Basic auth on every request, as a browser does once the user has typed the password.
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Basic {token}"}})
    try:
        yield driver
    finally:
        driver.quit()


# -- the cluster side -----------------------------------------------------------------------
def demo_workloads(objects: Objects, rest: Any) -> None:
    """harness/demo-workloads.yaml in the test's namespace, plus a Deployment whose pods
    need a ConfigMap nobody created and a pod with a hostile hostPath."""
    ns = objects.namespace
    for doc in yaml.safe_load_all((ROOT / "harness/demo-workloads.yaml").read_text()):
        if doc["kind"] == "Namespace":
            rest.request("PATCH", f"/api/v1/namespaces/{ns}", {"metadata": {"labels": doc["metadata"]["labels"]}},
                         content_type="application/merge-patch+json")
            continue
        doc["metadata"]["namespace"] = ns
        objects.create(doc)
    labels = {"app": "legacy"}
    objects.create({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "legacy", "labels": labels},
                    "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
                        "metadata": {"labels": labels}, "spec": {"containers": [{
                            "name": "app", "image": "registry.example/legacy:1",
                            "envFrom": [{"configMapRef": {"name": "legacy-settings"}}]}]}}}})
    # A ReplicationController: the kube-controller-manager creates its pod.
    rc = {"app": "legacy-rc"}
    objects.create({"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "legacy-rc"},
                    "spec": {"replicas": 1, "selector": rc, "template": {"metadata": {"labels": rc}, "spec": {
                        "containers": [{"name": "app", "image": "registry.example/legacy-rc:1"}]}}}})
    node = sorted(n["metadata"]["name"] for n in rest.get("/api/v1/nodes")["items"])[0]
    objects.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "probe"}, "spec": {
        "nodeName": node, "volumes": [{"name": "host", "hostPath": {"path": XSS}}],
        "containers": [{"name": "app", "image": "registry.example/probe:1",
                        "volumeMounts": [{"name": "host", "mountPath": "/host"}]}]}})


def start_ksm_py(spawn: Callable[..., Process], kubeconfig: Path, tmp_path: Path) -> tuple[str, ssl.SSLContext]:
    key = _key()
    cert = _cert("localhost", key, server=True)
    web = {"tls_server_config": {"cert_file": str(_write(tmp_path / "tls.crt", cert)),
                                 "key_file": str(_write(tmp_path / "tls.key", key=key))},
           "basic_auth_users": {USER: bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()}}
    (tmp_path / "web.yaml").write_text(yaml.safe_dump(web))
    port, tport = free_port(), free_port()
    # Topology explicitly: it is a --resources key (its own watches, whatever else is enabled).
    proc = spawn([*ksm_py_argv(), f"--kubeconfig={kubeconfig}", "--resources=deployments,topology",
                  "--host=127.0.0.1", f"--port={port}", "--telemetry-host=127.0.0.1", f"--telemetry-port={tport}",
                  f"--tls-config={tmp_path / 'web.yaml'}"], name="ksm-py")
    ctx = ssl.create_default_context(cafile=str(tmp_path / "tls.crt"))
    base = f"https://localhost:{port}"
    auth = {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}

    def up() -> bool:
        if proc.proc.poll() is not None:
            raise RuntimeError(f"ksm-py exited:\n{proc.tail()}")
        try:
            return _get(f"{base}/healthz", ctx, auth)[0] == 200
        except OSError:
            return False
    wait_for("ksm-py over https", up, 60, on_timeout=lambda: "\n" + proc.tail())
    return base, ctx


def _get(url: str, ctx: ssl.SSLContext, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), context=ctx, timeout=20) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


# -- reading the page -------------------------------------------------------------------------
class Page:
    def __init__(self, driver: Any, base: str, ns: str, artefacts: Path) -> None:
        self.d = driver
        self.base = base
        self.ns = ns
        self.artefacts = artefacts

    def open(self, **state: str) -> None:
        self.d.get(f"{self.base}/topology/ui#{urllib.parse.urlencode(state)}")
        self.d.execute_script("window.__sameDocument = true;")

    def drawn(self) -> set[str]:
        return set(self.d.execute_script(
            "return Array.from(document.querySelectorAll('#graph g[data-key]')).map(g => g.dataset.key)"))

    def title(self) -> str:
        return str(self.d.execute_script("return document.getElementById('title').textContent"))

    def shown(self) -> str:
        return str(self.d.execute_script("return document.body.dataset.shown || ''"))

    def wait(self, what: str, check: Callable[[set[str]], bool], shown: str, timeout: float = 60) -> set[str]:
        """Until the page shows ``shown`` (``<view> <namespace>`` or ``<action> <root> <depth>``)
        and ``check`` holds for what is drawn."""
        wait_for(what, lambda: self.shown() == shown and check(self.drawn()), timeout, interval=0.3,
                 on_timeout=lambda: f"\nshown {self.shown()!r}\ntitle {self.title()!r}\ndrawn {sorted(self.drawn())}")
        return self.drawn()

    def k(self, type_: str, name: str, namespace: str | None = None) -> str:
        return f"{type_}/{self.ns if namespace is None else namespace}/{name}"

    def click_node(self, key: str) -> None:
        # By value, not in a selector: a key may hold quotes.
        node = self.d.execute_script("return Array.from(document.querySelectorAll('#graph g[data-key]'))"
                                     ".find(g => g.dataset.key === arguments[0])", key)
        assert node is not None, key
        node.click()

    def click(self, css: str) -> None:
        from selenium.webdriver.common.by import By

        self.d.find_element(By.CSS_SELECTOR, css).click()

    def text(self, element_id: str) -> str:
        return str(self.d.execute_script(f"return document.getElementById('{element_id}').textContent"))

    def shot(self, name: str) -> Path:
        path = self.artefacts / f"{name}.png"
        self.d.save_screenshot(str(path))
        return path

    def same_document(self) -> bool:
        return bool(self.d.execute_script("return window.__sameDocument === true"))


def _of(keys: set[str], type_: str) -> set[str]:
    return {k for k in keys if k.split("/", 1)[0] == type_}


def test_explorer_views_actions_live_updates_and_hostile_names(
        cluster: Any, objects: Objects, restricted_kubeconfig_path: Path, spawn: Any, browser: Any,
        tmp_path: Path, artefacts: Path) -> None:
    demo_workloads(objects, cluster.rest)
    objects.wait("the demo pods running", lambda: len([
        p for p in objects.list("v1", "Pod") if p["status"].get("phase") == "Running"]) >= 7, timeout=120)
    # The Job "migrate" ran to completion (kwok finishes its pod; the Job controller marks it Complete).
    def finished(label: str, phase: str) -> str:
        return next((p["metadata"]["name"] for p in objects.list("v1", "Pod", label_selector=label)
                     if p["status"].get("phase") == phase), "")
    migrate_pod = objects.wait("the migrate Job's pod Succeeded", lambda: finished("job-name=migrate", "Succeeded"),
                               timeout=120)
    rc_pod = objects.wait("the ReplicationController's pod running", lambda: finished("app=legacy-rc", "Running"),
                          timeout=120)
    base, ctx = start_ksm_py(spawn, restricted_kubeconfig_path, tmp_path)
    ns = objects.namespace
    page = Page(browser, base, ns, artefacts)

    # Same protection as /metrics: nothing without the password.
    for path in ("/topology/ui", "/topology/ui/graph?view=all", "/topology/ui/explorer.js", "/topology"):
        assert _get(base + path, ctx)[0] == 401, path
    auth = {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}
    assert "<a href='/topology/ui'>topology explorer</a>" in _get(base + "/", ctx, auth)[1].decode()

    # -- Applications: the Service and the pods and containers behind it, no controllers.
    page.open(namespace=ns)
    drawn = page.wait("applications", lambda d: len(_of(d, "pod")) >= 7 and page.k("service", "web") in d,
                      f"applications {ns}")
    web_pods = {k for k in _of(drawn, "pod") if k.split("/")[2].startswith("web-")}
    assert len(web_pods) == 3
    assert {f"container/{ns}/{p.split('/')[2]}/{c}" for p in web_pods for c in ("web", "sidecar")} <= drawn
    assert not _of(drawn, "deployment") | _of(drawn, "node")
    page.shot("view-applications")

    # -- Infrastructure: the pods on their nodes, no services or containers.
    page.click('#views button[data-view="infrastructure"]')
    drawn = page.wait("infrastructure", lambda d: bool(_of(d, "node")) and not _of(d, "service"),
                      f"infrastructure {ns}")
    assert web_pods <= drawn and not _of(drawn, "container")
    assert all(k.split("/")[1] == "" for k in _of(drawn, "node"))
    page.shot("view-infrastructure")

    # -- Namespaces: the namespace and what it encloses.
    page.click('#views button[data-view="namespaces"]')
    drawn = page.wait("namespaces", lambda d: page.k("namespace", ns, ns) in d, f"namespaces {ns}")
    assert {page.k("deployment", "web"), page.k("deployment", "legacy"), page.k("statefulset", "db"),
            page.k("cronjob", "report"), page.k("job", "migrate"), page.k("service", "web"),
            page.k("pod", "probe")} <= drawn
    assert not _of(drawn, "replicaset") and not web_pods & drawn
    page.click_node(page.k("namespace", ns, ns))
    tags = page.text("d-tags")
    assert "team=platform" in tags and "kubernetes.io/metadata.name=" + ns in tags
    page.shot("view-namespaces")

    # Its actions.
    page.click('#d-actions button[data-action="workloads"]')
    drawn = page.wait("show workloads", lambda d: page.k("statefulset", "db") in d and bool(_of(d, "replicaset")),
                      f"workloads namespace/{ns}/{ns} 6")
    assert not _of(drawn, "pod") and not _of(drawn, "service")
    assert {page.k("deployment", "web"), page.k("cronjob", "report"), page.k("job", "migrate")} <= drawn
    assert page.same_document()
    page.click("#back")
    page.wait("namespaces again", lambda d: page.k("namespace", ns, ns) in d, f"namespaces {ns}")
    page.click_node(page.k("namespace", ns, ns))
    page.click('#d-actions button[data-action="pods-services"]')
    drawn = page.wait("show pods & services", lambda d: page.k("service", "web") in d and web_pods <= d,
                      f"pods-services namespace/{ns}/{ns} 6")
    # The legacy pods' missing ConfigMap is drawn with them.
    assert _of(drawn, "pod") | _of(drawn, "service") == drawn - {page.k("configmap", "legacy-settings")}
    page.shot("action-pods-and-services")
    page.open(namespace=ns, view="namespaces", action="services", root=page.k("namespace", ns, ns))
    drawn = page.wait("show services", lambda d: page.k("service", "web") in d, f"services namespace/{ns}/{ns} 6")
    assert drawn == {page.k("service", "web")}

    # -- Workload Controllers, and a Deployment's actions.
    page.open(namespace=ns, view="workloads")
    drawn = page.wait("workloads", lambda d: page.k("deployment", "web") in d and web_pods <= d, f"workloads {ns}")
    assert {page.k("statefulset", "db"), page.k("pod", "db-0"), page.k("pod", "db-1"), page.k("job", "migrate"),
            page.k("cronjob", "report")} <= drawn
    assert len(_of(drawn, "replicaset")) >= 2 and not _of(drawn, "service")
    page.shot("view-workload-controllers")
    # The finished Job's pod and the ReplicationController's pod are drawn connected to their controllers.
    for pod_key, controller in ((page.k("pod", migrate_pod), f"job {ns}/migrate"),
                                (page.k("pod", rc_pod), f"replicationcontroller {ns}/legacy-rc")):
        assert pod_key in drawn
        page.click_node(pod_key)
        assert f"\u2190controls\u2014 {controller}" in page.text("d-relations"), page.text("d-relations")
    page.click_node(page.k("replicationcontroller", "legacy-rc"))
    assert page.text("d-actions") == "Show dependencies (deep)Show pods"
    page.click('#d-actions button[data-action="pods"]')
    drawn = page.wait("show pods of the ReplicationController", lambda d: page.k("pod", rc_pod) in d,
                      f"pods {page.k('replicationcontroller', 'legacy-rc')} 6")
    assert drawn == {page.k("replicationcontroller", "legacy-rc"), page.k("pod", rc_pod)}
    page.open(namespace=ns, view="workloads", action="pods", root=page.k("job", "migrate"))
    drawn = page.wait("show pods of the finished Job", lambda d: page.k("pod", migrate_pod) in d,
                      f"pods {page.k('job', 'migrate')} 6")
    assert drawn == {page.k("job", "migrate"), page.k("pod", migrate_pod)}
    page.shot("action-pods-of-a-finished-job")
    page.open(namespace=ns, view="workloads")
    page.wait("workloads again", lambda d: page.k("deployment", "web") in d, f"workloads {ns}")
    page.click_node(page.k("deployment", "web"))
    assert "app.kubernetes.io/name=web" in page.text("d-tags")
    assert page.text("d-actions") == "Show dependencies (deep)Show pods"
    page.shot("view-workload-controllers-selected")
    page.click('#d-actions button[data-action="pods"]')
    drawn = page.wait("show pods", lambda d: web_pods <= d and page.k("deployment", "web") in d,
                      f"pods {page.k('deployment', 'web')} 6")
    assert drawn - web_pods == {page.k("deployment", "web")} | _of(drawn, "replicaset")
    page.click("#back")
    page.wait("workloads again", lambda d: page.k("statefulset", "db") in d, f"workloads {ns}")
    page.click_node(page.k("deployment", "web"))
    page.click('#d-actions button[data-action="deps"]')
    drawn = page.wait("show dependencies", lambda d: page.k("configmap", "web-config") in d,
                      f"deps {page.k('deployment', 'web')} 6")
    assert web_pods <= drawn and _of(drawn, "node") and _of(drawn, "container") and _of(drawn, "cluster")
    page.shot("action-dependencies-deep")
    from selenium.webdriver.support.ui import Select
    Select(browser.find_element("id", "depth")).select_by_value("2")
    drawn = page.wait("dependencies, 2 levels", lambda d: not _of(d, "container"),
                      f"deps {page.k('deployment', 'web')} 2")
    assert drawn == {page.k("deployment", "web")} | _of(drawn, "replicaset") | web_pods

    # A pod's configuration and storage.
    web_pod = sorted(web_pods)[0]
    page.open(namespace=ns, view="workloads", action="config", root=web_pod)
    drawn = page.wait("configuration and storage", lambda d: page.k("configmap", "web-config") in d,
                      f"config {web_pod} 6")
    pod_name = web_pod.split("/")[2]
    # Its containers, the ConfigMap of its envFrom, and the service account token's projected
    # volume with the ConfigMap it projects.
    (token,) = [k for k in _of(drawn, "volume") if k.startswith(f"volume/{ns}/{pod_name}/kube-api-access-")]
    assert drawn == {web_pod, page.k("configmap", "web-config"), token, page.k("configmap", "kube-root-ca.crt")} | {
        f"container/{ns}/{pod_name}/{c}" for c in ("web", "sidecar")}

    # -- A dangling reference: drawn as a missing target and listed.
    page.open(namespace=ns)
    missing = page.k("configmap", "legacy-settings")
    page.wait("the missing ConfigMap", lambda d: missing in d, f"applications {ns}")
    cls = browser.execute_script("return Array.from(document.querySelectorAll('#graph g[data-key]'))"
                                 ".find(g => g.dataset.key === arguments[0]).getAttribute('class')", missing)
    assert "missing" in cls
    listed = browser.execute_script("return Array.from(document.querySelectorAll('#dangling li'))"
                                    ".map(li => [li.dataset.source, li.dataset.target])")
    assert [s for s, t in listed if t == missing] and all(s.startswith(f"pod/{ns}/legacy-") for s, t in listed
                                                           if t == missing)
    page.click_node(missing)
    assert page.d.find_element("id", "d-missing").is_displayed()
    page.shot("dangling-configmap")

    # -- Too many components for the limit: counts per type and namespace instead of a drawing.
    page.open(view="workloads", limit="5")

    def rows() -> list[list[str]]:
        return list(browser.execute_script(
            "return Array.from(document.querySelectorAll('#summary tr'))"
            ".map(tr => Array.from(tr.children).map(td => td.textContent))"))
    page.wait("collapsed", lambda d: not d and any(r[0] == ns for r in rows()), "workloads ")
    header, *counted = rows()
    mine = dict(zip(header, next(r for r in counted if r[0] == ns), strict=True))
    assert (mine["deployment"], mine["statefulset"], mine["cronjob"]) == ("2", "1", "1")
    assert int(mine["pod"]) >= 7 and int(mine["replicaset"]) >= 2  # web 3, db 2, legacy, probe; job pods vary
    assert "too many to draw" in page.text("message")
    assert {"deployment", "replicaset", "pod"} <= {t.split("\n")[0] for t in browser.execute_script(
        "return Array.from(document.querySelectorAll('#graph text')).map(t => t.textContent)")}
    page.shot("view-collapsed-into-counts")
    page.click(f'#summary tbody tr:nth-child({[r[0] for r in counted].index(ns) + 1})')
    page.wait("collapsed, one namespace", lambda d: [r[0] for r in rows()[1:]] == [ns], f"workloads {ns}")

    # -- The page follows the cluster: a deleted Deployment disappears without a reload.
    page.open(namespace=ns, view="workloads")
    page.wait("legacy drawn", lambda d: page.k("deployment", "legacy") in d, f"workloads {ns}")
    objects.delete("apps/v1", "Deployment", "legacy")
    page.wait("legacy gone", lambda d: page.k("deployment", "legacy") not in d and page.k("deployment", "web") in d,
              f"workloads {ns}")
    assert page.same_document()
    page.shot("deployment-deleted")

    # -- The XSS probe stays text.
    page.open(namespace=ns, view="workloads", action="config", root=page.k("pod", "probe"))
    drawn = page.wait("the probe's hostPath", lambda d: any(k.startswith("volume//hostpath/") for k in d),
                      f"config {page.k('pod', 'probe')} 6")
    (volume,) = [k for k in drawn if k.startswith("volume//hostpath/")]  # node-level: shared, cluster-scoped
    assert volume.split("/", 2)[2].endswith(XSS.lstrip("/"))
    page.click_node(volume)
    assert page.text("d-name").endswith(XSS.lstrip("/"))
    # Drawn as text (names past 48 characters are cut in the drawing, whole in the details).
    texts = browser.execute_script("return Array.from(document.querySelectorAll('#graph text')).map(t => t.textContent)")
    assert [t for t in texts if t.startswith("hostpath/") and '/srv/"><img src=x onerror' in t], texts
    assert browser.execute_script("return window.__xss") is None
    assert browser.execute_script("return document.querySelectorAll('img, #graph script, aside script').length") == 0
    page.shot("xss-probe")
    severe = [e["message"] for e in browser.get_log("browser")
              if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]]
    assert not severe, severe


def test_explorer_page_is_listed_only_with_topology(cluster: Any, restricted_kubeconfig_path: Path,
                                                    spawn: Any) -> None:
    from tests.e2e._exporter import ksm_py

    exp = ksm_py(spawn, restricted_kubeconfig_path, "--resources=namespaces")
    assert http_get(f"http://127.0.0.1:{exp.port}/topology/ui")[0] == 404
    assert b"topology" not in http_get(f"http://127.0.0.1:{exp.port}/")[2]
