"""Build the real control-plane binaries and upstream kube-state-metrics from the Go module proxy.

Every component is built once per pinned version into ``<cache>/<component>-<version>/bin``
(``<cache>`` is ``$KSM_PY_CACHE`` or ``~/.cache/ksm-py``); a stamp file records the recipe, so a
warm cache costs a few ``stat`` calls.  Nothing is written into the repository.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from . import versions

GO_ENV = {
    "GOWORK": "off",
    "GOFLAGS": "-mod=mod",
    "CGO_ENABLED": "0",
    # Never let the go command download another toolchain: only the module proxy is reachable.
    "GOTOOLCHAIN": "local",
}


def cache_root() -> Path:
    return Path(os.environ.get("KSM_PY_CACHE") or Path.home() / ".cache" / "ksm-py")


# Bump when a recipe changes in a way that needs a rebuild of already cached versions.
RECIPE_REVISION = 1


class BuildError(RuntimeError):
    pass


@dataclasses.dataclass(frozen=True)
class Component:
    name: str
    version: str
    binaries: tuple[str, ...]
    recipe: Callable[[Component, Path], None]
    extra_files: tuple[str, ...] = ()
    # Bumped for one component whose recipe changed (RECIPE_REVISION rebuilds them all).
    revision: int = 0

    @property
    def home(self) -> Path:
        return cache_root() / f"{self.name}-{self.version}"

    @property
    def bin_dir(self) -> Path:
        return self.home / "bin"

    def binary(self, name: str | None = None) -> Path:
        return self.bin_dir / (name or self.binaries[0])

    def stamp_value(self) -> str:
        own = f".{self.revision}" if self.revision else ""
        return f"{self.name} {self.version} recipe-{RECIPE_REVISION}{own}"

    def is_built(self) -> bool:
        stamp = self.home / "BUILT"
        if not stamp.is_file() or stamp.read_text().strip() != self.stamp_value():
            return False
        wanted = [self.bin_dir / b for b in self.binaries] + [self.home / f for f in self.extra_files]
        return all(p.is_file() for p in wanted)


def _go(args: list[str], *, cwd: Path, label: str, log: Path, extra_env: dict[str, str] | None = None) -> None:
    """Run a go command, streaming a progress line at most every 15 s (``-v`` package count)."""
    _run_streamed(["go", *args], label=label, log=log, cwd=cwd, env={**GO_ENV, **(extra_env or {})},
                  unit="packages", counts=lambda line: not line.startswith(("go: ", "#")),
                  failed=f"go {' '.join(args[:2])} ...")


def _module_dir(name: str) -> Path:
    d = cache_root() / "src" / name
    d.mkdir(parents=True, exist_ok=True)
    return d


def _staging_modules(k8s_version: str, workdir: Path, log: Path) -> list[str]:
    """Read the staging modules from the release's own go.mod (they are pinned at v0.0.0 there)."""
    env = {**os.environ, **GO_ENV}
    out = subprocess.run(
        ["go", "mod", "download", "-json", f"k8s.io/kubernetes@{k8s_version}"],
        cwd=workdir, env=env, capture_output=True, text=True,
    )
    if out.returncode != 0:
        log.write_text(out.stdout + out.stderr)
        raise BuildError(f"cannot download k8s.io/kubernetes@{k8s_version}: {out.stdout}{out.stderr}")
    gomod = Path(json.loads(out.stdout)["GoMod"]).read_text()
    return sorted(set(re.findall(r"^\s*(k8s\.io/[a-z0-9-]+) v0\.0\.0\s*$", gomod, re.M)))


def _version_ldflags(version: str) -> str:
    minor = version.removeprefix("v1.").split(".")[0]
    date = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    flags = ["-s", "-w"]
    # The same two packages upstream's hack/lib/version.sh stamps; without them /version says
    # v0.0.0-master and clients that parse the server version (Prometheus SD) misbehave.
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {pkg}.gitVersion={version}", f"-X {pkg}.gitMajor=1", f"-X {pkg}.gitMinor={minor}",
            f"-X {pkg}.gitTreeState=clean", f"-X {pkg}.buildDate={date}",
        ]
    return " ".join(flags)


