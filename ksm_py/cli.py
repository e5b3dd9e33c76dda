"""Entry point: ``ksm-py [flags]`` serves metrics; ``ksm-py render`` renders files offline."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from . import bridge
from .options import OptionError, Options, add_filter_flags, build_parser, options_from_args

if TYPE_CHECKING:
    from .customresourcestate import ResourceConfig
    from .extension import Extension


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


def serve_main(argv: Sequence[str]) -> int:
    parser = build_parser()
    _, options = _parse(parser, argv)
    _configure_logging(options.log_level)
    crs_config = _crs_config(parser, options)
    from .app import run
    return run(options, build_extensions(options, crs_config))


def families_main(argv: Sequence[str]) -> int:
    from .catalog import main as catalog_main
    return catalog_main(argv)


SUBCOMMANDS = {"render": render_main, "families": families_main, "stackstate-bridge": bridge.main}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        return SUBCOMMANDS[argv[0]](argv[1:])
    return serve_main(argv)
