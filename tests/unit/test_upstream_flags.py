"""Every flag and --config key of upstream kube-state-metrics is accepted by ksm-py.

The lists are read from upstream's own source, fetched from the Go module proxy into the Go
module cache (``go mod download``, like the other upstream components; nothing is committed):
``pkg/options/options.go`` of the pinned kube-state-metrics for its flags and yaml keys, and
``klog.go`` of the klog version its go.mod requires for the logging flags it adds with
``klog.InitFlags``. A new upstream release that adds a flag fails here until ksm-py has it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness import build, versions
from ksm_py.options import BY_CONFIG_KEY, build_parser, options_from_args

KSM_MODULE = "k8s.io/kube-state-metrics/v2"


def module_dir(module: str, version: str) -> Path:
    if shutil.which("go") is None:
        if os.environ.get("KSM_PY_REQUIRE_E2E"):
            pytest.fail("go is not installed: cannot read upstream's flags")
        pytest.skip("go is not installed: cannot read upstream's flags")
    out = subprocess.run(["go", "mod", "download", "-json", f"{module}@{version}"], capture_output=True, text=True,
                         timeout=300, env={**os.environ, **build.GO_ENV}, cwd="/")
    if out.returncode != 0:
        pytest.fail(f"go mod download {module}@{version} failed: {out.stdout}{out.stderr}")
    return Path(json.loads(out.stdout)["Dir"])


@pytest.fixture(scope="module")
def options_go() -> str:
    return (module_dir(KSM_MODULE, versions.KUBE_STATE_METRICS) / "pkg" / "options" / "options.go").read_text()


@pytest.fixture(scope="module")
def klog_go() -> str:
    go_mod = (module_dir(KSM_MODULE, versions.KUBE_STATE_METRICS) / "go.mod").read_text()
    m = re.search(r"^\s*k8s\.io/klog/v2 (v\S+)", go_mod, re.M)
    assert m, "kube-state-metrics' go.mod does not require k8s.io/klog/v2"
    return (module_dir("k8s.io/klog/v2", m.group(1)) / "klog.go").read_text()


def upstream_flags(options_go: str) -> dict[str, str]:
    """flag name -> shorthand ('' when none), from the o.cmd.Flags().XxxVar[P](&o.Field, "name", ...) calls."""
    flags = dict(re.findall(r'Flags\(\)\.\w*VarP\(\s*[^,]+,\s*"([^"]+)",\s*"([^"]*)"', options_go))
    flags |= {name: "" for name in re.findall(r'Flags\(\)\.\w*Var\(\s*[^,]+,\s*"([^"]+)"', options_go)}
    return flags


def test_upstream_flags_are_read(options_go: str, klog_go: str) -> None:
    """The readers find what they should: a check on the regular expressions themselves."""
    flags = upstream_flags(options_go)
    assert {"resources", "port", "auth-filter", "server-write-timeout", "help"} <= set(flags)
    assert flags["help"] == "h" and len(flags) >= 38  # v2.20 has 38
    assert {"v", "logtostderr", "vmodule"} <= set(re.findall(r'commandLine\.\w*Var\([^,]+,\s*"([^"]+)"', klog_go))


def test_every_upstream_flag_is_accepted(options_go: str, klog_go: str) -> None:
    parser = build_parser()
    known = {s for action in parser._actions for s in action.option_strings}
    flags = upstream_flags(options_go)
    flags |= {name: "" for name in re.findall(r'commandLine\.\w*Var\([^,]+,\s*"([^"]+)"', klog_go)}
    missing = sorted(f"--{name}" for name in flags if f"--{name}" not in known)
    missing += sorted(f"-{short}" for short in flags.values() if short and f"-{short}" not in known)
    assert not missing, f"upstream kube-state-metrics {versions.KUBE_STATE_METRICS} flags ksm-py lacks: {missing}"


def test_every_upstream_config_key_is_accepted(options_go: str) -> None:
    body = options_go[options_go.index("type Options struct"):]
    body = body[:body.index("\n}\n")]
    keys = set(re.findall(r'yaml:"([^",]+)', body))
    assert {"resources", "port", "auth_filter", "server_write_timeout"} <= keys
    # `help` is cobra's --help: a config file cannot ask for the usage text.
    missing = sorted(keys - set(BY_CONFIG_KEY) - {"help"})
    assert not missing, f"upstream --config keys ksm-py lacks: {missing}"


_TYPED_FLAG = re.compile(r'Flags\(\)\.(\w+)VarP?\(\s*[^,]+,\s*"([^"]+)",\s*(?:"[^"]*",\s*)?("[^"]*"|[\w.()]+),')
_GO_UNITS = {"Second": "s", "Minute": "m", "Hour": "h", "Millisecond": "ms"}


def test_upstream_defaults_parse_as_values(options_go: str) -> None:
    """Each typed upstream flag given its upstream default as a value, as a Deployment's args may
    spell it out (``--server-write-timeout=1m0s``, ``--auto-gomemlimit-ratio=0.9``), is accepted."""
    constants = {name: f"{n}{_GO_UNITS[unit]}" for name, n, unit in
                 re.findall(r"(\w+)\s*=\s*(\d+) \* time\.(\w+)", options_go)}
    argv = []
    for _, name, default in _TYPED_FLAG.findall(options_go):
        if name == "help":
            continue
        value = constants.get(default, default)
        value = re.sub(r"^\w+\((.*)\)$", r"\1", value).strip('"')
        argv.append(f"--{name}={value}")
    assert len(argv) >= 25 and "--server-idle-timeout=5m" in argv, argv
    o = options_from_args(build_parser().parse_args(argv))
    assert (o.server_read_timeout, o.server_read_header_timeout, o.server_write_timeout, o.server_idle_timeout) == (
        60, 5, 60, 300)
    assert o.auto_gomemlimit_ratio == 0.9 and o.port == 8080
