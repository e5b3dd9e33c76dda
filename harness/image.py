"""The container image without Docker: buildah builds the repository's Dockerfile, podman runs it.

The Dockerfile's default base (python:3.11-slim) cannot be pulled here, so the build passes
``BASE=`` a stand-in made from Debian's packages (build.IMAGE_BASE: debootstrap + python3 + pip,
cached as a tarball under the tool cache, imported into the local image store once).

Two things of this sandbox decide how the tools are driven (both harmless on an ordinary host):
- crun refuses hosts that mount cgroup v1 controllers next to a cgroup v2 hierarchy that still
  lists controllers ("cgroups in hybrid mode not supported, drop all controllers from cgroupv2"),
  so buildah runs the RUN steps with chroot isolation (no OCI runtime, no cgroups), and podman
  runs the container with the first OCI runtime that works (crun, else runc);
- the OCI runtimes cannot raise RLIMIT_NOFILE/RLIMIT_NPROC to podman's defaults for root, so the
  run passes limits no higher than this process's own.
"""

from __future__ import annotations

import dataclasses
import json
import resource
import shutil
import subprocess
import time
from pathlib import Path

from . import build

ROOT = Path(__file__).resolve().parents[1]
# Tagged with the recipe's revision too, so a changed recipe is imported again.
BASE_REF = f"localhost/ksm-py-base:{build.IMAGE_BASE.version}.{build.IMAGE_BASE.revision}"
# The host's CA bundle, mounted into the RUN steps only: pip then trusts what the host trusts
# (a TLS-intercepting egress proxy); nothing of it stays in the image.
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
RUNTIMES = ("crun", "runc")


class ImageError(RuntimeError):
    pass


@dataclasses.dataclass(frozen=True)
class Image:
    ref: str
    size: int  # bytes, as `podman image inspect` reports (uncompressed layers)
    build_seconds: float


def missing_tools() -> list[str]:
    return [t for t in ("buildah", "podman", "debootstrap") if shutil.which(t) is None]


def _run(argv: list[str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def base_image() -> str:
    """The stand-in base in the local image store (built into the cache first if needed)."""
    build.ensure(build.IMAGE_BASE)
    if _run(["podman", "image", "exists", BASE_REF]).returncode == 0:
        return BASE_REF
    tarball = build.IMAGE_BASE.home / "rootfs.tar"
    out = _run(["podman", "import", "--change", "ENV LANG=C.UTF-8", "--change", 'CMD ["python3"]',
                str(tarball), BASE_REF])
    if out.returncode != 0:
        raise ImageError(f"podman import {tarball} failed ({out.returncode}):\n{out.stdout}{out.stderr}")
    return BASE_REF


def build_image(ref: str = "localhost/ksm-py:e2e", log: Path | None = None) -> Image:
    """``buildah bud`` of the repository's Dockerfile on the stand-in base, with progress lines."""
    base = base_image()
    argv = ["buildah", "bud", "--isolation=chroot", "--build-arg", f"BASE={base}", "-t", ref,
            "-f", str(ROOT / "Dockerfile")]
    if HOST_CA_BUNDLE.is_file():
        argv += ["-v", f"{HOST_CA_BUNDLE}:{HOST_CA_BUNDLE}:ro"]
    argv.append(str(ROOT))
    started = time.monotonic()
    lines: list[str] = []
    print(f"[image] buildah bud on {base} ...", flush=True)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    last = started
    for line in proc.stdout:
        lines.append(line)
        now = time.monotonic()
        if line.startswith("STEP ") or now - last >= 15:
            last = now
            print(f"  [image] {now - started:4.0f}s {line.strip()[:100]}", flush=True)
    rc = proc.wait()
    if log is not None:
        log.write_text("".join(lines))
    if rc != 0:
        raise ImageError(f"buildah bud failed ({rc}):\n{''.join(lines[-30:])}")
    seconds = time.monotonic() - started
    info = json.loads(_run(["podman", "image", "inspect", ref]).stdout)[0]
    print(f"[image] {ref} built in {seconds:.0f}s, {info['Size'] / 1e6:.0f} MB", flush=True)
    return Image(ref, int(info["Size"]), seconds)


def ulimit_args() -> list[str]:
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return ["--ulimit", f"nofile={nofile}:{nofile}", "--ulimit", "nproc=4096:4096"]


def pick_runtime(image: str) -> tuple[str, dict[str, str]]:
    """The first OCI runtime that runs a container here, and the exact error of each that did not."""
    failures: dict[str, str] = {}
    for runtime in RUNTIMES:
        if shutil.which(runtime) is None:
            failures[runtime] = "not installed"
            continue
        out = _run(["podman", "--runtime", runtime, "run", "--rm", *ulimit_args(), "--network", "host",
                    "--entrypoint", "python3", image, "-c", "pass"], timeout=120)
        if out.returncode == 0:
            return runtime, failures
        failures[runtime] = (out.stderr or out.stdout).strip()
    raise ImageError(f"no OCI runtime can run a container here: {failures}")
