"""The Dockerfile's shape. tests/e2e/test_image.py builds it with buildah and runs the image."""

from __future__ import annotations

import json
import shlex
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        instruction, _, args = line.partition(" ")
        out.append((instruction.upper(), " ".join(args.split())))
    return out


def pip_install_args() -> list[str]:
    runs = [args for ins, args in instructions() if ins == "RUN" and "pip install" in args]
    assert len(runs) == 1, runs
    command = runs[0].split("&&")[0]
    tokens = shlex.split(command)
    assert tokens[:2] == ["pip", "install"], command
    return tokens[2:]


def test_dockerfile_shape() -> None:
    ins = instructions()
    froms = [a for i, a in ins if i == "FROM"]
    assert froms == ["${BASE}"], "one stage, on the base the build argument names"
    # Users get the slim Python 3.11 image; CI passes a stand-in it can build (harness/image.py).
    assert [a for i, a in ins if i == "ARG"] == ["BASE=python:3.11-slim"]
    assert [i for i, _ in ins][0] == "ARG"
    assert pip_install_args() == ["--no-cache-dir", "."], "installs only the package"
    users = [a for i, a in ins if i == "USER"]
    assert users and users[-1].split(":")[0] == "65534"
    assert [i for i, _ in ins].index("USER") > [i for i, _ in ins].index("RUN"), "pip runs as root, ksm-py does not"
    assert json.loads(dict(ins)["ENTRYPOINT"]) == ["ksm-py"]
    apt = [a for i, a in ins if i == "RUN" and "apt-get install" in a]
    assert apt and "graphviz" in apt[0].split(), "dot draws /topology/ui"
    assert sorted(dict(ins)["EXPOSE"].split()) == ["8080", "8081"]
    # The image deploy/ runs is the package's version.
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    deployment = yaml.safe_load((ROOT / "deploy" / "base" / "deployment.yaml").read_text())
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == f"ghcr.io/ksm-py/ksm-py:{version}"