def _build_kubernetes(c: Component, log: Path) -> None:
    src = _module_dir(f"k8s-{c.version}")
    staging = _staging_modules(c.version, src, log)
    tools = "\n".join(f"\tk8s.io/kubernetes/cmd/{b}" for b in c.binaries)
    replaces = "\n".join(f"\t{m} => {m} {versions.KUBERNETES_STAGING}" for m in staging)
    (src / "go.mod").write_text(
        "module ksmpy.local/k8s-bins\n\ngo 1.26.0\n\n"
        f"tool (\n{tools}\n)\n\nrequire k8s.io/kubernetes {c.version}\n\nreplace (\n{replaces}\n)\n"
    )
    _go(["mod", "tidy"], cwd=src, label=f"{c.name} mod tidy", log=log)
    c.bin_dir.mkdir(parents=True, exist_ok=True)
    _go(
        ["build", "-v", "-p", "2", "-trimpath", "-tags=notest,grpcnotrace", "-ldflags", _version_ldflags(c.version),
         "-o", str(c.bin_dir) + "/", *[f"k8s.io/kubernetes/cmd/{b}" for b in c.binaries]],
        cwd=src, label=c.name, log=log,
    )


def _build_wrapped(c: Component, log: Path, package: str, ldflags: str = "-s -w", module: str = "") -> None:
    """Build ``package`` (a module's main package) through a wrapper module that pins ``c.version``.

    Needed where ``go install pkg@version`` refuses: etcd's modules carry ``replace ../api`` lines,
    and for kube-state-metrics the proxy refuses the version list that go install consults.
    """
    src = _module_dir(f"{c.name}-{c.version}")
    (src / "go.mod").write_text(
        f"module ksmpy.local/{c.name}-bin\n\ngo 1.26.0\n\ntool {package}\n\nrequire {module or package} {c.version}\n"
    )
    _go(["mod", "tidy"], cwd=src, label=f"{c.name} mod tidy", log=log)
    c.bin_dir.mkdir(parents=True, exist_ok=True)
    _go(["build", "-v", "-trimpath", "-ldflags", ldflags, "-o", str(c.binary()), package],
        cwd=src, label=c.name, log=log)


def _build_etcd(c: Component, log: Path) -> None:
    _build_wrapped(c, log, "go.etcd.io/etcd/server/v3")


KWOK_STAGES = (
    "node/fast/node-initialize.yaml",
    "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "pod/fast/pod-ready.yaml",
    "pod/fast/pod-complete.yaml",
    "pod/fast/pod-delete.yaml",
)


def _build_kwok(c: Component, log: Path) -> None:
    c.bin_dir.mkdir(parents=True, exist_ok=True)
    src = _module_dir(f"kwok-{c.version}")
    _go(["install", "-v", "-trimpath", "-ldflags", "-s -w", f"sigs.k8s.io/kwok/cmd/kwok@{c.version}"],
        cwd=src, label=c.name, log=log, extra_env={"GOBIN": str(c.bin_dir)})
    # Standalone kwok has no default stages (kwokctl supplies them); assemble kwokctl's set from
    # the module source into the cache so nothing from upstream lands in the repository.
    env = {**os.environ, **GO_ENV}
    modcache = subprocess.run(["go", "env", "GOMODCACHE"], env=env, capture_output=True, text=True).stdout.strip()
    stage_dir = Path(modcache) / f"sigs.k8s.io/kwok@{c.version}/kustomize/stage"
    docs = ["apiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokConfiguration\noptions: {}\n"]
    docs += [(stage_dir / f).read_text() for f in KWOK_STAGES]
    (c.home / "kwok.yaml").write_text("---\n".join(d if d.endswith("\n") else d + "\n" for d in docs))


