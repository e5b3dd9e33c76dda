"""``--config`` followed while serving (``cli.ConfigReload``) and upstream's config-reload families
(``telemetry.ConfigStatus``); the whole path against a cluster is tests/e2e/test_reload.py."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from ksm_py.cli import ConfigReload, _serve_options, build_extensions
from ksm_py.configfile import WatchedFile
from ksm_py.options import build_parser
from ksm_py.telemetry import ConfigStatus, Telemetry


def md5_value(text: str) -> float:
    return float(int.from_bytes(hashlib.md5(text.encode()).digest()[:6], "little"))


def follower(tmp_path: Path, text: str, *flags: str) -> tuple[ConfigReload, Path, ConfigStatus]:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    parser = build_parser()
    args = parser.parse_args([f"--config={path}", *flags])
    status = ConfigStatus()
    options, file = _serve_options(parser, args, status)
    assert file is not None
    return ConfigReload(args, file, options, status), path, status


def test_a_changed_file_gives_new_options_over_the_command_line(tmp_path: Path) -> None:
    reload, path, status = follower(tmp_path, "resources: {pods: {}}\nport: 9000\n", "--port=8000",
                                    "--metric-denylist=kube_pod_info")
    assert status.value("config", str(path))[:2] == [md5_value("resources: {pods: {}}\nport: 9000\n"), 1]
    assert reload.poll() is None, "nothing changed"

    path.write_text("resources: {nodes: {}, secrets: {}}\n")
    new = reload.poll()
    assert new is not None
    options, extensions = new
    assert options.resources == ["nodes", "secrets"]
    # A key the file no longer has falls back to the command line; the flags the file never set stay.
    assert options.port == 8000 and options.metric_denylist == ["kube_pod_info"]
    assert extensions == []
    assert status.value("config", str(path))[0] == md5_value("resources: {pods: {}}\nport: 9000\n"), \
        "the hash is the running configuration's until the new one is applied"
    reload.done(True)
    hash_, ok, when = status.value("config", str(path))
    assert (hash_, ok) == (md5_value("resources: {nodes: {}, secrets: {}}\n"), 1) and when is not None
    assert reload.poll() is None


def test_a_file_that_does_not_load_keeps_the_running_options(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    good = "resources: {pods: {}}\n"
    reload, path, status = follower(tmp_path, good)
    _, _, started = status.value("config", str(path))
    for bad in ("resources: [", "resources: {widgets: {}}\n", "no_such_option: 1\n",
                "custom_resource_state_config_file: /nonexistent/crs.yaml\n"):
        path.write_text(bad)
        assert reload.poll() is None, bad
        assert status.value("config", str(path)) == [md5_value(good), 0, started], bad
        assert "keeping the running configuration" in caplog.text
    # Fixed: applied, and counted as a success again.
    path.write_text("resources: {nodes: {}}\n")
    new = reload.poll()
    assert new is not None and new[0].resources == ["nodes"]
    reload.done(True)
    assert status.value("config", str(path))[1] == 1
    # A new core that cannot start: counted as a failed reload.
    path.write_text("resources: {secrets: {}}\n")
    assert reload.poll() is not None
    reload.done(False)
    assert status.value("config", str(path))[:2] == [md5_value("resources: {nodes: {}}\n"), 0]


def test_a_change_that_changes_no_option_restarts_nothing(tmp_path: Path) -> None:
    reload, path, status = follower(tmp_path, "resources: {pods: {}}\n")
    path.write_text("# reviewed\nresources: {pods: {}}\n")
    assert reload.poll() is None
    assert status.value("config", str(path))[:2] == [md5_value("# reviewed\nresources: {pods: {}}\n"), 1]


def test_a_missing_file_is_waited_for_with_continue_without_config(tmp_path: Path) -> None:
    parser = build_parser()
    path = tmp_path / "config.yaml"
    args = parser.parse_args([f"--config={path}", "--continue-without-config", "--resources=pods"])
    status = ConfigStatus()
    options, file = _serve_options(parser, args, status)
    assert options.resources == ["pods"] and file is not None and file.data is None
    assert list(Telemetry(config_status=status).registry.collect()) and status.value("config", str(path)) == [
        None, None, None], "no file, no series (as upstream)"
    reload = ConfigReload(args, file, options, status)
    path.write_text("resources: {nodes: {}}\n")
    new = reload.poll()
    assert new is not None and new[0].resources == ["nodes"]


def test_an_invalid_file_at_start_up_with_continue_without_config(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("resources: [")
    parser = build_parser()
    args = parser.parse_args([f"--config={path}", "--continue-without-config", "--resources=pods"])
    status = ConfigStatus()
    options, file = _serve_options(parser, args, status)
    assert options.resources == ["pods"], "the command line applies until the file loads"
    assert status.value("config", str(path))[1] == 0
    assert file is not None
    reload = ConfigReload(args, file, options, status)
    path.write_text("resources: {nodes: {}}\n")
    new = reload.poll()
    assert new is not None and new[0].resources == ["nodes"]


def test_an_invalid_file_at_start_up_exits_without_continue_without_config(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("resources: [")
    parser = build_parser()
    with pytest.raises(SystemExit) as exc:
        _serve_options(parser, parser.parse_args([f"--config={path}"]), ConfigStatus())
    assert exc.value.code == 2


def test_config_status_families_as_upstream(tmp_path: Path) -> None:
    status = ConfigStatus()
    telemetry = Telemetry(config_status=status)
    text = generate_latest(telemetry.registry).decode()
    assert "kube_state_metrics_config_hash" not in text, "a vector without children is not exposed"
    status.loaded("config", str(tmp_path / "a" / ".." / "config.yaml"), b"x")
    status.loaded("customresourceconfig", "/etc/crs/crs.yaml", b"y")
    status.failed("customresourceconfig", "/etc/crs/crs.yaml")
    text = generate_latest(telemetry.registry).decode()
    clean = str(tmp_path / "config.yaml")
    assert "# HELP kube_state_metrics_config_hash Hash of the currently loaded configuration.\n" in text
    assert "# HELP kube_state_metrics_last_config_reload_successful Whether the last configuration reload " \
           "attempt was successful.\n" in text
    assert "# HELP kube_state_metrics_last_config_reload_success_timestamp_seconds Timestamp of the last " \
           "successful configuration reload.\n" in text
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in telemetry.registry.collect() for s in f.samples}
    assert samples[("kube_state_metrics_config_hash", (("filename", clean), ("type", "config")))] == md5_value("x")
    assert samples[("kube_state_metrics_last_config_reload_successful",
                    (("filename", "/etc/crs/crs.yaml"), ("type", "customresourceconfig")))] == 0
    # The same status outlives the Telemetry of a replaced exporter.
    assert Telemetry(config_status=status).registry.get_sample_value(
        "kube_state_metrics_config_hash", {"type": "customresourceconfig", "filename": "/etc/crs/crs.yaml"}) == \
        md5_value("y")
    status.keep([("config", clean)])
    assert status.value("customresourceconfig", "/etc/crs/crs.yaml") == [None, None, None]


def test_watched_file_sees_a_symlink_swap_and_ignores_a_rewrite_of_the_same_bytes(tmp_path: Path) -> None:
    (tmp_path / "v1").mkdir()
    (tmp_path / "v1" / "f").write_text("a")
    (tmp_path / "..data").symlink_to("v1")
    (tmp_path / "f").symlink_to("..data/f")
    watched = WatchedFile(str(tmp_path / "f"))
    assert watched.data == b"a" and not watched.poll()
    (tmp_path / "v1" / "f").write_text("a")
    assert not watched.poll(), "same content"
    (tmp_path / "v2").mkdir()
    (tmp_path / "v2" / "f").write_text("b")
    (tmp_path / "tmp").symlink_to("v2")
    (tmp_path / "tmp").replace(tmp_path / "..data")
    assert watched.poll() and watched.data == b"b"


def test_build_extensions_of_reloaded_options(tmp_path: Path) -> None:
    reload, path, _ = follower(tmp_path, "resources: {pods: {}}\n")
    path.write_text("resources: {pods: {}, events: {}}\n")
    new = reload.poll()
    assert new is not None
    assert [type(e).__name__ for e in new[1]] == [type(e).__name__ for e in build_extensions(new[0])] == \
        ["EventsExtension"]
