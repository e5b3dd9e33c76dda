"""kube_node_* families (upstream node_test.go, plus edge cases), and the shared resource-unit and
quantity helpers that node capacity/allocatable and pod requests/limits rely on."""

from __future__ import annotations

import pytest

from ksm_py.families import RESOURCES
from ksm_py.families._helpers import (
    is_extended_resource,
    quantity_float,
    quantity_milli,
    quantity_value,
    resource_units,
)

from ._util import Case, check

HEADERS = """
    # HELP kube_node_annotations Kubernetes annotations converted to Prometheus labels.
    # TYPE kube_node_annotations gauge
    # HELP kube_node_created [STABLE] Unix creation timestamp
    # TYPE kube_node_created gauge
    # HELP kube_node_deletion_timestamp Unix deletion timestamp
    # TYPE kube_node_deletion_timestamp gauge
    # HELP kube_node_info [STABLE] Information about a cluster node.
    # TYPE kube_node_info gauge
    # HELP kube_node_labels [STABLE] Kubernetes labels converted to Prometheus labels.
    # TYPE kube_node_labels gauge
    # HELP kube_node_role The role of a cluster node.
    # TYPE kube_node_role gauge
    # HELP kube_node_spec_pod_cidrs The pod CIDRs of a cluster node.
    # TYPE kube_node_spec_pod_cidrs gauge
    # HELP kube_node_spec_taint [STABLE] The taint of a cluster node.
    # TYPE kube_node_spec_taint gauge
    # HELP kube_node_spec_unschedulable [STABLE] Whether a node can schedule new pods.
    # TYPE kube_node_spec_unschedulable gauge
    # HELP kube_node_status_allocatable [STABLE] The allocatable for different resources of a node that are available for scheduling.
    # TYPE kube_node_status_allocatable gauge
    # HELP kube_node_status_capacity [STABLE] The capacity for different resources of a node.
    # TYPE kube_node_status_capacity gauge
    # HELP kube_node_status_condition [STABLE] The condition of a cluster node.
    # TYPE kube_node_status_condition gauge
    # HELP kube_node_status_addresses Node address information.
    # TYPE kube_node_status_addresses gauge
"""

