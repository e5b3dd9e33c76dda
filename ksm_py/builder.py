"""Turn Options into compiled resources: enabled families after allow/deny/opt-in filtering."""

from __future__ import annotations

import logging
from typing import Callable

from .families import RESOURCES
from .families._dsl import Allowlists, Resource
from .filters import family_filter
from .options import EXTENSION_RESOURCES, Options
from .store import CompiledResource

logger = logging.getLogger(__name__)


def allowlists_for(resource: Resource, options: Options) -> Allowlists:
    if not resource.supports_allowlists:
        return Allowlists()
    return Allowlists(labels=options.labels_allowlist.get(resource.name),
                      annotations=options.annotations_allowlist.get(resource.name))


def compile_resources(options: Options,
                      on_render_error: Callable[[str, str, BaseException], None] | None = None) -> list[CompiledResource]:
    """Compiled resources in exposition order (sorted by --resources key)."""
    enabled = family_filter(options)
    out = []
    for name in sorted(set(options.resources)):
        if name in EXTENSION_RESOURCES:
            continue  # served by an extension (cli.build_extensions), not a KSM family module
        resource = RESOURCES.get(name)
        if resource is None:
            logger.warning("resource %s is not implemented yet; skipping it", name)
            continue
        families = [f for f in resource.families if enabled(f)]
        out.append(CompiledResource(resource, families, allowlists_for(resource, options), on_render_error))
    return out
