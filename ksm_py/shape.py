"""What a resource's families read of its objects, so the rest is skipped while the JSON is parsed.

Most of a pod's JSON is read by no family: managedFields, the containers' env, probes and volume
mounts, the projected service account volume.  A ``Shape`` names the fields that are read, as
nested dicts: ``ANY`` keeps a field whole, a dict keeps some fields of an object, ``[dict]`` some
fields of each object of an array.  ``Decoders`` parse a LIST page or a watch event into the same
plain dicts and lists orjson gives, with only those fields: msgspec skips the others in C without
making a Python object of them.  A document the shape does not fit (an array where an object
should be, an item that is not an object) makes them give up with None, and the caller parses it
whole, as before: the checks for malformed objects stay where they are.
"""

from __future__ import annotations

from typing import Any, Mapping, TypedDict

import msgspec
import orjson

# A field kept whole, whatever it holds.
ANY: Any = "*"

Shape = Mapping[str, Any]


def fields(*names: str) -> Shape:
    """These fields, each whole."""
    return dict.fromkeys(names, ANY)


# Every field of ObjectMeta (k8s.io/apimachinery meta/v1) but managedFields, which no family reads.
OBJECT_META: Shape = fields(
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation", "creationTimestamp",
    "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers")


def object_shape(spec: Any = ANY, status: Any = ANY) -> Shape:
    """An object's metadata (but managedFields), and the given fields of its spec and status."""
    return {"metadata": OBJECT_META, "spec": spec, "status": status}


_MISFITS = (msgspec.ValidationError, msgspec.DecodeError)
_OBJECT_EVENTS = frozenset({"ADDED", "MODIFIED", "DELETED"})


def _type(shape: Any, name: str) -> Any:
    if shape is ANY:
        return Any
    if isinstance(shape, list):
        (item,) = shape
        return list[_type(item, name)] | None  # type: ignore[misc]
    fields = {key: _type(sub, f"{name}_{key}") for key, sub in shape.items()}
    # A type made at run time, for msgspec: an object of these fields (any of them may be absent).
    return TypedDict(name, fields, total=False) | None  # type: ignore[operator]  # noqa: UP013


class Decoders:
    """A shape's parsers for LIST pages and watch events (None: the shape does not fit)."""

    def __init__(self, shape: Shape, name: str = "Object") -> None:
        self.shape = shape
        obj = _type(dict(shape), name)
        page = TypedDict(f"{name}List", {"metadata": Any, "items": list[obj] | None}, total=False)  # type: ignore[misc, valid-type]  # noqa: UP013
        event = TypedDict(f"{name}Event", {"type": Any, "object": obj}, total=False)  # type: ignore[misc]  # noqa: UP013
        self._page: msgspec.json.Decoder[Any] = msgspec.json.Decoder(page)
        self._event: msgspec.json.Decoder[Any] = msgspec.json.Decoder(event)

    def page(self, raw: bytes) -> dict[str, Any] | None:
        try:
            return self._page.decode(raw)
        except _MISFITS:
            return None

    def items(self, objs: list[Any]) -> list[Any] | None:
        """Objects already parsed (``ksm-py render``'s files), as a LIST page of them would come
        out of ``page``; None if they are not plain JSON (YAML's dates) or the shape does not fit."""
        try:
            raw = orjson.dumps({"items": objs}, option=orjson.OPT_PASSTHROUGH_DATETIME)
        except TypeError:
            return None
        page = self.page(raw)
        return None if page is None else page["items"]

    def event(self, raw: bytes) -> dict[str, Any] | None:
        """An ADDED, MODIFIED or DELETED event; None for the others too (an ERROR's object is a
        Status, a BOOKMARK's carries an annotation: they are rare and parsed whole)."""
        try:
            event = self._event.decode(raw)
        except _MISFITS:
            return None
        return event if event.get("type") in _OBJECT_EVENTS else None


_DECODERS: dict[int, Decoders] = {}


def decoders(shape: Shape) -> Decoders:
    """The decoders of a shape, made once (shapes are module constants of the resources)."""
    made = _DECODERS.get(id(shape))
    if made is None or made.shape is not shape:
        made = _DECODERS[id(shape)] = Decoders(shape)
    return made