def _build_ksm(c: Component, log: Path) -> None:
    _build_wrapped(c, log, "k8s.io/kube-state-metrics/v2",
                   f"-s -w -X github.com/prometheus/common/version.Version={c.version.removeprefix('v')}")


def _build_kustomize(c: Component, log: Path) -> None:
    # Renders deploy/ (kustomize base and overlays) in the tests, as `kubectl apply -k` would.
    _build_wrapped(c, log, "sigs.k8s.io/kustomize/kustomize/v5")


KSM_MODULE = "k8s.io/kube-state-metrics/v2"
# What upstream's e2e binary reads relative to its working directory (tests/e2e: ../../docs,
# ../../internal/store), the objects tests/e2e.sh creates, and the example manifests.
KSM_E2E_TREE = ("docs", "internal/store", "tests/e2e", "tests/manifests", "examples/standard")


def _build_ksm_e2e(c: Component, log: Path) -> None:
    """Upstream's own e2e suite (``go test -c`` of tests/e2e in the module) and the files it reads."""
    src = _module_dir(f"{c.name}-{c.version}")
    env = {**os.environ, **GO_ENV}
    out = subprocess.run(["go", "mod", "download", "-json", f"{KSM_MODULE}@{c.version}"],
                         cwd=src, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        log.write_text(out.stdout + out.stderr)
        raise BuildError(f"cannot download {KSM_MODULE}@{c.version}: {out.stdout}{out.stderr}")
    module = Path(json.loads(out.stdout)["Dir"])
    c.bin_dir.mkdir(parents=True, exist_ok=True)
    # In the module itself (its go.sum covers the tests' dependencies); read-only: nothing is written there.
    _go(["test", "-c", "-o", str(c.binary()), "./tests/e2e"], cwd=module, label=c.name, log=log,
        extra_env={"GOFLAGS": "-mod=readonly"})
    tree = c.home / "module"
    if tree.exists():
        shutil.rmtree(tree)
    for sub in KSM_E2E_TREE:
        shutil.copytree(module / sub, tree / sub)
    for path in [tree, *tree.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)  # the module cache's copies are read-only


def _build_helm(c: Component, log: Path) -> None:
    # Stamps the version as helm's Makefile does for a release tag (`helm version` reports it).
    _build_wrapped(c, log, "helm.sh/helm/v4/cmd/helm",
                   f"-s -w -X helm.sh/helm/v4/internal/version.version={c.version} "
                   "-X helm.sh/helm/v4/internal/version.metadata= -X helm.sh/helm/v4/internal/version.gitTreeState=clean",
                   module="helm.sh/helm/v4")


DEBIAN_MIRROR = os.environ.get("KSM_PY_DEBIAN_MIRROR", "http://deb.debian.org/debian")


def _run_streamed(argv: list[str], *, label: str, log: Path, env: dict[str, str] | None = None,
                  cwd: Path | None = None, unit: str = "lines", counts: Callable[[str], bool] = lambda _: True,
                  failed: str = "") -> None:
    """Run a command into ``log``, printing how many of its output lines ``counts`` at most every 15 s."""
    started = last_report = time.monotonic()
    done = 0
    with log.open("a") as out:
        out.write(f"$ {' '.join(argv)}" + (f"  (in {cwd})" if cwd else "") + "\n")
        out.flush()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env={**os.environ, **(env or {})})
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            done += counts(line)
            now = time.monotonic()
            if now - last_report >= 15:
                last_report = now
                print(f"  [{label}] {done} {unit}, {now - started:4.0f}s: {line.strip()[:80]}", flush=True)
        rc = proc.wait()
    if rc != 0:
        tail = "".join(log.read_text().splitlines(keepends=True)[-25:])
        raise BuildError(f"`{failed or argv[0]}` failed for {label} (exit {rc}); log {log}\n{tail}")


