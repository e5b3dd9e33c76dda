"""Declaring a resource and its metric families, in exposition order.

A family is a small function over the raw object dict that yields ``(labels, value)`` pairs;
the resource adds its identity labels in front once (KSM's ``wrapXxxFunc``).
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Iterable, Mapping, Sequence

from ..body import Body
from ..metric import GAUGE, STABLE, header
from ..shape import Shape

# A family's own labels: (name, value) pairs, or a str already rendered as ``name="value",...``
# (escaped), for label sets that repeat in every object (phase="Running", condition="true").
Labels = Mapping[str, str] | Sequence[tuple[str, str]] | str
Sample = tuple[Labels, float | int | bool]
# A list or tuple when it can be empty: the render skips an empty one without iterating it.
Samples = Iterable[Sample]
FamilyFn = Callable[[Body], Samples]


class Constant(tuple[tuple[str, float | int | bool], ...]):
    """Samples shared by every object that has them, labels rendered (a pod's phase series, its
    Ready condition's three): the render makes a family's lines of them once and then only puts
    each object's identity in."""

    def __init__(self, samples: Iterable[tuple[str, float | int | bool]]) -> None:
        super().__init__()
        if not all(type(labels) is str and labels for labels, _ in self):
            raise ValueError("constant samples carry rendered, non-empty label sets")
        # Family name -> the lines of these samples, split where the identity goes (the render's).
        self.lines: dict[str, list[str]] = {}


@dataclasses.dataclass(frozen=True)
class Allowlists:
    """The ``--metric-labels-allowlist`` / ``--metric-annotations-allowlist`` entries of one resource.

    ``None`` means the resource has no entry (the family emits nothing); an entry is a tuple of
    keys or patterns exactly as given on the command line.
    """

    labels: tuple[str, ...] | None = None
    annotations: tuple[str, ...] | None = None


@dataclasses.dataclass(frozen=True)
class Family:
    name: str
    help: str
    type: str
    stability: str
    # Called once at startup with the resource's allowlists; returns the per-object function.
    build: Callable[[Allowlists], FamilyFn]
    opt_in: bool = False
    deprecated: str = ""
    # The family's own label names after the resource's identity labels, in emission order; a
    # name ending in ``*`` stands for dynamic labels with that prefix (``label_*``). None means
    # undeclared (custom resource state families); ``ksm-py families`` lists these.
    labels: tuple[str, ...] | None = None
    # A path into the object (``("spec", "initContainers")``) the family has no samples without:
    # where it is absent or null the render does not call the family at all (most pods have no
    # init containers, overhead or runtime class: a dozen calls saved per pod).
    needs: tuple[str, ...] = ()

    def header(self, *, openmetrics: bool = False) -> bytes:
        return header(self.name, self.help, self.type, self.stability, self.deprecated, openmetrics=openmetrics)


def _meta(field: str) -> Callable[[Body], str]:
    def get(obj: Body) -> str:
        meta = obj.get("metadata")
        value = meta.get(field) if isinstance(meta, dict) else None
        return value if isinstance(value, str) else ""
    # The render reads identities made only of these getters straight from the metadata.
    get.meta_field = field  # type: ignore[attr-defined]
    return get


NAMESPACE = _meta("namespace")
NAME = _meta("name")
UID = _meta("uid")


def empty(_: Body) -> str:
    return ""


class Resource:
    """One ``--resources`` key: its API coordinates, identity labels and families."""

    def __init__(
        self,
        name: str,
        *,
        group: str,
        version: str,
        kind: str,
        namespaced: bool,
        identity: Sequence[tuple[str, Callable[[Body], str]]],
        default: bool = True,
        allowlists: bool = True,
        metadata_only: bool = False,
    ) -> None:
        self.name = name
        self.group = group
        self.version = version
        self.kind = kind
        self.namespaced = namespaced
        self.identity = tuple(identity)
        self.default = default
        self.supports_allowlists = allowlists
        # Families only read metadata: list/watch PartialObjectMetadata, so contents never arrive.
        self.metadata_only = metadata_only
        # Metadata fields none of the families reads ("labels" and "annotations": none but the
        # allowlisted _labels/_annotations families): an update changing only these renders
        # nothing new, so the store skips it.  Declared by a resource module that was checked
        # (its families must not read the top-level kind and apiVersion either).
        self.unread_metadata: tuple[str, ...] = ()
        # Whether a family may read metadata.managedFields: the reflector drops it from the JSON
        # before parsing when no sink of a list/watch does (it is half of a pod's JSON and most of
        # its parse time). True unless the module is known not to (the built-in ones; custom
        # resource state families read any path).
        self.reads_managed_fields = True
        # The fields the families read (``ksm_py.shape``): the reflector parses only these when
        # no other sink of the list/watch needs more. None: whole objects.
        self.reads: Shape | None = None
        self.families: list[Family] = []

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def family(
        self, name: str, help: str, type: str = GAUGE, stability: str = STABLE, *,
        opt_in: bool = False, deprecated: str = "", labels: tuple[str, ...] | None = None,
        needs: tuple[str, ...] = (),
    ) -> Callable[[FamilyFn], FamilyFn]:
        """Register a family whose function does not depend on the allowlists.

        ``labels``: the label names the family adds after the identity labels (``prefix_*`` for
        dynamic ones), as in the spec's "Labels (emission order)" column.  ``needs``: see
        ``Family.needs`` (the function must return no sample when that path is absent or null).
        """
        def register(fn: FamilyFn) -> FamilyFn:
            self.families.append(Family(name, help, type, stability, lambda _allow: fn, opt_in, deprecated,
                                        labels, needs))
            return fn
        return register

    def family_with_allowlists(
        self, name: str, help: str, type: str = GAUGE, stability: str = STABLE, *,
        labels: tuple[str, ...] | None = None,
    ) -> Callable[[Callable[[Allowlists], FamilyFn]], Callable[[Allowlists], FamilyFn]]:
        """Register a family built from the resource's allowlists (``_labels``/``_annotations``)."""
        def register(build: Callable[[Allowlists], FamilyFn]) -> Callable[[Allowlists], FamilyFn]:
            self.families.append(Family(name, help, type, stability, build, labels=labels))
            return build
        return register

    @property
    def identity_label_names(self) -> tuple[str, ...]:
        return tuple(label for label, _ in self.identity)

    def identity_labels(self, obj: Body) -> list[tuple[str, str]]:
        out = []
        for label, get in self.identity:
            try:
                value = get(obj)
            except (AttributeError, TypeError, KeyError, IndexError):
                value = ""
            out.append((label, value if isinstance(value, str) else ""))
        return out
