"""Console entry point. gevent must patch the standard library before anything imports ssl,
urllib3 or kubernetes, so this module imports nothing else at the top."""

from __future__ import annotations


def main() -> int:
    from gevent import monkey

    monkey.patch_all()
    from . import runtime
    from .cli import main as cli_main

    runtime.fix_malloc_thresholds()
    runtime.tune_gc()
    return cli_main()