def _build_image_base(c: Component, log: Path) -> None:
    """The stand-in for python:3.11-slim: a debootstrap of Debian with python3 and pip, as a tarball.

    Made like the official image where the Dockerfile relies on it: ``python``/``pip`` on PATH and pip
    allowed to install into the system interpreter (Debian marks it externally managed, PEP 668).
    """
    if os.geteuid() != 0 or shutil.which("debootstrap") is None:
        raise BuildError("the image base is made with debootstrap as root: apt-get install debootstrap "
                         "(.ci/run does) and run as root")
    rootfs = c.home / "rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    _run_streamed(["debootstrap", "--variant=minbase", "--include=python3,python3-pip,ca-certificates",
                   versions.IMAGE_BASE_SUITE, str(rootfs), DEBIAN_MIRROR], label=c.name, log=log)
    (rootfs / "usr/lib/python3.11/EXTERNALLY-MANAGED").unlink(missing_ok=True)
    for link, target in (("usr/bin/python", "python3"), ("usr/bin/pip", "pip3")):
        (rootfs / link).unlink(missing_ok=True)
        (rootfs / link).symlink_to(target)
    # As the Debian images python:3.11-slim is built on: apt deletes downloaded packages and keeps no
    # package cache, so an `apt-get install` in the Dockerfile adds only the installed files.
    (rootfs / "etc/apt/apt.conf.d/docker-clean").write_text(
        'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb '
        '/var/cache/apt/*.bin || true"; };\n'
        'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb '
        '/var/cache/apt/*.bin || true"; };\n'
        'Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";\n')
    # Files podman adds to a container's own layer when the image lacks them (the /etc/hosts mount
    # point, the /etc/mtab link), which would show in `podman diff` of a container that wrote nothing.
    (rootfs / "etc/hosts").write_text("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
    if not (rootfs / "etc/mtab").is_symlink():
        (rootfs / "etc/mtab").unlink(missing_ok=True)
        (rootfs / "etc/mtab").symlink_to("../proc/self/mounts")
    # What the slim image leaves out too: package caches and lists, documentation.
    for d in ("var/cache/apt", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/info"):
        shutil.rmtree(rootfs / d, ignore_errors=True)
        (rootfs / d).mkdir(parents=True)
    _run_streamed(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(c.home / "rootfs.tar"), "."],
                  label=f"{c.name} tar", log=log)
    shutil.rmtree(rootfs)


PROMETHEUS_MODULE = "github.com/prometheus/prometheus"


def _prometheus_wrapper(src: Path, name: str, version: str, log: Path) -> None:
    """A wrapper module in ``src`` requiring the Prometheus module at ``version``, with that
    module's own go.sum (no ``go mod tidy``: see ``_build_prometheus``)."""
    env = {**os.environ, **GO_ENV}
    out = subprocess.run(["go", "mod", "download", "-json", f"{PROMETHEUS_MODULE}@{version}"],
                         cwd=src, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        log.write_text(out.stdout + out.stderr)
        raise BuildError(f"cannot download {PROMETHEUS_MODULE}@{version}: {out.stdout}{out.stderr}")
    module = Path(json.loads(out.stdout)["Dir"])
    go = re.search(r"^go (\S+)", (module / "go.mod").read_text(), re.M)
    (src / "go.mod").write_text(f"module ksmpy.local/{name}\n\ngo {go.group(1) if go else '1.26.0'}\n\n"
                                f"require {PROMETHEUS_MODULE} {version}\n")
    (src / "go.sum").write_bytes((module / "go.sum").read_bytes())


def _build_prometheus(c: Component, log: Path) -> None:
    """Prometheus' server with only the Kubernetes service discovery compiled in (its own build tags).

    Not through ``go mod tidy``: tidy resolves every discovery mechanism's dependencies, and the proxy
    refuses one of them (hashicorp/nomad/api); the module's own go.sum covers what the build needs.
    """
    src = _module_dir(f"{c.name}-{c.version}")
    _prometheus_wrapper(src, f"{c.name}-bin", c.version, log)
    c.bin_dir.mkdir(parents=True, exist_ok=True)
    minor, patch = c.version.removeprefix("v0.").split(".")
    release = f"{int(minor) // 100}.{int(minor) % 100}.{patch}"  # v0.316.0 is Prometheus 3.16.0
    _go(["build", "-v", "-p", "2", "-trimpath", "-tags=remove_all_sd,enable_kubernetes_sd",
         "-ldflags", f"-s -w -X github.com/prometheus/common/version.Version={release}",
         "-o", str(c.binary()), f"{PROMETHEUS_MODULE}/cmd/prometheus"], cwd=src, label=c.name, log=log)


TELEGRAF_MODULE = "github.com/influxdata/telegraf"
# Telegraf's own build tags: `custom` drops every plugin not named (docs/CUSTOMIZATION.md upstream).
# inputs.prometheus parses with its own parsers (imported directly), outputs.influxdb serializes
# line protocol itself, so no parsers.* / serializers.* tag is needed.
TELEGRAF_TAGS = "custom,inputs.prometheus,outputs.influxdb"


def _build_telegraf(c: Component, log: Path) -> None:
    """Telegraf with only the plugins deploy/telegraf uses, like Prometheus through the module's own go.sum.

    ``go mod tidy`` would resolve the dependencies of all of Telegraf's ~300 plugins (every build
    tag), hundreds of modules this build never compiles; ``-mod=mod`` fetches only what it imports.
    """
    src = _module_dir(f"{c.name}-{c.version}")
    env = {**os.environ, **GO_ENV}
    out = subprocess.run(["go", "mod", "download", "-json", f"{TELEGRAF_MODULE}@{c.version}"],
                         cwd=src, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        log.write_text(out.stdout + out.stderr)
        raise BuildError(f"cannot download {TELEGRAF_MODULE}@{c.version}: {out.stdout}{out.stderr}")
    module = Path(json.loads(out.stdout)["Dir"])
    gomod = (module / "go.mod").read_text()
    go = re.search(r"^go (\S+)", gomod, re.M)
    # Upstream's binary runs with its go.mod's godebug settings (x509negativeserial=1); keep them.
    godebug = "".join(f"{line}\n" for line in re.findall(r"^godebug .*$", gomod, re.M))
    (src / "go.mod").write_text(f"module ksmpy.local/{c.name}-bin\n\ngo {go.group(1) if go else '1.26.0'}\n\n"
                                f"{godebug}\nrequire {TELEGRAF_MODULE} {c.version}\n")
    (src / "go.sum").write_bytes((module / "go.sum").read_bytes())
    c.bin_dir.mkdir(parents=True, exist_ok=True)
    _go(["build", "-v", "-p", "2", "-trimpath", f"-tags={TELEGRAF_TAGS}",
         "-ldflags", f"-s -w -X {TELEGRAF_MODULE}/internal.Version={c.version.removeprefix('v')}",
         "-o", str(c.binary()), f"{TELEGRAF_MODULE}/cmd/telegraf"], cwd=src, label=c.name, log=log)


PROMCHECK_SOURCE = Path(__file__).with_name("promcheck") / "main.go"


def _promcheck_version() -> str:
    digest = hashlib.sha256(PROMCHECK_SOURCE.read_bytes()).hexdigest()[:12] if PROMCHECK_SOURCE.is_file() else "none"
    return f"{versions.PROMCHECK}-{digest}"


def _build_promcheck(c: Component, log: Path) -> None:
    """ksm-py's own checker (main.go in this repository) against the pinned Prometheus module.

    The module and its go.sum are the ones the Prometheus build already downloaded, so a cold
    build only compiles the parser's packages (model/textparse and its dependencies).
    """
    src = _module_dir(f"{c.name}-{c.version}")
    _prometheus_wrapper(src, "promcheck", versions.PROMCHECK, log)
    shutil.copyfile(PROMCHECK_SOURCE, src / "main.go")
    c.bin_dir.mkdir(parents=True, exist_ok=True)
    _go(["build", "-v", "-p", "2", "-trimpath", "-ldflags", "-s -w", "-o", str(c.binary()), "."],
        cwd=src, label=c.name, log=log)


KUBERNETES = Component(
    "kubernetes", versions.KUBERNETES,
    ("kube-apiserver", "kube-controller-manager", "kube-scheduler"), _build_kubernetes,
)
ETCD = Component("etcd", versions.ETCD, ("etcd",), _build_etcd)
KWOK = Component("kwok", versions.KWOK, ("kwok",), _build_kwok, extra_files=("kwok.yaml",))
KSM = Component("kube-state-metrics", versions.KUBE_STATE_METRICS, ("kube-state-metrics",), _build_ksm)
KUSTOMIZE = Component("kustomize", versions.KUSTOMIZE, ("kustomize",), _build_kustomize)
PROMETHEUS = Component("prometheus", versions.PROMETHEUS, ("prometheus",), _build_prometheus)
TELEGRAF = Component("telegraf", versions.TELEGRAF, ("telegraf",), _build_telegraf)
PROMCHECK = Component("promcheck", _promcheck_version(), ("promcheck",), _build_promcheck)
KSM_E2E = Component("kube-state-metrics-e2e", versions.KUBE_STATE_METRICS, ("e2e.test",), _build_ksm_e2e,
                    extra_files=("module/tests/e2e/main_test.go", "module/examples/standard/deployment.yaml"))
HELM = Component("helm", versions.HELM, ("helm",), _build_helm)
COMPONENTS = (ETCD, KWOK, KSM, KUSTOMIZE, HELM, PROMETHEUS, PROMCHECK, TELEGRAF, KUBERNETES, KSM_E2E)
# Built on demand by the image test (harness/image.py) or with --only: it needs root and debootstrap.
IMAGE_BASE = Component("image-base", f"{versions.IMAGE_BASE_SUITE}-{versions.IMAGE_BASE_DATE}", (),
                       _build_image_base, extra_files=("rootfs.tar",), revision=4)
ON_DEMAND = (IMAGE_BASE,)
# What ControlPlane.start() needs; the others are tools the tests run.
CONTROL_PLANE = (ETCD, KWOK, KUBERNETES)


def build(only: list[str] | None = None) -> None:
    """Build every component that is missing from the cache; print progress and timings."""
    if shutil.which("go") is None:
        raise BuildError("the `go` command is not on PATH; it is needed to build the control plane")
    total = time.monotonic()
    for c in COMPONENTS + ON_DEMAND:
        if (only and c.name not in only) or (not only and c in ON_DEMAND):
            continue
        ensure(c)
    print(f"control plane binaries ready in {time.monotonic() - total:.1f}s", flush=True)


def ensure(c: Component) -> None:
    """Build ``c`` unless its cached copy carries the current stamp."""
    if c.is_built():
        print(f"[{c.name} {c.version}] cached in {c.home}", flush=True)
        return
    print(f"[{c.name} {c.version}] building into {c.home} ...", flush=True)
    started = time.monotonic()
    c.home.mkdir(parents=True, exist_ok=True)
    log = c.home / "build.log"
    log.write_text("")
    try:
        c.recipe(c, log)
    except BuildError as e:
        raise BuildError(f"{e}\nretry this component with: python -m harness build --only {c.name}") from e
    (c.home / "BUILT").write_text(c.stamp_value() + "\n")
    print(f"[{c.name} {c.version}] built in {time.monotonic() - started:.0f}s", flush=True)


def main(argv: list[str]) -> int:
    only = None
    if argv[:1] == ["--only"]:
        only = argv[1].split(",")
    try:
        build(only)
    except BuildError as e:
        print(f"BUILD FAILED: {e}", file=sys.stderr)
        return 1
    return 0
