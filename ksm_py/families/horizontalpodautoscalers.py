"""autoscaling/v2 HorizontalPodAutoscaler (KSM ``internal/store/horizontalpodautoscaler.go``)."""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from ..gocompat.quantity import approximate_float64
from ..metric import ALPHA, STABLE
from ._dsl import NAME, NAMESPACE, Body, Resource, Samples
from ._helpers import (
    annotations_family,
    condition_samples,
    created,
    deletion_timestamp,
    dig,
    field,
    labels_family,
    metadata_generation,
    quantity_float,
)

horizontalpodautoscalers = Resource(
    "horizontalpodautoscalers", group="autoscaling", version="v2", kind="HorizontalPodAutoscaler", namespaced=True,
    identity=[("namespace", NAMESPACE), ("horizontalpodautoscaler", NAME)])
family = horizontalpodautoscalers.family


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
        yield (), approximate_float64(tolerance)


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
