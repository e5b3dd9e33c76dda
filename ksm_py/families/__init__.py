"""One module per kube-state-metrics resource; ``RESOURCES`` maps --resources keys to them.

Modules are discovered, so adding a resource is adding its module.
"""

from __future__ import annotations

import importlib
import pkgutil

from ._dsl import Resource


def _discover() -> dict[str, Resource]:
    found: dict[str, Resource] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, Resource):
                # No built-in family reads managedFields (tests/families/_util.check renders every
                # case with and without it).
                value.reads_managed_fields = False
                found[value.name] = value
    return found


RESOURCES: dict[str, Resource] = _discover()
