"""autoscaling/v2 HorizontalPodAutoscaler (KSM ``internal/store/horizontalpodautoscaler.go``)."""

from __future__ import annotations

import math
import re
from typing import Any, Iterator, Mapping

from ..metric import ALPHA, STABLE
from ._dsl import NAME, NAMESPACE, Body, Resource, Samples
from ._helpers import (
    MAX_INT64,
    annotations_family,
    condition_samples,
    created,
    deletion_timestamp,
    dig,
    field,
    labels_family,
    metadata_generation,
    quantity,
    quantity_float,
)

horizontalpodautoscalers = Resource(
    "horizontalpodautoscalers", group="autoscaling", version="v2", kind="HorizontalPodAutoscaler", namespaced=True,
    identity=[("namespace", NAMESPACE), ("horizontalpodautoscaler", NAME)])
family = horizontalpodautoscalers.family


# -- Quantity.AsApproximateFloat64 --------------------------------------------------------------
# Only the HPA tolerances use it. It is not the exact value: it multiplies the parsed mantissa by
# math.Pow10(scale), so it depends on how ParseQuantity stored the number (int64 fast path or
# inf.Dec rounded up to nano), e.g. "0.3" gives 0.30000000000000004.

_POW10 = [float(f"1e{i}") for i in range(32)]
_POW10_POS32 = [float(f"1e{32 * i}") for i in range(10)]
_POW10_NEG32 = [float(f"1e-{32 * i}") for i in range(11)]
_DEC_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BIN_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_SPLIT = re.compile(r"^([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)$")
_NANO = -9
_MAX_INT64_FACTORS = 18


