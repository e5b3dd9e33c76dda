"""The Dockerfile: its shape, and its install steps replayed without a Docker engine (a fresh
virtualenv gets exactly the files the COPY lines name, then the RUN line's pip install)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
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
    assert froms == ["python:3.11-slim"], "one stage on the slim Python 3.11 image"
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


def _copy_context(dest: Path) -> None:
    """The COPY lines, from the repository into ``dest`` (the image's WORKDIR), with Docker's rules:
    a file lands in a target ending in / under its own name, a directory's contents land in the target."""
    workdirs = [a for i, a in instructions() if i == "WORKDIR"]
    assert workdirs[0] == "/src"
    copies = [a.split() for i, a in instructions() if i == "COPY"]
    assert copies
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for *sources, target in copies:
        for source in sources:
            src = ROOT / source
            assert src.exists(), f"COPY {source}: not in the repository"
            if src.is_dir():
                shutil.copytree(src, dest / target, ignore=ignore, dirs_exist_ok=True)
            else:
                to = dest / target / src.name if target.endswith("/") else dest / target
                to.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, to)


def test_install_steps_give_a_working_ksm_py_in_a_fresh_virtualenv(tmp_path: Path) -> None:
    context = tmp_path / "src"
    context.mkdir()
    _copy_context(context)
    assert sorted(p.name for p in context.iterdir()) == ["README.md", "ksm_py", "pyproject.toml"]
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python, ksm_py = venv / "bin" / "python", venv / "bin" / "ksm-py"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    # The RUN line's pip install, minus the bytecode compilation (only speed; the image keeps it).
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-compile", *pip_install_args()],
                             cwd=context, env=env, capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stdout + install.stderr
    # The venv's own copy: not the repository (cwd elsewhere, no PYTHONPATH), no test code shipped.
    site = next((venv / "lib").glob("python3*/site-packages"))
    assert (site / "ksm_py").is_dir() and not (site / "tests").exists()
    # The explorer page's own files are package data.
    assert {p.name for p in (site / "ksm_py" / "topology" / "static").iterdir()} >= {
        "explorer.html", "explorer.js", "explorer.css"}
    for argv in ([str(ksm_py), "--help"], [str(ksm_py), "render", "--help"]):
        out = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, f"{argv}: {out.stdout}{out.stderr}"
        assert "--resources" in out.stdout
    where = subprocess.run([str(python), "-c", "import ksm_py; print(ksm_py.__file__)"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=60)
    assert re.match(re.escape(str(site)), where.stdout.strip()), where.stdout + where.stderr
