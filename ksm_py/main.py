"""Console entry point. gevent must patch the standard library before anything imports ssl,
urllib3 or kubernetes, so this module imports nothing else at the top."""

from __future__ import annotations


def main() -> int:
    from gevent import monkey

    from . import runtime  # imports nothing that patch_all() must patch first

    runtime.look_up_gevent_plugins_once()
    monkey.patch_all()
    from .cli import main as cli_main

    runtime.fix_malloc_thresholds()
    runtime.tune_gc()
    return cli_main()
