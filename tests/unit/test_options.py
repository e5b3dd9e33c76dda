"""The options table: one row per flag drives argparse, the --config keys, validation and the
README's flag table (generated, like the families table)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from ksm_py.options import (
    ALLOWLIST,
    BOOL,
    DURATION,
    FLOAT,
    INT,
    LIST,
    OPTIONS,
    REGEX_SET,
    RESOURCE_SET,
    STR,
    Option,
    OptionError,
    Options,
    build_parser,
    go_duration,
    options_from_args,
    readme_section,
    render_markdown,
)

ROOT = Path(__file__).resolve().parents[2]
# Options fields that no flag sets directly.
NOT_FLAGS = {"ignored"}

# One value of each kind: the flag's text, the --config YAML value, and what both must become.
SAMPLES: dict[int, tuple[str, Any, Any]] = {
    id(STR): ("x1", "x1", "x1"),
    id(INT): ("7", 7, 7),
    id(FLOAT): ("0.5", 0.5, 0.5),
    id(BOOL): ("true", True, True),
    id(DURATION): ("1m30s", "1m30s", 90.0),
    id(LIST): ("a,b", ["a", "b"], ["a", "b"]),
    id(RESOURCE_SET): ("pods,nodes", {"pods": {}, "nodes": {}}, ["nodes", "pods"]),
    id(REGEX_SET): ("kube_pod_.*", {"kube_pod_.*": {}}, ["kube_pod_.*"]),
    id(ALLOWLIST): ("pods=[app]", {"pods": ["app"]}, {"pods": ("app",)}),
}
# Values a row's own check or a combination rule would refuse with the generic sample.
OVERRIDES = {"--log-level": ("debug", "debug", "debug"), "--shard": ("0", 0, 0),
             "--v": ("2", 2, 2)}


def sample(option: Option) -> tuple[str, Any, Any]:
    return OVERRIDES.get(option.flag) or SAMPLES[id(option.kind)]


def test_readme_lists_the_flags_of_the_code() -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme_section(readme) == render_markdown(), (
        "README.md's flag table is out of date; regenerate it with\n"
        "  python -c 'from ksm_py.options import update_readme; update_readme(\"README.md\")'")


def test_every_field_has_one_row_and_every_row_a_field() -> None:
    fields = {f.name for f in dataclasses.fields(Options)} - NOT_FLAGS
    attrs = [o.attr for o in OPTIONS if o.attr]
    assert sorted(attrs) == sorted(fields)
    flags = [f for o in OPTIONS for f in (o.flag, *o.aliases)]
    assert len(flags) == len(set(flags))
    keys = [k for o in OPTIONS for k in o.config_keys]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("option", [o for o in OPTIONS if o.attr], ids=lambda o: o.flag)
def test_each_flag_sets_its_option(option: Option, tmp_path: Path) -> None:
    text, _, expected = sample(option)
    if option.flag == "--config":
        (tmp_path / "empty.yaml").write_text("")
        text = expected = str(tmp_path / "empty.yaml")
    extra = ["--resources=pods"] if option.flag in ("--node", "--track-unscheduled-pods") else []
    extra += ["--pod-namespace=ns"] if option.flag == "--pod" else ["--pod=p"] if option.flag == "--pod-namespace" else []
    if option.kind is ALLOWLIST:
        extra.append("--resources=pods")
    o = options_from_args(build_parser().parse_args([f"{option.flag}={text}", *extra]))
    value = getattr(o, option.attr)
    if option.flag == "--v":
        assert o.log_level == "info"
    assert value == expected, option.flag


@pytest.mark.parametrize("option", [o for o in OPTIONS if o.config_keys], ids=lambda o: o.flag)
def test_each_config_key_sets_its_option(option: Option, tmp_path: Path) -> None:
    _, value, expected = sample(option)
    doc = {option.config_keys[0]: value}
    if option.flag in ("--node", "--track-unscheduled-pods") or option.kind is ALLOWLIST:
        doc["resources"] = {"pods": {}}
    if option.flag in ("--pod", "--pod-namespace"):
        doc = {"pod": value, "namespace": value}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(doc))
    o = options_from_args(build_parser().parse_args([f"--config={path}"]))
    assert getattr(o, option.attr) == expected, option.config_keys[0]


def test_bad_values_name_the_flag_from_both_sources(tmp_path: Path) -> None:
    for option in OPTIONS:
        if option.kind not in (INT, BOOL, DURATION, FLOAT):
            continue
        with pytest.raises(OptionError, match=f"^{option.flag}: "):
            options_from_args(build_parser().parse_args([f"{option.flag}=nope"]))
        for key in option.config_keys:
            path = tmp_path / "config.yaml"
            path.write_text(yaml.safe_dump({key: "nope"} if option.kind is not DURATION else {key: "1x"}))
            with pytest.raises(OptionError, match=f"^--config: bad value for {key} in "):
                options_from_args(build_parser().parse_args([f"--config={path}"]))


def test_booleans_take_go_syntax() -> None:
    parse = build_parser().parse_args
    assert options_from_args(parse(["--enable-gzip-encoding"])).enable_gzip_encoding is True
    assert options_from_args(parse(["--enable-gzip-encoding=false"])).enable_gzip_encoding is False
    assert options_from_args(parse(["--enable-gzip-encoding=T"])).enable_gzip_encoding is True
    with pytest.raises(OptionError, match="^--enable-gzip-encoding: invalid boolean 'yes'"):
        options_from_args(parse(["--enable-gzip-encoding=yes"]))


def test_deprecated_config_key_is_used_only_without_the_current_one(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("custom_resource_config_file: old.yaml\ncustom_resource_state_config_file: new.yaml\n")
    o = options_from_args(build_parser().parse_args([f"--config={path}"]))
    assert o.custom_resource_state_config_file == "new.yaml"
    path.write_text("custom_resource_config_file: old.yaml\n")
    o = options_from_args(build_parser().parse_args([f"--config={path}"]))
    assert o.custom_resource_state_config_file == "old.yaml"


def test_go_durations() -> None:
    assert go_duration("60s") == 60 and go_duration("5m") == 300 and go_duration("1h0m0s") == 3600
    assert go_duration("1.5s") == 1.5 and go_duration("500ms") == 0.5 and go_duration("0") == 0
    assert go_duration("-1s") == -1
    for bad in ("", "60", "1d", "s", "1m x"):
        with pytest.raises(ValueError, match="invalid duration"):
            go_duration(bad)


def test_help_lists_every_flag() -> None:
    text = build_parser().format_help()
    for option in OPTIONS:
        assert option.flag in text


def test_klog_flags_are_accepted_and_recorded() -> None:
    o = options_from_args(build_parser().parse_args(["--logtostderr", "--v=2", "--log_file=/x.log",
                                                     "--stderrthreshold=ERROR", "-v", "5"]))
    assert o.ignored == {"--logtostderr": "true", "--log_file": "/x.log", "--stderrthreshold": "ERROR"}
    assert o.log_level == "debug"  # the last -v wins, as with pflag
    with pytest.raises(OptionError, match="^--log_file_max_size: invalid integer"):
        options_from_args(build_parser().parse_args(["--log_file_max_size=big"]))


def test_continue_without_config(tmp_path: Path) -> None:
    missing = str(tmp_path / "absent.yaml")
    with pytest.raises(OptionError, match="^--config: cannot read"):
        options_from_args(build_parser().parse_args([f"--config={missing}"]))
    o = options_from_args(build_parser().parse_args([f"--config={missing}", "--continue-without-config",
                                                     "--port=9000"]))
    assert o.port == 9000  # the command line applies
    bad = tmp_path / "bad.yaml"
    bad.write_text("port: [\n")
    with pytest.raises(OptionError, match="is not valid YAML"):
        options_from_args(build_parser().parse_args([f"--config={bad}", "--continue-without-config"]))


def test_auto_gomemlimit_ratio_is_checked_when_used() -> None:
    parse = build_parser().parse_args
    assert options_from_args(parse(["--auto-gomemlimit-ratio=2"])).auto_gomemlimit_ratio == 2
    for bad in ("0", "1.5", "-0.1"):
        with pytest.raises(OptionError, match="^--auto-gomemlimit-ratio: must be greater than 0"):
            options_from_args(parse(["--auto-gomemlimit", f"--auto-gomemlimit-ratio={bad}"]))
    o = options_from_args(parse(["--auto-gomemlimit", "--auto-gomemlimit-ratio=1"]))
    assert (o.auto_gomemlimit, o.auto_gomemlimit_ratio) == (True, 1.0)


def test_server_timeouts_take_go_durations() -> None:
    o = options_from_args(build_parser().parse_args(["--server-write-timeout=90s", "--server-idle-timeout=0",
                                                     "--server-read-header-timeout=1m30s"]))
    assert (o.server_write_timeout, o.server_idle_timeout, o.server_read_header_timeout) == (90, 0, 90)
    assert (o.server_read_timeout) == 60
    with pytest.raises(OptionError, match="^--server-write-timeout: invalid duration '60'"):
        options_from_args(build_parser().parse_args(["--server-write-timeout=60"]))
