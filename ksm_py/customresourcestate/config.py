"""The Custom Resource State configuration (``kind: CustomResourceStateMetrics``) and its compilation.

Decoding follows upstream's ``yaml.v3`` into Go structs: unknown keys are ignored, scalars are
read as their text (``version: 1.10`` is the string ``"1.10"``), booleans accept the YAML 1.1
spellings, and a value of the wrong shape (a string where a list is expected) is an error.
``each.type`` is case-insensitive (``Gauge``, ``StateSet``, ``Info``).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from typing import Any, Iterator

import yaml

from ..families._helpers import sanitize_label_name
from ..metric import GAUGE, INFO, STATESET
from .paths import PathError, ValuePath
from .values import ValueError_, go_sprint, to_float64

DEFAULT_PREFIX = "kube_customresource"
RESERVED = "customresource"


class ConfigError(ValueError):
    """The configuration cannot be decoded or compiled."""


# -- decoding ----------------------------------------------------------------------------------

class _Loader(yaml.SafeLoader):
    """Only ``null`` is resolved implicitly: every other plain scalar stays text, like yaml.v3
    decoding into string fields."""


_Loader.yaml_implicit_resolvers = {}
_Loader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])
_Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"),
                              ["~", "n", "N", ""])

_TRUE = {"true", "True", "TRUE", "y", "Y", "yes", "Yes", "YES", "on", "On", "ON"}
_FALSE = {"false", "False", "FALSE", "n", "N", "no", "No", "NO", "off", "Off", "OFF"}


def _where(path: str) -> str:
    return path or "document"


def _str(v: Any, path: str) -> str:
    if v is None:
        return ""
    if isinstance(v, (dict, list)):
        raise ConfigError(f"{_where(path)}: expected a string, got a {'mapping' if isinstance(v, dict) else 'list'}")
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _bool(v: Any, path: str) -> bool:
    if v is None:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        if v in _TRUE:
            return True
        if v in _FALSE:
            return False
    raise ConfigError(f"{path}: expected true or false, got {v!r}")


def _int(v: Any, path: str) -> int:
    if v is None:
        return 0
    try:
        return int(str(v), 0)
    except ValueError:
        raise ConfigError(f"{path}: expected an integer, got {v!r}") from None


def _map(v: Any, path: str) -> dict[str, Any]:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise ConfigError(f"{_where(path)}: expected a mapping, got {type(v).__name__}")
    return {_str(k, path): val for k, val in v.items()}


def _list(v: Any, path: str) -> list[Any]:
    if v is None:
        return []
    if not isinstance(v, list):
        raise ConfigError(f"{path}: expected a list, got {type(v).__name__}")
    return v


def _str_list(v: Any, path: str) -> list[str]:
    return [_str(x, f"{path}[{i}]") for i, x in enumerate(_list(v, path))]


def _str_map(v: Any, path: str) -> dict[str, str]:
    return {k: _str(val, f"{path}.{k}") for k, val in _map(v, path).items()}


def _paths_map(v: Any, path: str) -> dict[str, list[str]]:
    return {k: _str_list(val, f"{path}.{k}") for k, val in _map(v, path).items()}


@dataclasses.dataclass
class Labels:
    common_labels: dict[str, str] = dataclasses.field(default_factory=dict)
    labels_from_path: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    @classmethod
    def decode(cls, d: dict[str, Any], path: str) -> Labels:
        return cls(_str_map(d.get("commonLabels"), f"{path}.commonLabels"),
                   _paths_map(d.get("labelsFromPath"), f"{path}.labelsFromPath"))

    def merge(self, other: Labels) -> Labels:
        """Upstream ``Labels.Merge``: ``other`` wins on the same key."""
        return Labels({**self.common_labels, **other.common_labels},
                      {**self.labels_from_path, **other.labels_from_path})


@dataclasses.dataclass
class MetricSpec:
    """``each``: the metric type and its type-specific block (None when absent)."""

    type: str
    gauge: dict[str, Any] | None
    state_set: dict[str, Any] | None
    info: dict[str, Any] | None


@dataclasses.dataclass
class Generator:
    name: str
    help: str
    each: MetricSpec
    labels: Labels
    error_log_v: int = 0


@dataclasses.dataclass
class GroupVersionKind:
    group: str
    version: str
    kind: str

    def __str__(self) -> str:
        return f"{self.group}_{self.version}_{self.kind}"


@dataclasses.dataclass
class ResourceConfig:
    group_version_kind: GroupVersionKind
    labels: Labels
    metric_name_prefix: str | None = None
    resource_plural: str = ""
    metrics: list[Generator] = dataclasses.field(default_factory=list)
    error_log_v: int = 0

    @property
    def prefix(self) -> str:
        return DEFAULT_PREFIX if self.metric_name_prefix is None else self.metric_name_prefix


def _decode_each(v: Any, path: str) -> MetricSpec:
    d = _map(v, path)

    def block(key: str) -> dict[str, Any] | None:
        return None if d.get(key) is None else _map(d[key], f"{path}.{key}")
    return MetricSpec(_str(d.get("type"), f"{path}.type").lower(), block("gauge"), block("stateSet"), block("info"))


def _decode_generator(v: Any, path: str) -> Generator:
    d = _map(v, path)
    return Generator(name=_str(d.get("name"), f"{path}.name"), help=_str(d.get("help"), f"{path}.help"),
                     each=_decode_each(d.get("each"), f"{path}.each"), labels=Labels.decode(d, path),
                     error_log_v=_int(d.get("errorLogV"), f"{path}.errorLogV"))


def _decode_resource(v: Any, path: str) -> ResourceConfig:
    d = _map(v, path)
    gvk = _map(d.get("groupVersionKind"), f"{path}.groupVersionKind")
    prefix = d.get("metricNamePrefix")
    return ResourceConfig(
        group_version_kind=GroupVersionKind(_str(gvk.get("group"), f"{path}.groupVersionKind.group"),
                                            _str(gvk.get("version"), f"{path}.groupVersionKind.version"),
                                            _str(gvk.get("kind"), f"{path}.groupVersionKind.kind")),
        labels=Labels.decode(d, path),
        metric_name_prefix=None if prefix is None else _str(prefix, f"{path}.metricNamePrefix"),
        resource_plural=_str(d.get("resourcePlural"), f"{path}.resourcePlural"),
        metrics=[_decode_generator(m, f"{path}.metrics[{i}]")
                 for i, m in enumerate(_list(d.get("metrics"), f"{path}.metrics"))],
        error_log_v=_int(d.get("errorLogV"), f"{path}.errorLogV"),
    )


def parse(text: str) -> list[ResourceConfig]:
    """Decode the first YAML document; ``spec.resources`` in order. Raises ConfigError."""
    try:
        docs = yaml.load_all(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
        doc = next(iter(docs), None)
    except yaml.YAMLError as e:
        raise ConfigError(f"failed to parse Custom Resource State metrics: {e}") from None
    if doc is None:
        raise ConfigError("failed to parse Custom Resource State metrics: EOF (the configuration is empty)")
    top = _map(doc, "")
    spec = _map(top.get("spec"), "spec")
    resources = [_decode_resource(r, f"spec.resources[{i}]")
                 for i, r in enumerate(_list(spec.get("resources"), "spec.resources"))]
    for r in resources:
        compile_resource(r, r.group_version_kind)  # report compile errors at start-up
    return resources


# -- compilation (upstream custom_resource_metrics.go / registry_factory.go) ------------------

@dataclasses.dataclass
class EachValue:
    labels: dict[str, str]
    value: float


def add_path_labels(obj: Any, labels: dict[str, ValuePath], result: dict[str, str]) -> None:
    """Labels whose values come from paths; ``*``-prefixed/suffixed keys copy a whole map first."""
    stars = sorted(k for k in labels if k.startswith("*") or k.endswith("*"))
    for star in stars:
        m = labels[star].get(obj)
        if isinstance(m, dict):
            for k, v in m.items():
                if star.endswith("*"):
                    k = star[:-1] + k
                result[sanitize_label_name(k)] = go_sprint(v)
    for k, p in labels.items():
        if k.startswith("*") or k.endswith("*"):
            continue
        value = p.get(obj)
        if value is None:
            continue
        result[sanitize_label_name(k)] = go_sprint(value)


def _compile_paths(paths: dict[str, list[str]], where: str) -> dict[str, ValuePath]:
    out = {}
    for k, v in paths.items():
        try:
            out[k] = ValuePath(v)
        except PathError as e:
            raise ConfigError(f"{where}: {k}: {e}") from None
    return out


def _compile_path(parts: list[str], where: str) -> ValuePath:
    try:
        return ValuePath(parts)
    except PathError as e:
        raise ConfigError(f"{where}: {e}") from None


class CompiledMetric:
    type: str

    def __init__(self, block: dict[str, Any], where: str) -> None:
        self.path = _compile_path(_str_list(block.get("path"), f"{where}.path"), f"{where}: path")
        self.label_from_path = _compile_paths(_paths_map(block.get("labelsFromPath"), f"{where}.labelsFromPath"),
                                              f"{where}: labelsFromPath")

    def values(self, v: Any) -> list[EachValue]:
        raise NotImplementedError


class CompiledGauge(CompiledMetric):
    type = GAUGE

    def __init__(self, block: dict[str, Any], where: str) -> None:
        super().__init__(block, where)
        self.label_from_key = _str(block.get("labelFromKey"), f"{where}.labelFromKey")
        self.value_from = _compile_path(_str_list(block.get("valueFrom"), f"{where}.valueFrom"),
                                        f"{where}.valueFrom")
        self.nil_is_zero = _bool(block.get("nilIsZero"), f"{where}.nilIsZero")
        # A one-part valueFrom also matches a map key directly (upstream's "[...]" string check).
        s = str(self.value_from)
        self.key_value_from = s[1:-1] if "," not in s and len(s) > 2 else None

    def value(self, it: Any) -> EachValue | None:
        got = self.value_from.get(it)
        if got is None:
            if self.nil_is_zero:
                return EachValue({}, 0.0)
            if it is None:
                raise ValueError_("got nil while resolving path")
            return None
        return EachValue({}, to_float64(got, self.nil_is_zero))

    def values(self, v: Any) -> list[EachValue]:
        result: list[EachValue] = []
        if isinstance(v, dict):
            for key, it in v.items():
                ev: EachValue | None = None
                if self.key_value_from is not None and key == self.key_value_from:
                    try:
                        ev = EachValue({}, to_float64(it, self.nil_is_zero))
                    except ValueError_:
                        continue
                else:
                    try:
                        ev = self.value(it)
                    except ValueError_:
                        ev = None
                    if ev is None:
                        continue
                if key != "" and self.label_from_key:
                    ev.labels[self.label_from_key] = key
                add_path_labels(it, self.label_from_path, ev.labels)
                add_path_labels(v, self.label_from_path, ev.labels)
                result.append(ev)
        elif isinstance(v, list):
            for it in v:
                try:
                    item = self.value(it)
                except ValueError_:
                    continue
                if item is None:
                    continue
                add_path_labels(it, self.label_from_path, item.labels)
                result.append(item)
        else:
            try:
                single = self.value(v)
            except ValueError_:
                return result
            if single is not None:
                add_path_labels(v, self.label_from_path, single.labels)
                result.append(single)
        return result


class CompiledInfo(CompiledMetric):
    type = INFO

    def __init__(self, block: dict[str, Any], where: str) -> None:
        super().__init__(block, where)
        self.label_from_key = _str(block.get("labelFromKey"), f"{where}.labelFromKey")

    def _values(self, v: Any) -> list[EachValue]:
        if v is None:
            return []
        ev = EachValue({}, 1.0)
        add_path_labels(v, self.label_from_path, ev.labels)
        return [ev] if ev.labels else []

    def values(self, v: Any) -> list[EachValue]:
        if isinstance(v, list):
            return [ev for obj in v for ev in self._values(obj)]
        if isinstance(v, dict):
            whole = self._values(v)
            result = []
            for key, it in v.items():
                labels: dict[str, str] = {}
                if key != "" and self.label_from_key:
                    labels[self.label_from_key] = key
                add_path_labels(it, self.label_from_path, labels)
                if labels:
                    result.append(EachValue(labels, 1.0))
            return result + whole
        return self._values(v)


class CompiledStateSet(CompiledMetric):
    type = STATESET

    def __init__(self, block: dict[str, Any], where: str) -> None:
        super().__init__(block, where)
        self.label_name = _str(block.get("labelName"), f"{where}.labelName")
        self.list = _str_list(block.get("list"), f"{where}.list")
        self.value_from = _compile_path(_str_list(block.get("valueFrom"), f"{where}.valueFrom"),
                                        f"{where}.valueFrom")

    def _values(self, v: Any) -> list[EachValue]:
        comparable = self.value_from.get(v)
        if comparable is None or not isinstance(comparable, str):
            return []
        result = []
        for entry in self.list:
            labels = {self.label_name: entry}
            add_path_labels(v, self.label_from_path, labels)
            result.append(EachValue(labels, 1.0 if comparable == entry else 0.0))
        return result

    def values(self, v: Any) -> list[EachValue]:
        if isinstance(v, list):
            return [ev for obj in v for ev in self._values(obj)]
        return self._values(v)


def _compile_metric(each: MetricSpec, where: str) -> CompiledMetric:
    kinds: dict[str, tuple[str, dict[str, Any] | None, type[CompiledMetric]]] = {
        GAUGE: ("gauge", each.gauge, CompiledGauge), INFO: ("info", each.info, CompiledInfo),
        STATESET: ("stateSet", each.state_set, CompiledStateSet)}
    if each.type not in kinds:
        raise ConfigError(f"{where}: compiling metric: unknown metric type {each.type}")
    key, block, cls = kinds[each.type]
    if block is None:
        raise ConfigError(f"{where}: compiling metric: expected each.{key} to not be nil")
    return cls(block, f"{where}.each.{key}")


def _compare(a: str, b: str) -> int:
    return (a > b) - (a < b)


def compare_labels(a: dict[str, str], b: dict[str, str]) -> int:
    """Upstream ``compareLabels``: sorted keys, key then value, then the number of labels."""
    ak, bk = sorted(a), sorted(b)
    for i in range(min(len(ak), len(bk))):
        c = _compare(ak[i], bk[i]) or _compare(a[ak[i]], b[bk[i]])
        if c:
            return c
    return len(ak) - len(bk)


def _compare_values(x: EachValue, y: EachValue) -> int:
    return compare_labels(x.labels, y.labels)


_BY_LABELS = functools.cmp_to_key(_compare_values)


@dataclasses.dataclass
class CompiledFamily:
    name: str
    help: str
    each: CompiledMetric
    labels: dict[str, str]
    label_from_path: dict[str, ValuePath]

    @property
    def type(self) -> str:
        return self.each.type

    def generate(self, obj: Any) -> Iterator[tuple[list[tuple[str, str]], float]]:
        """Series of one object: labels sorted by name, series sorted like upstream."""
        base = dict(self.labels)
        add_path_labels(obj, self.label_from_path, base)
        values = self.each.values(self.each.path.get(obj))
        values.sort(key=_BY_LABELS)
        for ev in values:
            labels = {**base, **ev.labels}
            yield sorted(labels.items()), ev.value


def full_name(resource: ResourceConfig, generator: Generator) -> str:
    return f"{resource.prefix}_{generator.name}" if resource.prefix else generator.name


def compile_resource(resource: ResourceConfig, gvk: GroupVersionKind) -> list[CompiledFamily]:
    """The families of one resolved resource; every series carries the ``customresource_*`` labels."""
    common = {**resource.labels.common_labels, f"{RESERVED}_group": gvk.group, f"{RESERVED}_version": gvk.version,
              f"{RESERVED}_kind": gvk.kind}
    resource_labels = Labels(common, resource.labels.labels_from_path)
    families = []
    for i, g in enumerate(resource.metrics):
        where = f"{g.name or f'metrics[{i}]'}"
        labels = resource_labels.merge(g.labels)
        each = _compile_metric(g.each, where)
        families.append(CompiledFamily(full_name(resource, g), g.help, each, labels.common_labels,
                                       _compile_paths(labels.labels_from_path, f"{where}: labelsFromPath")))
    return families
