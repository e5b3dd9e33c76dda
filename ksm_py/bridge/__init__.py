"""The StackState bridge: ``ksm-py stackstate-bridge`` pushes ksm-py's topology (full snapshots)
and the cluster's Kubernetes events to a StackState receiver.

source (``sources``) -> ``Topology`` (``model``) -> StackState JSON (``stackstate``) -> receiver
(``intake``); events: ``Reflector`` -> ``EventSink`` (``events``) -> receiver.
"""

from __future__ import annotations

from typing import Sequence


def main(argv: Sequence[str]) -> int:
    """The ``stackstate-bridge`` subcommand (imports its dependencies only when used)."""
    from .cli import main as cli_main

    return cli_main(argv)
