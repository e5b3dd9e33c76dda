"""The plug-in contract: what an extension (topology, events, Custom Resource State) gives the
exporter, and the small part of the exporter it may call back (``Host``).

This module sits below both sides: extensions import it, the composer (``cli``) builds the
extensions and hands them to the exporter (``app``) and to ``render``; neither side imports the
other.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Iterable, Protocol

from .exposition import ResourceWriter
from .kube.client import ApiResource
from .options import Options
from .sinks import Sink
from .store import CompiledResource
from .telemetry import Telemetry

WSGIApp = Callable[..., Iterable[bytes]]


@dataclasses.dataclass
class ExtraWatch:
    """A list/watch an extension needs; merged with the exporter's own for the same resource."""

    resource: str
    api: ApiResource
    # Called once per namespace store (None = all namespaces) to make the sink to feed.
    sink: Callable[[str | None], Sink]
    metadata_only: bool = False
    # The objects' kind, to feed files to the sink offline (``ksm-py render``).
    kind: str = ""


class Host(Protocol):
    """What an extension may use of the exporter it is plugged into (given to ``bind``)."""

    telemetry: Telemetry

    def add_resource(self, compiled: CompiledResource, api: ApiResource) -> None:
        """Serve a resource found at runtime: its stores, list/watches and writer."""

    def remove_resource(self, name: str) -> None:
        """Stop serving a resource added with ``add_resource``; its series go at once."""

    def spawn(self, run: Callable[[], None]) -> None:
        """Run ``run`` in a greenlet of the exporter's, killed with it (a --config reload replaces it)."""


class Extension(Protocol):
    """Something beyond kube-state-metrics plugged into the same watches and the same /metrics."""

    def watches(self, options: Options) -> list[ExtraWatch]:
        """The list/watches to feed it (shared with the exporter's own for the same resource)."""

    def writers(self) -> list[ResourceWriter]:
        """What it adds to /metrics."""

    def routes(self) -> dict[str, WSGIApp]:
        """Extra paths on the main port."""

    def bind(self, host: Host) -> None:
        """Called once the exporter exists (extensions that add resources at runtime keep it)."""