CASES = [
    Case(
        id="empty-node-has-info-and-unschedulable-only",
        obj={"metadata": {"name": ""}},
        want=HEADERS + """
            kube_node_info{node="",kernel_version="",os_image="",container_runtime_version="",kubelet_version="",kubeproxy_version="deprecated",provider_id="",pod_cidr="",system_uuid="",internal_ip=""} 1
            kube_node_spec_unschedulable{node=""} 0
        """,
    ),
    Case(
        id="full-node",
        obj={
            "metadata": {"name": "n1", "creationTimestamp": "2017-07-14T02:40:00Z",
                         "deletionTimestamp": "2017-08-01T06:30:18Z",
                         "labels": {"node-role.kubernetes.io/master": "", "node-role.kubernetes.io/": "",
                                    "kubernetes.io/os": "linux"},
                         "annotations": {"team": "infra"}},
            "spec": {"podCIDR": "10.0.0.0/24", "podCIDRs": ["10.0.0.0/24", "fd00::/64"],
                     "providerID": "aws://i-1", "unschedulable": True,
                     "taints": [{"key": "k1", "value": "v1", "effect": "NoSchedule"},
                                {"key": "k2", "effect": "NoExecute"}]},
            "status": {
                "nodeInfo": {"kernelVersion": "5.10", "osImage": "os", "containerRuntimeVersion": "containerd://1",
                             "kubeletVersion": "v1.36.0", "kubeProxyVersion": "ignored", "systemUUID": "u-1"},
                "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}, {"type": "Hostname", "address": "n1"},
                              {"type": "InternalIP", "address": "10.0.0.2"}],
                "capacity": {"cpu": "4300m", "memory": "2Gi", "pods": "110", "hugepages-2Mi": "1Gi",
                             "attachable-volumes-aws-ebs": "39", "nvidia.com/gpu": "4",
                             "kubernetes.io/native": "1", "example.com/Bad_": "1"},
                "allocatable": {"cpu": "3500m", "ephemeral-storage": "1.5Ki", "storage": "10P", "pods": "1k"},
                "conditions": [{"type": "Ready", "status": "True"}, {"type": "KernelDeadlock", "status": "Unknown"}],
            },
        },
        want=HEADERS + """
            kube_node_created{node="n1"} 1.5e+09
            kube_node_deletion_timestamp{node="n1"} 1.501569018e+09
            kube_node_info{node="n1",kernel_version="5.10",os_image="os",container_runtime_version="containerd://1",kubelet_version="v1.36.0",kubeproxy_version="deprecated",provider_id="aws://i-1",pod_cidr="10.0.0.0/24",system_uuid="u-1",internal_ip="10.0.0.2"} 1
            kube_node_role{node="n1",role="master"} 1
            kube_node_role{node="n1",role=""} 1
            kube_node_spec_pod_cidrs{node="n1",pod_cidr="10.0.0.0/24"} 1
            kube_node_spec_pod_cidrs{node="n1",pod_cidr="fd00::/64"} 1
            kube_node_spec_taint{node="n1",key="k1",value="v1",effect="NoSchedule"} 1
            kube_node_spec_taint{node="n1",key="k2",value="",effect="NoExecute"} 1
            kube_node_spec_unschedulable{node="n1"} 1
            kube_node_status_allocatable{node="n1",resource="cpu",unit="core"} 3.5
            kube_node_status_allocatable{node="n1",resource="ephemeral_storage",unit="byte"} 1536
            kube_node_status_allocatable{node="n1",resource="storage",unit="byte"} 1e+16
            kube_node_status_allocatable{node="n1",resource="pods",unit="integer"} 1000
            kube_node_status_capacity{node="n1",resource="cpu",unit="core"} 4.3
            kube_node_status_capacity{node="n1",resource="memory",unit="byte"} 2.147483648e+09
            kube_node_status_capacity{node="n1",resource="pods",unit="integer"} 110
            kube_node_status_capacity{node="n1",resource="hugepages_2Mi",unit="byte"} 1.073741824e+09
            kube_node_status_capacity{node="n1",resource="attachable_volumes_aws_ebs",unit="byte"} 39
            kube_node_status_capacity{node="n1",resource="nvidia_com_gpu",unit="integer"} 4
            kube_node_status_condition{node="n1",condition="Ready",status="true"} 1
            kube_node_status_condition{node="n1",condition="Ready",status="false"} 0
            kube_node_status_condition{node="n1",condition="Ready",status="unknown"} 0
            kube_node_status_condition{node="n1",condition="KernelDeadlock",status="true"} 0
            kube_node_status_condition{node="n1",condition="KernelDeadlock",status="false"} 0
            kube_node_status_condition{node="n1",condition="KernelDeadlock",status="unknown"} 1
            kube_node_status_addresses{node="n1",type="InternalIP",address="10.0.0.1"} 1
            kube_node_status_addresses{node="n1",type="Hostname",address="n1"} 1
            kube_node_status_addresses{node="n1",type="InternalIP",address="10.0.0.2"} 1
        """,
    ),
    Case(
        id="fractional-node-resources-use-milli-value",
        obj={"metadata": {"name": "n2"},
             "status": {"capacity": {"memory": "1500m", "example.com/dongle": "250m"}}},
        families=["kube_node_status_capacity"],
        want="""
            # HELP kube_node_status_capacity [STABLE] The capacity for different resources of a node.
            # TYPE kube_node_status_capacity gauge
            kube_node_status_capacity{node="n2",resource="memory",unit="byte"} 1.5
            kube_node_status_capacity{node="n2",resource="example_com_dongle",unit="integer"} 0.25
        """,
    ),
    Case(
        id="allowlisted-labels-and-annotations-with-conflict",
        obj={"metadata": {"name": "n3", "labels": {"zone-a": "1", "zone_a": "2", "other": "x"},
                          "annotations": {"note.example.com/owner": "me", "skip": "y"}}},
        labels_allowlist=["zone*"],
        annotations_allowlist=["note.example.com/owner"],
        families=["kube_node_labels", "kube_node_annotations"],
        want="""
            # HELP kube_node_annotations Kubernetes annotations converted to Prometheus labels.
            # TYPE kube_node_annotations gauge
            # HELP kube_node_labels [STABLE] Kubernetes labels converted to Prometheus labels.
            # TYPE kube_node_labels gauge
            kube_node_annotations{node="n3",annotation_note_example_com_owner="me"} 1
            kube_node_labels{node="n3",label_zone_a_conflict1="1",label_zone_a_conflict2="2"} 1
        """,
    ),
    Case(
        id="allowlist-without-matching-keys-still-emits-one-series",
        obj={"metadata": {"name": "n4"}},
        labels_allowlist=["*"],
        families=["kube_node_labels"],
        want="""
            # HELP kube_node_labels [STABLE] Kubernetes labels converted to Prometheus labels.
            # TYPE kube_node_labels gauge
            kube_node_labels{node="n4"} 1
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_nodes(case: Case) -> None:
    check("nodes", case)


def test_family_order_and_count() -> None:
    names = [f.name for f in RESOURCES["nodes"].families]
    assert len(names) == 13
    assert names[0] == "kube_node_annotations" and names[4] == "kube_node_labels"
    assert names[-1] == "kube_node_status_addresses"


@pytest.mark.parametrize(("name", "units"), [
    ("cpu", ("core",)),
    ("memory", ("byte",)),
    ("ephemeral-storage", ("byte",)),
    ("storage", ("byte",)),
    ("pods", ("integer",)),
    ("hugepages-1Gi", ("byte",)),
    ("attachable-volumes-csi-x", ("byte",)),
    ("nvidia.com/gpu", ("integer",)),
    # Each prefix rule is tested on its own upstream, so both apply.
    ("hugepages-x/y", ("byte", "integer")),
    # isPrefixedNativeResource looks for "kubernetes.io/" anywhere in the name.
    ("kubernetes.io/x", ()),
    ("node.kubernetes.io/x", ()),
    ("examplekubernetes.io/x", ()),
    ("requests.example.com/x", ()),
    # Not a qualified name once prefixed with "requests.".
    ("Example.com/gpu", ()),
    ("example.com/-gpu", ()),
    ("a/b/c", ()),
    ("example.com/", ()),
    ("unknown", ()),
])
def test_resource_units(name: str, units: tuple[str, ...]) -> None:
    assert resource_units(name) == units


def test_pods_resource_only_for_nodes() -> None:
    assert resource_units("pods", pods=False) == ()
    assert is_extended_resource("example.com/Gpu")


@pytest.mark.parametrize(("q", "value", "milli", "as_float"), [
    ("200m", 1, 200, 0.2),
    ("4300m", 5, 4300, 4.3),
    ("1.5Gi", 1610612736, 1610612736000, 1610612736.0),
    ("1e3", 1000, 1000000, 1000.0),
    ("0.5n", 1, 1, 0.001),
    # Beyond MaxInt64/1000 the float is Value(); MilliValue() has overflowed to 0 (int64 path).
    ("10P", 10**16, 0, 1e16),
    # int64 mantissa overflowing on scale-up gives 0, as Go's positiveScaleInt64 does.
    ("10E", 0, 0, 0.0),
    # Binary quantities are capped at MaxInt64.
    ("9Ei", 2**63 - 1, -1000, 9.223372036854776e18),
    # Negative int64 quantities round away from zero.
    ("-1.5", -2, -1500, -1.5),
    (555, 555, 555000, 555.0),
])
def test_quantities(q: object, value: int, milli: int, as_float: float) -> None:
    assert quantity_value(q) == value
    assert quantity_milli(q) == milli
    assert quantity_float(q) == as_float


@pytest.mark.parametrize("q", ["", "1.5.5", "1Kb", "abc", "1e", "1 m"])
def test_invalid_quantities(q: str) -> None:
    with pytest.raises(ValueError):
        quantity_value(q)