def go_pow10(n: int) -> float:
    """Go ``math.Pow10``, built from the same tables so the rounding matches."""
    if 0 <= n <= 308:
        return _POW10_POS32[n // 32] * _POW10[n % 32]
    if -323 <= n <= 0:
        return _POW10_NEG32[-n // 32] / _POW10[-n % 32]
    return math.inf if n > 0 else 0.0


def _float(i: int) -> float:
    try:
        return float(i)
    except OverflowError:
        return math.inf if i > 0 else -math.inf


def approximate_float(s: Any) -> float:
    """``resource.Quantity.AsApproximateFloat64`` of the quantity as ``ParseQuantity`` stores it."""
    text = str(s).strip()
    if text == "0":
        return 0.0
    exact = quantity(text)  # validates the syntax
    m = _SPLIT.match(text)
    if m is None:
        raise ValueError(f"invalid quantity {s!r}")
    sign, int_part, frac, suffix = m.groups()
    num = int_part.lstrip("0") or "0"
    denom = frac or ""
    binary = suffix in _BIN_SUFFIXES
    mantissa = 1
    if binary:
        exponent, scale = _BIN_SUFFIXES[suffix], 0
        if not denom:
            mantissa = 1 << exponent
            precision = 15 - len(num) - exponent * 3 // 10 - 1
        else:
            precision = -1
    else:
        exponent = _DEC_SUFFIXES[suffix] if suffix in _DEC_SUFFIXES else int(suffix[1:])
        scale, precision = exponent, _MAX_INT64_FACTORS - len(num) - len(denom)
    if precision >= 0:
        scale -= len(denom)
        if scale >= _NANO:
            result = int(num + denom) * mantissa
            if result <= MAX_INT64:
                base = float(-result if sign == "-" else result)
                return base if scale == 0 else base * go_pow10(scale)
    # inf.Dec path: magnitude rounded up to nano (scale 9); binary values capped at MaxInt64.
    magnitude = abs(exact)
    if magnitude == 0:
        return 0.0
    if binary and magnitude > MAX_INT64:
        unscaled, dec_scale = MAX_INT64, 0
    else:
        scaled = magnitude * 10**9
        unscaled, dec_scale = -((-scaled.numerator) // scaled.denominator), 9
    base = _float(-unscaled if exact < 0 else unscaled)
    return base if dec_scale == 0 else base * go_pow10(-dec_scale)


# -- families -----------------------------------------------------------------------------------

@family("kube_horizontalpodautoscaler_info", "Information about this autoscaler.", stability=ALPHA,
        labels=("scaletargetref_api_version", "scaletargetref_kind", "scaletargetref_name"))
def info(a: Body) -> Samples:
    ref = dig(a, "spec", "scaleTargetRef") or {}
    labels = [("scaletargetref_kind", ref.get("kind") or ""), ("scaletargetref_name", ref.get("name") or "")]
    if ref.get("apiVersion"):
        labels.insert(0, ("scaletargetref_api_version", ref["apiVersion"]))
    yield labels, 1


family("kube_horizontalpodautoscaler_metadata_generation",
       "The generation observed by the HorizontalPodAutoscaler controller.", labels=())(metadata_generation)
family("kube_horizontalpodautoscaler_spec_max_replicas",
       "Upper limit for the number of pods that can be set by the autoscaler; cannot be smaller than MinReplicas.",
       labels=())(
    field("spec", "maxReplicas"))
family("kube_horizontalpodautoscaler_spec_min_replicas",
       "Lower limit for the number of pods that can be set by the autoscaler, default 1.", labels=())(
    field("spec", "minReplicas", default=1))

# Metric source type -> (field holding the source, whether the name is under ``metric``).
_SOURCES = {
    "Object": ("object", True),
    "Pods": ("pods", True),
    "Resource": ("resource", False),
    "ContainerResource": ("containerResource", False),
    "External": ("external", True),
}


def _target_metrics(metrics: Any, value_key: str) -> Iterator[tuple[list[tuple[str, str]], float]]:
    for m in metrics or []:
        kind = m.get("type")
        if kind not in _SOURCES:
            continue
        key, named_metric = _SOURCES[kind]
        source: Mapping[str, Any] | None = m.get(key)
        # status.currentMetrics is not validated, so the source for the type may be missing;
        # spec.metrics is validated and would panic upstream, so both just skip the entry.
        if source is None:
            continue
        name = dig(source, "metric", "name") if named_metric else source.get("name")
        container = source.get("container") or "" if kind == "ContainerResource" else ""
        target = source.get(value_key) or {}
        # Upstream collects these in a Go map, so their order within one metric is random.
        values: list[tuple[str, float]] = []
        if target.get("value") is not None:
            values.append(("value", quantity_float(target["value"])))
        if target.get("averageUtilization") is not None:
            values.append(("utilization", target["averageUtilization"]))
        if target.get("averageValue") is not None:
            values.append(("average", quantity_float(target["averageValue"])))
        for target_type, v in values:
            yield [("metric_name", name or ""), ("metric_target_type", target_type), ("container", container)], v


@family("kube_horizontalpodautoscaler_spec_target_metric",
        "The metric specifications used by this autoscaler when calculating the desired replica count.",
        stability=ALPHA, labels=("metric_name", "metric_target_type", "container"))
def spec_target_metric(a: Body) -> Samples:
    return _target_metrics(dig(a, "spec", "metrics"), "target")


def _tolerance(a: Body, direction: str) -> Samples:
    tolerance = dig(a, "spec", "behavior", direction, "tolerance")
    if tolerance is not None:
        yield (), approximate_float(tolerance)


@family("kube_horizontalpodautoscaler_spec_behavior_scale_down_tolerance",
        "The tolerance on the ratio between the current and desired metric value below which no scale down occurs.",
        stability=ALPHA, labels=())
def spec_behavior_scale_down_tolerance(a: Body) -> Samples:
    return _tolerance(a, "scaleDown")


@family("kube_horizontalpodautoscaler_spec_behavior_scale_up_tolerance",
        "The tolerance on the ratio between the current and desired metric value below which no scale up occurs.",
        stability=ALPHA, labels=())
def spec_behavior_scale_up_tolerance(a: Body) -> Samples:
    return _tolerance(a, "scaleUp")


@family("kube_horizontalpodautoscaler_status_target_metric",
        "The current metric status used by this autoscaler when calculating the desired replica count.",
        labels=("metric_name", "metric_target_type", "container"))
def status_target_metric(a: Body) -> Samples:
    return _target_metrics(dig(a, "status", "currentMetrics"), "current")


family("kube_horizontalpodautoscaler_status_current_replicas",
       "Current number of replicas of pods managed by this autoscaler.", labels=())(field("status", "currentReplicas"))
family("kube_horizontalpodautoscaler_status_desired_replicas",
       "Desired number of replicas of pods managed by this autoscaler.", labels=())(field("status", "desiredReplicas"))
annotations_family(horizontalpodautoscalers, "horizontalpodautoscaler", ALPHA)
labels_family(horizontalpodautoscalers, "horizontalpodautoscaler", STABLE)


@family("kube_horizontalpodautoscaler_status_condition", "The condition of this autoscaler.",
        labels=("condition", "status"))
def status_condition(a: Body) -> Samples:
    for c in dig(a, "status", "conditions") or []:
        yield from condition_samples(c.get("status"), [("condition", c.get("type") or "")])


family("kube_horizontalpodautoscaler_created", "Unix creation timestamp", stability=ALPHA, labels=())(created)
family("kube_horizontalpodautoscaler_deletion_timestamp", "Unix deletion timestamp", stability=ALPHA, labels=())(
    deletion_timestamp)
