"""What a user sees on a bad command line: a non-zero exit and a message naming the flag.

The process is started like a user would (``ksm-py ...``); every case fails while parsing the
options, before any connection to an API server is attempted.
"""

from __future__ import annotations

import concurrent.futures
import subprocess
from pathlib import Path

import pytest

from ksm_py.options import DEFAULT_RESOURCES, OptionError, build_parser, options_from_args
from tests.conftest import ksm_py_argv


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ksm_py_argv(), *args], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def config_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return str(path)


BAD = [
    ("unknown allowlist resource", ["--metric-labels-allowlist=pods=[app],nopods=[app]"],
     "--metric-labels-allowlist", "nopods"),
    ("two wildcards", ["--metric-labels-allowlist=pods=[app.*/*]"], "--metric-labels-allowlist", "wildcard"),
    ("two wildcards in annotations", ["--metric-annotations-allowlist=*=[a*b*]"], "--metric-annotations-allowlist",
     "wildcard"),
    ("allowlist and denylist", ["--metric-allowlist=kube_pod_.*", "--metric-denylist=kube_node_.*"],
     "--metric-denylist", "exclusive"),
    ("port not a number", ["--port=http"], "--port", "http"),
    ("port out of range", ["--port=70000"], "--port", "70000"),
    ("telemetry port out of range", ["--telemetry-port=-1"], "--telemetry-port", "-1"),
    ("unknown resource", ["--resources=pods,podz"], "--resources", "podz"),
    ("bad regex", ["--metric-denylist=kube_(pod"], "--metric-denylist", "kube_(pod"),
    ("shard outside total", ["--shard=3", "--total-shards=3"], "--shard", "3"),
    ("node without pods only", ["--node=n1", "--resources=pods,nodes"], "--node", "pods"),
    ("bad CRS config", ["--custom-resource-state-config=spec: {resources: [{metrics: [{each: {type: Histogram}}]}]}"],
     "--custom-resource-state-config", "histogram"),
    ("missing CRS file", ["--custom-resource-state-config-file=/nonexistent/crs.yaml"],
     "--custom-resource-state-config-file", "/nonexistent/crs.yaml"),
]


@pytest.fixture(scope="module")
def bad_flag_runs() -> dict[str, subprocess.CompletedProcess[str]]:
    """All the bad command lines, run concurrently (each is a process start-up)."""
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = {name: pool.submit(run, *argv, "--kubeconfig=/nonexistent/kubeconfig") for name, argv, *_ in BAD}
        return {name: f.result() for name, f in futures.items()}


@pytest.mark.parametrize(("name", "flag", "detail"), [(b[0], b[2], b[3]) for b in BAD], ids=[b[0] for b in BAD])
def test_bad_flags_exit_non_zero_naming_the_flag(bad_flag_runs: dict[str, subprocess.CompletedProcess[str]],
                                                 name: str, flag: str, detail: str) -> None:
    out = bad_flag_runs[name]
    assert out.returncode == 2, out.stderr
    message = out.stderr.strip().splitlines()[-1]
    assert message.startswith("ksm-py: error: "), message
    assert flag in message, message
    if flag == "--metric-denylist":
        assert "--metric-allowlist" in message or "kube_(pod" in message
    assert detail.lower() in message.lower(), message


@pytest.mark.parametrize(("text", "detail"), [
    ("prot: 8080\n", "prot"),
    ("port: eighty\n", "port"),
    ("resources: {pods: {}, podz: {}}\n", "podz"),
    ("labels_allow_list: {nopods: [app]}\n", "nopods"),
    ("- just\n- a list\n", "mapping"),
    ("port: [\n", "YAML"),
])
def test_bad_config_file(tmp_path: Path, text: str, detail: str) -> None:
    out = run(f"--config={config_file(tmp_path, text)}", "--kubeconfig=/nonexistent/kubeconfig")
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith("ksm-py: error: --config: ") and detail in out.stderr, out.stderr


def test_missing_crs_file_can_be_tolerated() -> None:
    args = build_parser().parse_args(["--custom-resource-state-config-file=/nonexistent/crs.yaml",
                                      "--continue-without-custom-resource-state-config-file"])
    options = options_from_args(args)
    assert options.custom_resource_state_config_file == "/nonexistent/crs.yaml"


def test_config_file_overrides_flags(tmp_path: Path) -> None:
    path = config_file(tmp_path, """
port: 9090
telemetry_port: 9091
resources: {pods: {}, nodes: {}}
metric_denylist: {kube_pod_info: {}}
labels_allow_list: {pods: [app, team]}
namespaces: [a, b]
enable_gzip_encoding: true
custom_resources_only: false
""")
    args = build_parser().parse_args([f"--config={path}", "--port=8000", "--telemetry-port=8001",
                                      "--resources=deployments", "--metric-denylist=kube_node_.*",
                                      "--metric-labels-allowlist=deployments=[*]", "--namespaces=c",
                                      "--shard=0", "--total-shards=1"])
    o = options_from_args(args)
    assert (o.port, o.telemetry_port) == (9090, 9091)
    assert o.resources == ["nodes", "pods"]
    assert o.metric_denylist == ["kube_pod_info"]
    assert o.labels_allowlist == {"pods": ("app", "team")}
    assert o.namespaces == ["a", "b"]
    assert o.enable_gzip_encoding is True
    # What the file does not mention keeps its command-line value.
    assert (o.shard, o.total_shards) == (0, 1)


def test_config_file_allowlist_star_expands_to_enabled_resources(tmp_path: Path) -> None:
    path = config_file(tmp_path, "resources: {pods: {}, nodes: {}}\nannotations_allow_list: {'*': ['*']}\n")
    o = options_from_args(build_parser().parse_args([f"--config={path}"]))
    assert o.annotations_allowlist == {"nodes": ("*",), "pods": ("*",)}


def test_custom_resource_state_only_disables_the_builtin_resources() -> None:
    o = options_from_args(build_parser().parse_args(["--custom-resource-state-only", "--resources=pods"]))
    assert o.resources == []
    assert options_from_args(build_parser().parse_args([])).resources == sorted(DEFAULT_RESOURCES)


def test_option_error_is_a_value_error() -> None:
    with pytest.raises(OptionError, match="--resources"):
        options_from_args(build_parser().parse_args(["--resources=nope"]))
