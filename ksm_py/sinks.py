"""What a list/watch feeds (``Sink``), and the one way to replace a sink's content on a relist.

A reflector calls ``upsert``/``delete`` per watch event; after a (re)list it builds the new
content with ``replacement()``, ``add`` per listed object, then ``commit``: objects deleted while
the watch was down disappear, and the old content is served until the commit.
"""

from __future__ import annotations

from typing import Callable, Generic, Protocol, TypeVar

from .body import Body

K = TypeVar("K")
V = TypeVar("V")


class Replacement(Protocol):
    def add(self, obj: Body) -> None: ...
    def commit(self) -> None: ...


class Sink(Protocol):
    """What a reflector feeds: a metrics store, a topology sink, the CRD watch of Custom Resource State."""

    def upsert(self, obj: Body) -> None: ...
    def delete(self, obj: Body) -> None: ...
    def replacement(self) -> Replacement: ...


class Collect(Generic[K, V]):
    """The one ``Replacement``: ``prepare`` turns each listed object into (key, value) as it comes
    (render it, derive its record...), ``install`` takes the whole new content on ``commit``."""

    __slots__ = ("prepare", "install", "items")

    def __init__(self, prepare: Callable[[Body], tuple[K, V]], install: Callable[[dict[K, V]], None]) -> None:
        self.prepare = prepare
        self.install = install
        self.items: dict[K, V] = {}

    def add(self, obj: Body) -> None:
        key, value = self.prepare(obj)
        self.items[key] = value

    def commit(self) -> None:
        self.install(self.items)
