"""Entry point: ``ksm-py [flags]`` serves metrics; ``ksm-py render`` renders files offline."""

from __future__ import annotations

import argparse
import copy
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from . import bridge
from .configfile import WatchedFile
from .options import OptionError, Options, add_filter_flags, build_parser, options_from_args

if TYPE_CHECKING:
    from .customresourcestate import ResourceConfig
    from .extension import Extension
    from .telemetry import ConfigStatus

logger = logging.getLogger(__name__)


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str]) -> tuple[argparse.Namespace, Options]:
    args = parser.parse_args(argv)
    try:
        return args, options_from_args(args)
    except OptionError as e:
        parser.exit(2, f"{parser.prog}: error: {e}\n")
    raise AssertionError("unreachable")


def build_extensions(options: Options, crs_config: list[ResourceConfig] | None = None) -> list[Extension]:
    """The extensions --resources and the Custom Resource State configuration enable, built once
    and handed to the exporter or to ``render``."""
    # Imported here, not at the top: ``ksm-py render`` and ``families`` start without what they do not use.
    extensions: list[Extension] = []
    if "events" in options.resources:
        from .events import EventsExtension

        extensions.append(EventsExtension(options))
    if "topology" in options.resources:
        from .topology.extension import TopologyExtension

        extensions.append(TopologyExtension(options))
    if crs_config is not None:
        from .customresourcestate import CustomResourceState

        extensions.append(CustomResourceState(options, crs_config))
    return extensions


def _crs_config(parser: argparse.ArgumentParser, options: Options) -> list[ResourceConfig] | None:
    """Read and compile the Custom Resource State configuration once; a bad one exits naming its flag."""
    if not (options.custom_resource_state_config or options.custom_resource_state_config_file):
        return None  # without importing the package (and what it imports): start-up CPU
    from .customresourcestate import load_config

    try:
        return load_config(options)
    except OptionError as e:
        parser.exit(2, f"{parser.prog}: error: {e}\n")
    raise AssertionError("unreachable")


def render_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="ksm-py render", description=(
        "Print the exposition /metrics would serve for a cluster holding only the objects in the files."))
    parser.add_argument("--file", "-f", action="append", required=True, type=Path,
                        help="JSON or YAML file: one object, a *List, or multi-document YAML (repeatable)")
    add_filter_flags(parser)
    _, options = _parse(parser, argv)
    _configure_logging("warning")
    from .builder import compile_resources
    from .render import render
    try:
        body = render(compile_resources(options), options, parser.parse_args(argv).file, build_extensions(options))
    except (OSError, ValueError) as e:
        print(f"ksm-py render: error: {e}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(body)
    return 0


class ConfigReload:
    """``--config`` followed while serving (``app.Supervisor`` polls it): the options are the
    command line with the file's values over it, as at start-up, re-read whole each time the file's
    content changes; what a new file removes falls back to the command line (kube-state-metrics
    unmarshals each new file over the options of the previous one, so a removed key keeps its old
    value there).  A file that does not load, or whose Custom Resource State configuration does not,
    is logged and counted (``kube_state_metrics_last_config_reload_successful`` 0) and the running
    configuration stays."""

    def __init__(self, args: argparse.Namespace, file: WatchedFile, options: Options, status: ConfigStatus) -> None:
        self.args, self.file, self.status = args, file, status
        self.path = file.path
        # What the running core was built from (the core's own copy is changed by auto-sharding).
        self.options = copy.deepcopy(options)
        self._pending: bytes | None = None

    def poll(self) -> tuple[Options, list[Extension]] | None:
        from .customresourcestate import load_config

        if not self.file.poll():
            return None
        if self.file.data is None:
            # kube-state-metrics stops watching a removed file; here a file that comes back is read.
            logger.warning("--config: %s cannot be read; keeping the running configuration", self.path)
            return None
        try:
            options = options_from_args(self.args)
            crs_config = load_config(options)
        except OptionError as e:
            logger.error("%s; keeping the running configuration (fix the file: it is read again when it "
                         "changes)", e)
            self.status.failed("config", self.path)
            return None
        if options == self.options:
            logger.info("--config: %s changed; no option did", self.path)
            self.status.loaded("config", self.path, self.file.data)
            return None
        logger.info("--config: %s changed; restarting the exporter with the new options", self.path)
        self._pending, self.options = self.file.data, copy.deepcopy(options)
        logging.getLogger().setLevel(getattr(logging, options.log_level.upper(), logging.INFO))
        return options, build_extensions(options, crs_config)

    def done(self, ok: bool) -> None:
        if ok and self._pending is not None:
            self.status.loaded("config", self.path, self._pending)
        elif not ok:
            self.status.failed("config", self.path)
        self._pending = None


def _serve_options(parser: argparse.ArgumentParser, args: argparse.Namespace,
                   status: ConfigStatus) -> tuple[Options, WatchedFile | None]:
    """The options to start with, and the --config file to follow.

    A --config file that does not load stops the start-up (naming it), except with
    --continue-without-config: then, as in kube-state-metrics, the file is logged and followed and
    a fixed file is applied; meanwhile the command line applies (kube-state-metrics serves nothing)."""
    try:
        flags_only = options_from_args(args, config=False)
    except OptionError as e:
        parser.exit(2, f"{parser.prog}: error: {e}\n")
    if not flags_only.config:
        return flags_only, None
    # Read before the options are: a change made while they are built is seen by the first poll.
    file = WatchedFile(flags_only.config)
    try:
        options = options_from_args(args)
    except OptionError as e:
        if not flags_only.continue_without_config:
            parser.exit(2, f"{parser.prog}: error: {e}\n")
        logger.error("%s; continuing with the command line (--continue-without-config) until it is fixed", e)
        status.failed("config", file.path)
        return flags_only, file
    if file.data is not None:
        status.loaded("config", file.path, file.data)
    return options, file


def serve_main(argv: Sequence[str]) -> int:
    from .telemetry import ConfigStatus

    parser = build_parser()
    args = parser.parse_args(argv)
    status = ConfigStatus()
    # Logging before the options are final: a --config error is logged with --continue-without-config.
    _configure_logging(getattr(args, "log_level", None) or "info")
    options, file = _serve_options(parser, args, status)
    logging.getLogger().setLevel(getattr(logging, options.log_level.upper(), logging.INFO))
    crs_config = _crs_config(parser, options)
    from .app import run
    reload = ConfigReload(args, file, options, status) if file is not None else None
    return run(options, build_extensions(options, crs_config), reload, status)


def families_main(argv: Sequence[str]) -> int:
    from .catalog import main as catalog_main
    return catalog_main(argv)


SUBCOMMANDS = {"render": render_main, "families": families_main, "stackstate-bridge": bridge.main}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        return SUBCOMMANDS[argv[0]](argv[1:])
    return serve_main(argv)
