"""kube_pod_* families (upstream pod_test.go, plus edge cases)."""

from __future__ import annotations

from typing import Any

import pytest

from ksm_py.families import RESOURCES

from ._util import Case, check

ID = 'namespace="ns1",pod="pod1",uid="uid1"'
META = {"name": "pod1", "namespace": "ns1", "uid": "uid1"}


def header(name: str, help: str, type_: str = "gauge") -> str:
    return f"# HELP {name} {help}\n# TYPE {name} {type_}\n"


def pod(**parts: object) -> dict[str, object]:
    obj: dict[str, object] = {"metadata": dict(META)}
    obj.update(parts)
    return obj


ALL_HEADERS: list[tuple[str, ...]] = [
    ("kube_pod_completion_time", "[STABLE] Completion time in unix timestamp for a pod."),
    ("kube_pod_container_info", "[STABLE] Information about a container in a pod."),
    ("kube_pod_container_resource_limits",
     "[STABLE] The number of requested limit resource by a container. It is recommended to use the "
     "kube_pod_resource_limits metric exposed by kube-scheduler instead, as it is more precise."),
    ("kube_pod_container_resource_requests",
     "[STABLE] The number of requested request resource by a container. It is recommended to use the "
     "kube_pod_resource_requests metric exposed by kube-scheduler instead, as it is more precise."),
    ("kube_pod_container_state_started", "[STABLE] Start time in unix timestamp for a pod container."),
    ("kube_pod_container_status_last_terminated_reason",
     "Describes the last reason the container was in terminated state."),
    ("kube_pod_container_status_last_terminated_exitcode",
     "Describes the exit code for the last container in terminated state."),
    ("kube_pod_container_status_last_terminated_timestamp",
     "Last terminated time for a pod container in unix timestamp."),
    ("kube_pod_container_status_ready", "[STABLE] Describes whether the containers readiness check succeeded."),
    ("kube_pod_container_status_restarts_total", "[STABLE] The number of container restarts per container.",
     "counter"),
    ("kube_pod_container_status_running",
     "[STABLE] Describes whether the container is currently in running state."),
    ("kube_pod_container_status_terminated",
     "[STABLE] Describes whether the container is currently in terminated state."),
    ("kube_pod_container_status_terminated_reason",
     "Describes the reason the container is currently in terminated state."),
    ("kube_pod_container_status_waiting",
     "[STABLE] Describes whether the container is currently in waiting state."),
    ("kube_pod_container_status_waiting_reason",
     "[STABLE] Describes the reason the container is currently in waiting state."),
    ("kube_pod_created", "[STABLE] Unix creation timestamp"),
    ("kube_pod_deletion_timestamp", "Unix deletion timestamp"),
    ("kube_pod_info", "[STABLE] Information about pod."),
    ("kube_pod_ips", "Pod IP addresses"),
    ("kube_pod_init_container_info", "[STABLE] Information about an init container in a pod."),
    ("kube_pod_init_container_resource_limits", "The number of requested limit resource by an init container."),
    ("kube_pod_init_container_resource_requests",
     "The number of requested request resource by an init container."),
    ("kube_pod_init_container_state_started", "Start time in unix timestamp for a pod init container."),
    ("kube_pod_init_container_status_last_terminated_reason",
     "Describes the last reason the init container was in terminated state."),
    ("kube_pod_init_container_status_last_terminated_exitcode",
     "Describes the exit code for the last init container in terminated state."),
    ("kube_pod_init_container_status_last_terminated_timestamp",
     "Last terminated time for a pod init container in unix timestamp."),
    ("kube_pod_init_container_status_ready",
     "[STABLE] Describes whether the init containers readiness check succeeded."),
    ("kube_pod_init_container_status_restarts_total", "[STABLE] The number of restarts for the init container.",
     "counter"),
    ("kube_pod_init_container_status_running",
     "[STABLE] Describes whether the init container is currently in running state."),
    ("kube_pod_init_container_status_terminated",
     "[STABLE] Describes whether the init container is currently in terminated state."),
    ("kube_pod_init_container_status_terminated_reason",
     "Describes the reason the init container is currently in terminated state."),
    ("kube_pod_init_container_status_waiting",
     "[STABLE] Describes whether the init container is currently in waiting state."),
    ("kube_pod_init_container_status_waiting_reason",
     "Describes the reason the init container is currently in waiting state."),
    ("kube_pod_annotations", "Kubernetes annotations converted to Prometheus labels."),
    ("kube_pod_labels", "[STABLE] Kubernetes labels converted to Prometheus labels."),
    ("kube_pod_overhead_cpu_cores", "The pod overhead in regards to cpu cores associated with running a pod."),
    ("kube_pod_overhead_memory_bytes", "The pod overhead in regards to memory associated with running a pod."),
    ("kube_pod_owner", "[STABLE] Information about the Pod's owner."),
    ("kube_pod_resourceclaim_info",
     "Information about a DRA ResourceClaim referenced by a pod, one series per pod.spec.resourceClaims "
     "entry; claim_name is the pod-local reference and resourceclaim_name is the resolved ResourceClaim "
     "object name."),
    ("kube_pod_restart_policy", "[STABLE] Describes the restart policy in use by this pod."),
    ("kube_pod_runtimeclass_name_info", "The runtimeclass associated with the pod."),
    ("kube_pod_spec_volumes_persistentvolumeclaims_info",
     "[STABLE] Information about persistentvolumeclaim and ephemeral volumes in a pod."),
    ("kube_pod_spec_volumes_persistentvolumeclaims_readonly",
     "[STABLE] Describes whether a persistentvolumeclaim is mounted read only. Ephemeral volumes always "
     "report 0 since the ephemeral volume source does not support a read-only flag."),
    ("kube_pod_start_time", "[STABLE] Start time in unix timestamp for a pod."),
    ("kube_pod_status_phase", "[STABLE] The pods current phase."),
    ("kube_pod_status_qos_class", "The pods current qosClass."),
    ("kube_pod_status_ready", "[STABLE] Describes whether the pod is ready to serve requests."),
    ("kube_pod_status_ready_time", "Readiness achieved time in unix timestamp for a pod."),
    ("kube_pod_status_initialized_time", "Initialized time in unix timestamp for a pod."),
    ("kube_pod_status_container_ready_time", "Readiness achieved time in unix timestamp for a pod containers."),
    ("kube_pod_status_reason", "The pod status reasons"),
    ("kube_pod_status_disruption_reason", "The pod disruption condition reason"),
    ("kube_pod_status_scheduled", "[STABLE] Describes the status of the scheduling process for the pod."),
    ("kube_pod_status_scheduled_time", "[STABLE] Unix timestamp when pod moved into scheduled status"),
    ("kube_pod_status_unschedulable", "[STABLE] Describes the unschedulable status for the pod."),
    ("kube_pod_status_unscheduled_time", "Unix timestamp when pod moved into unscheduled status"),
    ("kube_pod_tolerations", "Information about the pod tolerations"),
    ("kube_pod_service_account", "The service account for a pod."),
    ("kube_pod_scheduler", "The scheduler for a pod."),
]


def headers_for(*parts: str) -> str:
    """Headers of every family whose name contains one of ``parts`` (the filter's substring rule)."""
    return "".join(header(*h) for h in ALL_HEADERS if any(p in h[0] for p in parts))


CASES = [
    Case(
        id="minimal-pod-emits-only-the-always-on-families",
        obj=pod(),
        families=["kube_pod_"],
        want=f"""
            kube_pod_info{{{ID},host_ip="",pod_ip="",node="",created_by_kind="",created_by_name="",priority_class="",host_network="false"}} 1
            kube_pod_owner{{{ID},owner_kind="",owner_name="",owner_is_controller=""}} 1
            kube_pod_restart_policy{{{ID},type=""}} 1
            kube_pod_service_account{{{ID},service_account=""}} 1
            kube_pod_scheduler{{{ID},name=""}} 1
        """ + headers_for("kube_pod_"),
    ),
    Case(
        id="containers-and-states",
        obj=pod(
            spec={"containers": [{"name": "c1", "image": "app:1"}, {"name": "c2", "image": "db"},
                                 {"name": "no-status", "image": "x"}]},
            status={"containerStatuses": [
                {"name": "c1", "image": "docker.io/app:1", "imageID": "sha:1", "containerID": "cri://1",
                 "ready": True, "restartCount": 3,
                 "state": {"running": {"startedAt": "2017-08-01T06:30:18Z"}},
                 "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137,
                                              "finishedAt": "2017-08-01T06:00:00Z"}}},
                {"name": "c2", "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                 "lastState": {"terminated": {"reason": "Error"}}},
                {"name": "c3", "state": {"terminated": {"reason": "Completed", "startedAt": "2017-08-01T05:00:00Z",
                                                        "finishedAt": "2017-08-01T06:30:18Z"}}},
                {"name": "c4", "state": {"terminated": {"finishedAt": "2017-08-01T06:00:00Z"}}},
                {"name": "c5", "state": {"running": {}}},
            ]},
        ),
        families=["kube_pod_container_info", "kube_pod_container_state_started", "kube_pod_container_status_",
                  "kube_pod_completion_time"],
        want=f"""
            kube_pod_completion_time{{{ID}}} 1.501569018e+09
            kube_pod_container_info{{{ID},container="c1",image_spec="app:1",image="docker.io/app:1",image_id="sha:1",container_id="cri://1"}} 1
            kube_pod_container_info{{{ID},container="c2",image_spec="db",image="",image_id="",container_id=""}} 1
            kube_pod_container_state_started{{{ID},container="c1"}} 1.501569018e+09
            kube_pod_container_state_started{{{ID},container="c3"}} 1.5015636e+09
            kube_pod_container_state_started{{{ID},container="c4"}} -6.21355968e+10
            kube_pod_container_state_started{{{ID},container="c5"}} -6.21355968e+10
            kube_pod_container_status_last_terminated_reason{{{ID},container="c1",reason="OOMKilled"}} 1
            kube_pod_container_status_last_terminated_reason{{{ID},container="c2",reason="Error"}} 1
            kube_pod_container_status_last_terminated_exitcode{{{ID},container="c1"}} 137
            kube_pod_container_status_last_terminated_exitcode{{{ID},container="c2"}} 0
            kube_pod_container_status_last_terminated_timestamp{{{ID},container="c1"}} 1.5015672e+09
            kube_pod_container_status_last_terminated_timestamp{{{ID},container="c2"}} -6.21355968e+10
            kube_pod_container_status_ready{{{ID},container="c1"}} 1
            kube_pod_container_status_ready{{{ID},container="c2"}} 0
            kube_pod_container_status_ready{{{ID},container="c3"}} 0
            kube_pod_container_status_ready{{{ID},container="c4"}} 0
            kube_pod_container_status_ready{{{ID},container="c5"}} 0
            kube_pod_container_status_restarts_total{{{ID},container="c1"}} 3
            kube_pod_container_status_restarts_total{{{ID},container="c2"}} 0
            kube_pod_container_status_restarts_total{{{ID},container="c3"}} 0
            kube_pod_container_status_restarts_total{{{ID},container="c4"}} 0
            kube_pod_container_status_restarts_total{{{ID},container="c5"}} 0
            kube_pod_container_status_running{{{ID},container="c1"}} 1
            kube_pod_container_status_running{{{ID},container="c2"}} 0
            kube_pod_container_status_running{{{ID},container="c3"}} 0
            kube_pod_container_status_running{{{ID},container="c4"}} 0
            kube_pod_container_status_running{{{ID},container="c5"}} 1
            kube_pod_container_status_terminated{{{ID},container="c1"}} 0
            kube_pod_container_status_terminated{{{ID},container="c2"}} 0
            kube_pod_container_status_terminated{{{ID},container="c3"}} 1
            kube_pod_container_status_terminated{{{ID},container="c4"}} 1
            kube_pod_container_status_terminated{{{ID},container="c5"}} 0
            kube_pod_container_status_terminated_reason{{{ID},container="c3",reason="Completed"}} 1
            kube_pod_container_status_terminated_reason{{{ID},container="c4",reason=""}} 1
            kube_pod_container_status_waiting{{{ID},container="c1"}} 0
            kube_pod_container_status_waiting{{{ID},container="c2"}} 1
            kube_pod_container_status_waiting{{{ID},container="c3"}} 0
            kube_pod_container_status_waiting{{{ID},container="c4"}} 0
            kube_pod_container_status_waiting{{{ID},container="c5"}} 0
            kube_pod_container_status_waiting_reason{{{ID},container="c2",reason="CrashLoopBackOff"}} 1
        """ + headers_for(
            "kube_pod_container_info", "kube_pod_container_state_started", "kube_pod_container_status_",
            "kube_pod_completion_time"),
    ),
    Case(
        id="completion-time-needs-a-positive-finish",
        obj=pod(status={"containerStatuses": [{"name": "c", "state": {"terminated": {}}}]}),
        families=["kube_pod_completion_time"],
        want=header("kube_pod_completion_time", "[STABLE] Completion time in unix timestamp for a pod."),
    ),
    Case(
        id="init-containers",
        obj=pod(
            spec={"initContainers": [{"name": "i1", "image": "init", "restartPolicy": "Always"},
                                     {"name": "i2", "image": "init2"}]},
            status={"initContainerStatuses": [
                {"name": "i1", "image": "init:latest", "imageID": "sha:i", "containerID": "cri://i",
                 "ready": True, "restartCount": 2, "state": {"running": {"startedAt": "2017-08-01T06:30:18Z"}},
                 "lastState": {"terminated": {"reason": "Error", "exitCode": 1, "finishedAt": "2017-08-01T06:00:00Z"}}},
                {"name": "i2", "state": {"terminated": {"reason": "Completed", "startedAt": "2017-08-01T06:00:00Z"}}},
                {"name": "i3", "state": {"waiting": {"reason": "PodInitializing"}}},
            ]},
        ),
        families=["kube_pod_init_container_info", "kube_pod_init_container_state_started",
                  "kube_pod_init_container_status_"],
        want=f"""
            kube_pod_init_container_info{{{ID},container="i1",image_spec="init",image="init:latest",image_id="sha:i",container_id="cri://i",restart_policy="Always"}} 1
            kube_pod_init_container_info{{{ID},container="i2",image_spec="init2",image="",image_id="",container_id="",restart_policy=""}} 1
            kube_pod_init_container_state_started{{{ID},container="i1"}} 1.501569018e+09
            kube_pod_init_container_state_started{{{ID},container="i2"}} 1.5015672e+09
            kube_pod_init_container_status_last_terminated_reason{{{ID},container="i1",reason="Error"}} 1
            kube_pod_init_container_status_last_terminated_exitcode{{{ID},container="i1"}} 1
            kube_pod_init_container_status_last_terminated_timestamp{{{ID},container="i1"}} 1.5015672e+09
            kube_pod_init_container_status_ready{{{ID},container="i1"}} 1
            kube_pod_init_container_status_ready{{{ID},container="i2"}} 0
            kube_pod_init_container_status_ready{{{ID},container="i3"}} 0
            kube_pod_init_container_status_restarts_total{{{ID},container="i1"}} 2
            kube_pod_init_container_status_restarts_total{{{ID},container="i2"}} 0
            kube_pod_init_container_status_restarts_total{{{ID},container="i3"}} 0
            kube_pod_init_container_status_running{{{ID},container="i1"}} 1
            kube_pod_init_container_status_running{{{ID},container="i2"}} 0
            kube_pod_init_container_status_running{{{ID},container="i3"}} 0
            kube_pod_init_container_status_terminated{{{ID},container="i1"}} 0
            kube_pod_init_container_status_terminated{{{ID},container="i2"}} 1
            kube_pod_init_container_status_terminated{{{ID},container="i3"}} 0
            kube_pod_init_container_status_terminated_reason{{{ID},container="i2",reason="Completed"}} 1
            kube_pod_init_container_status_waiting{{{ID},container="i1"}} 0
            kube_pod_init_container_status_waiting{{{ID},container="i2"}} 0
            kube_pod_init_container_status_waiting{{{ID},container="i3"}} 1
            kube_pod_init_container_status_waiting_reason{{{ID},container="i3",reason="PodInitializing"}} 1
        """ + headers_for("kube_pod_init_container_info", "kube_pod_init_container_state_started",
                          "kube_pod_init_container_status_"),
    ),
    Case(
        id="resources-of-containers-and-init-containers",
        obj=pod(spec={
            "nodeName": "n1",
            "containers": [{"name": "c1", "resources": {
                "limits": {"cpu": "1500m", "memory": "1500m", "hugepages-2Mi": "2Mi",
                           "attachable-volumes-x": "3", "nvidia.com/gpu": "1", "pods": "3",
                           "kubernetes.io/other": "1", "ephemeral-storage": "1Ki", "storage": "1k"},
                "requests": {"cpu": "250m", "example.com/dongle": "500m"}}}],
            "initContainers": [{"name": "i1", "resources": {"limits": {"cpu": "1"}, "requests": {"memory": "64Mi"}}}],
        }),
        families=["kube_pod_container_resource_", "kube_pod_init_container_resource_"],
        want=f"""
            kube_pod_container_resource_limits{{{ID},container="c1",node="n1",resource="cpu",unit="core"}} 1.5
            kube_pod_container_resource_limits{{{ID},container="c1",node="n1",resource="memory",unit="byte"}} 2
            kube_pod_container_resource_limits{{{ID},container="c1",node="n1",resource="hugepages_2Mi",unit="byte"}} 2.097152e+06
            kube_pod_container_resource_limits{{{ID},container="c1",node="n1",resource="attachable_volumes_x",unit="byte"}} 3
            kube_pod_container_resource_limits{{{ID},container="c1",node="n1",resource="nvidia_com_gpu",unit="integer"}} 1
            kube_pod_container_resource_limits{{{ID},container="c1",node="n1",resource="ephemeral_storage",unit="byte"}} 1024
            kube_pod_container_resource_limits{{{ID},container="c1",node="n1",resource="storage",unit="byte"}} 1000
            kube_pod_container_resource_requests{{{ID},container="c1",node="n1",resource="cpu",unit="core"}} 0.25
            kube_pod_container_resource_requests{{{ID},container="c1",node="n1",resource="example_com_dongle",unit="integer"}} 1
            kube_pod_init_container_resource_limits{{{ID},container="i1",node="n1",resource="cpu",unit="core"}} 1
            kube_pod_init_container_resource_requests{{{ID},container="i1",node="n1",resource="memory",unit="byte"}} 6.7108864e+07
        """ + header("kube_pod_container_resource_limits",
                     "[STABLE] The number of requested limit resource by a container. It is recommended to use the "
                     "kube_pod_resource_limits metric exposed by kube-scheduler instead, as it is more precise.")
        + header("kube_pod_container_resource_requests",
                 "[STABLE] The number of requested request resource by a container. It is recommended to use the "
                 "kube_pod_resource_requests metric exposed by kube-scheduler instead, as it is more precise.")
        + header("kube_pod_init_container_resource_limits",
                 "The number of requested limit resource by an init container.")
        + header("kube_pod_init_container_resource_requests",
                 "The number of requested request resource by an init container."),
    ),
    Case(
        id="info-ips-timestamps-owner",
        obj=pod(
            metadata={**META, "creationTimestamp": "2017-08-01T06:30:18Z", "deletionTimestamp": "2017-08-01T07:00:00Z",
                      "ownerReferences": [{"kind": "ReplicaSet", "name": "rs", "controller": True},
                                          {"kind": "Custom", "name": "c"},
                                          {"kind": "Other", "name": "o", "controller": False}]},
            spec={"nodeName": "n1", "priorityClassName": "high", "hostNetwork": True},
            status={"hostIP": "10.0.0.1", "podIP": "10.1.0.1", "startTime": "2017-08-01T06:30:18Z",
                    "podIPs": [{"ip": "10.1.0.1"}, {"ip": "fd00::1"}, {"ip": "::ffff:10.2.0.1"}, {"ip": "bogus"},
                               {"ip": "010.1.0.1"}]},
        ),
        families=["kube_pod_info", "kube_pod_ips", "kube_pod_created", "kube_pod_deletion_timestamp",
                  "kube_pod_owner", "kube_pod_start_time"],
        want=f"""
            kube_pod_info{{{ID},host_ip="10.0.0.1",pod_ip="10.1.0.1",node="n1",created_by_kind="ReplicaSet",created_by_name="rs",priority_class="high",host_network="true"}} 1
            kube_pod_ips{{{ID},ip="10.1.0.1",ip_family="4"}} 1
            kube_pod_ips{{{ID},ip="fd00::1",ip_family="6"}} 1
            kube_pod_ips{{{ID},ip="::ffff:10.2.0.1",ip_family="4"}} 1
            kube_pod_created{{{ID}}} 1.501569018e+09
            kube_pod_deletion_timestamp{{{ID}}} 1.5015708e+09
            kube_pod_owner{{{ID},owner_kind="ReplicaSet",owner_name="rs",owner_is_controller="true"}} 1
            kube_pod_owner{{{ID},owner_kind="Custom",owner_name="c",owner_is_controller="false"}} 1
            kube_pod_owner{{{ID},owner_kind="Other",owner_name="o",owner_is_controller="false"}} 1
            kube_pod_start_time{{{ID}}} 1.501569018e+09
        """ + header("kube_pod_info", "[STABLE] Information about pod.")
        + header("kube_pod_ips", "Pod IP addresses")
        + header("kube_pod_created", "[STABLE] Unix creation timestamp")
        + header("kube_pod_deletion_timestamp", "Unix deletion timestamp")
        + header("kube_pod_owner", "[STABLE] Information about the Pod's owner.")
        + header("kube_pod_start_time", "[STABLE] Start time in unix timestamp for a pod."),
    ),
    Case(
        id="allowlisted-labels-and-annotations-with-conflict",
        obj=pod(metadata={**META, "labels": {"app.kubernetes.io/name": "web", "app_kubernetes_io/name": "x",
                                             "team": "a"},
                          "annotations": {"fooBar": "1", "skip": "2"}}),
        labels_allowlist=["app*", "missing"],
        annotations_allowlist=["fooBar"],
        families=["kube_pod_labels", "kube_pod_annotations"],
        want=f"""
            kube_pod_labels{{{ID},label_app_kubernetes_io_name_conflict1="web",label_app_kubernetes_io_name_conflict2="x"}} 1
            kube_pod_annotations{{{ID},annotation_foo_bar="1"}} 1
        """ + header("kube_pod_labels", "[STABLE] Kubernetes labels converted to Prometheus labels.")
        + header("kube_pod_annotations", "Kubernetes annotations converted to Prometheus labels."),
    ),
    Case(
        id="overhead-claims-policy-runtimeclass-volumes",
        obj=pod(
            spec={"overhead": {"cpu": "250m", "memory": "1.5Ki"}, "restartPolicy": "OnFailure",
                  "runtimeClassName": "",
                  "resourceClaims": [{"name": "direct", "resourceClaimName": "claim-a"},
                                     {"name": "templated", "resourceClaimTemplateName": "tmpl"},
                                     {"name": "pending", "resourceClaimTemplateName": "tmpl2"},
                                     {"name": "neither"}],
                  "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "pvc1", "readOnly": True}},
                              {"name": "logs", "persistentVolumeClaim": {"claimName": "pvc2"}},
                              {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {}}},
                              {"name": "cfg", "configMap": {"name": "cm"}}]},
            status={"resourceClaimStatuses": [{"name": "templated", "resourceClaimName": "pod1-templated-x"},
                                              {"name": "pending"}]},
        ),
        families=["kube_pod_overhead", "kube_pod_resourceclaim_info", "kube_pod_restart_policy",
                  "kube_pod_runtimeclass_name_info", "kube_pod_spec_volumes"],
        want=f"""
            kube_pod_overhead_cpu_cores{{{ID}}} 0.25
            kube_pod_overhead_memory_bytes{{{ID}}} 1536
            kube_pod_resourceclaim_info{{{ID},claim_name="direct",resourceclaim_name="claim-a",resourceclaim_template_name=""}} 1
            kube_pod_resourceclaim_info{{{ID},claim_name="templated",resourceclaim_name="pod1-templated-x",resourceclaim_template_name="tmpl"}} 1
            kube_pod_resourceclaim_info{{{ID},claim_name="pending",resourceclaim_name="",resourceclaim_template_name="tmpl2"}} 1
            kube_pod_restart_policy{{{ID},type="OnFailure"}} 1
            kube_pod_runtimeclass_name_info{{{ID},runtimeclass_name=""}} 1
            kube_pod_spec_volumes_persistentvolumeclaims_info{{{ID},volume="data",persistentvolumeclaim="pvc1",ephemeral="false"}} 1
            kube_pod_spec_volumes_persistentvolumeclaims_info{{{ID},volume="logs",persistentvolumeclaim="pvc2",ephemeral="false"}} 1
            kube_pod_spec_volumes_persistentvolumeclaims_info{{{ID},volume="scratch",persistentvolumeclaim="pod1-scratch",ephemeral="true"}} 1
            kube_pod_spec_volumes_persistentvolumeclaims_readonly{{{ID},volume="data",persistentvolumeclaim="pvc1",ephemeral="false"}} 1
            kube_pod_spec_volumes_persistentvolumeclaims_readonly{{{ID},volume="logs",persistentvolumeclaim="pvc2",ephemeral="false"}} 0
            kube_pod_spec_volumes_persistentvolumeclaims_readonly{{{ID},volume="scratch",persistentvolumeclaim="pod1-scratch",ephemeral="true"}} 0
        """ + header("kube_pod_overhead_cpu_cores",
                     "The pod overhead in regards to cpu cores associated with running a pod.")
        + header("kube_pod_overhead_memory_bytes",
                 "The pod overhead in regards to memory associated with running a pod.")
        + header("kube_pod_resourceclaim_info",
                 "Information about a DRA ResourceClaim referenced by a pod, one series per pod.spec.resourceClaims "
                 "entry; claim_name is the pod-local reference and resourceclaim_name is the resolved ResourceClaim "
                 "object name.")
        + header("kube_pod_restart_policy", "[STABLE] Describes the restart policy in use by this pod.")
        + header("kube_pod_runtimeclass_name_info", "The runtimeclass associated with the pod.")
        + header("kube_pod_spec_volumes_persistentvolumeclaims_info",
                 "[STABLE] Information about persistentvolumeclaim and ephemeral volumes in a pod.")
        + header("kube_pod_spec_volumes_persistentvolumeclaims_readonly",
                 "[STABLE] Describes whether a persistentvolumeclaim is mounted read only. Ephemeral volumes always "
                 "report 0 since the ephemeral volume source does not support a read-only flag."),
    ),
    Case(
        id="phase-qos-and-conditions-true",
        obj=pod(status={
            "phase": "Running", "qosClass": "Burstable",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2017-08-01T06:30:18Z"},
                           {"type": "Initialized", "status": "True", "lastTransitionTime": "2017-08-01T06:00:00Z"},
                           {"type": "ContainersReady", "status": "True"},
                           {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2017-08-01T07:00:00Z"}]}),
        families=["kube_pod_status_phase", "kube_pod_status_qos_class", "kube_pod_status_ready",
                  "kube_pod_status_initialized_time", "kube_pod_status_container_ready_time",
                  "kube_pod_status_scheduled", "kube_pod_status_unschedulable", "kube_pod_status_unscheduled_time"],
        want=f"""
            kube_pod_status_phase{{{ID},phase="Pending"}} 0
            kube_pod_status_phase{{{ID},phase="Succeeded"}} 0
            kube_pod_status_phase{{{ID},phase="Failed"}} 0
            kube_pod_status_phase{{{ID},phase="Unknown"}} 0
            kube_pod_status_phase{{{ID},phase="Running"}} 1
            kube_pod_status_qos_class{{{ID},qos_class="BestEffort"}} 0
            kube_pod_status_qos_class{{{ID},qos_class="Burstable"}} 1
            kube_pod_status_qos_class{{{ID},qos_class="Guaranteed"}} 0
            kube_pod_status_ready{{{ID},condition="true"}} 1
            kube_pod_status_ready{{{ID},condition="false"}} 0
            kube_pod_status_ready{{{ID},condition="unknown"}} 0
            kube_pod_status_ready_time{{{ID}}} 1.501569018e+09
            kube_pod_status_initialized_time{{{ID}}} 1.5015672e+09
            kube_pod_status_container_ready_time{{{ID}}} -6.21355968e+10
            kube_pod_status_scheduled{{{ID},condition="true"}} 1
            kube_pod_status_scheduled{{{ID},condition="false"}} 0
            kube_pod_status_scheduled{{{ID},condition="unknown"}} 0
            kube_pod_status_scheduled_time{{{ID}}} 1.5015708e+09
        """ + header("kube_pod_status_phase", "[STABLE] The pods current phase.")
        + header("kube_pod_status_qos_class", "The pods current qosClass.")
        + header("kube_pod_status_ready", "[STABLE] Describes whether the pod is ready to serve requests.")
        + header("kube_pod_status_ready_time", "Readiness achieved time in unix timestamp for a pod.")
        + header("kube_pod_status_initialized_time", "Initialized time in unix timestamp for a pod.")
        + header("kube_pod_status_container_ready_time",
                 "Readiness achieved time in unix timestamp for a pod containers.")
        + header("kube_pod_status_scheduled", "[STABLE] Describes the status of the scheduling process for the pod.")
        + header("kube_pod_status_scheduled_time", "[STABLE] Unix timestamp when pod moved into scheduled status")
        + header("kube_pod_status_unschedulable", "[STABLE] Describes the unschedulable status for the pod.")
        + header("kube_pod_status_unscheduled_time", "Unix timestamp when pod moved into unscheduled status"),
    ),
    Case(
        id="unschedulable-and-not-ready",
        obj=pod(status={"conditions": [
            {"type": "PodScheduled", "status": "False", "lastTransitionTime": "2017-08-01T06:30:18Z"},
            {"type": "Ready", "status": "False", "lastTransitionTime": "2017-08-01T06:30:18Z"}]}),
        families=["kube_pod_status_ready", "kube_pod_status_scheduled", "kube_pod_status_unschedulable",
                  "kube_pod_status_unscheduled_time", "kube_pod_status_phase", "kube_pod_status_qos_class"],
        want=f"""
            kube_pod_status_ready{{{ID},condition="true"}} 0
            kube_pod_status_ready{{{ID},condition="false"}} 1
            kube_pod_status_ready{{{ID},condition="unknown"}} 0
            kube_pod_status_scheduled{{{ID},condition="true"}} 0
            kube_pod_status_scheduled{{{ID},condition="false"}} 1
            kube_pod_status_scheduled{{{ID},condition="unknown"}} 0
            kube_pod_status_unschedulable{{{ID}}} 1
            kube_pod_status_unscheduled_time{{{ID}}} 1.501569018e+09
        """ + header("kube_pod_status_phase", "[STABLE] The pods current phase.")
        + header("kube_pod_status_qos_class", "The pods current qosClass.")
        + header("kube_pod_status_ready", "[STABLE] Describes whether the pod is ready to serve requests.")
        + header("kube_pod_status_ready_time", "Readiness achieved time in unix timestamp for a pod.")
        + header("kube_pod_status_scheduled", "[STABLE] Describes the status of the scheduling process for the pod.")
        + header("kube_pod_status_scheduled_time", "[STABLE] Unix timestamp when pod moved into scheduled status")
        + header("kube_pod_status_unschedulable", "[STABLE] Describes the unschedulable status for the pod.")
        + header("kube_pod_status_unscheduled_time", "Unix timestamp when pod moved into unscheduled status"),
    ),
    Case(
        id="status-reasons-from-pod-conditions-and-containers",
        obj=pod(status={"reason": "Evicted",
                        "conditions": [{"type": "DisruptionTarget", "status": "True", "reason": "DeletionByPodGC"},
                                       {"type": "DisruptionTarget", "status": "True", "reason": "Custom"},
                                       {"type": "Other", "reason": "NodeLost"}],
                        "containerStatuses": [{"name": "c", "state": {"terminated": {"reason": "Shutdown"}}}]}),
        families=["kube_pod_status_reason", "kube_pod_status_disruption_reason"],
        want=f"""
            kube_pod_status_reason{{{ID},reason="Evicted"}} 1
            kube_pod_status_reason{{{ID},reason="NodeLost"}} 1
            kube_pod_status_reason{{{ID},reason="Shutdown"}} 1
            kube_pod_status_disruption_reason{{{ID},reason="DeletionByPodGC"}} 1
            kube_pod_status_disruption_reason{{{ID},reason="Other"}} 1
        """ + header("kube_pod_status_reason", "The pod status reasons")
        + header("kube_pod_status_disruption_reason", "The pod disruption condition reason"),
    ),
    Case(
        id="unknown-pod-reason-is-other",
        obj=pod(status={"reason": "SomethingElse"}),
        families=["kube_pod_status_reason"],
        want=f"""
            kube_pod_status_reason{{{ID},reason="Other"}} 1
        """ + header("kube_pod_status_reason", "The pod status reasons"),
    ),
    Case(
        id="tolerations-deduplicated",
        obj=pod(spec={"tolerations": [
            {"key": "k", "operator": "Equal", "value": "v", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "k", "operator": "Equal", "value": "v", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "k", "operator": "Equal", "value": "v", "effect": "NoExecute", "tolerationSeconds": 60},
            {"operator": "Exists"}]}),
        families=["kube_pod_tolerations"],
        want=f"""
            kube_pod_tolerations{{{ID},key="k",operator="Equal",value="v",effect="NoExecute",toleration_seconds="300"}} 1
            kube_pod_tolerations{{{ID},key="k",operator="Equal",value="v",effect="NoExecute",toleration_seconds="60"}} 1
            kube_pod_tolerations{{{ID},key="",operator="Exists",value="",effect="",toleration_seconds=""}} 1
        """ + header("kube_pod_tolerations", "Information about the pod tolerations"),
    ),
    Case(
        id="nodeselectors-opt-in",
        obj=pod(spec={"nodeSelector": {"kubernetes.io/os": "linux", "diskType": "ssd"},
                      "serviceAccountName": "sa", "schedulerName": "default-scheduler"}),
        opt_in=["kube_pod_nodeselectors"],
        families=["kube_pod_nodeselectors", "kube_pod_service_account", "kube_pod_scheduler"],
        want=f"""
            kube_pod_nodeselectors{{{ID},nodeselector_disk_type="ssd",nodeselector_kubernetes_io_os="linux"}} 1
            kube_pod_service_account{{{ID},service_account="sa"}} 1
            kube_pod_scheduler{{{ID},name="default-scheduler"}} 1
        """ + header("kube_pod_nodeselectors", "Describes the Pod nodeSelectors.")
        + header("kube_pod_service_account", "The service account for a pod.")
        + header("kube_pod_scheduler", "The scheduler for a pod."),
    ),
    Case(
        id="nodeselectors-opt-in-without-selectors",
        obj=pod(),
        opt_in=["kube_pod_nodeselectors"],
        families=["kube_pod_nodeselectors"],
        want=f"""
            kube_pod_nodeselectors{{{ID}}} 1
        """ + header("kube_pod_nodeselectors", "Describes the Pod nodeSelectors."),
    ),
    Case(
        id="nodeselectors-absent-without-opt-in",
        obj=pod(spec={"nodeSelector": {"a": "b"}}),
        families=["kube_pod_nodeselectors"],
        want="",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_pods(case: Case) -> None:
    check("pods", case)


def test_family_order_and_count() -> None:
    names = [f.name for f in RESOURCES["pods"].families]
    assert len(names) == 60
    assert names[0] == "kube_pod_completion_time"
    assert names[33:35] == ["kube_pod_annotations", "kube_pod_labels"]
    assert names[-3:] == ["kube_pod_nodeselectors", "kube_pod_service_account", "kube_pod_scheduler"]
    assert [f.name for f in RESOURCES["pods"].families if f.opt_in] == ["kube_pod_nodeselectors"]


def _all_families(**allow: tuple[str, ...]) -> Any:
    from ksm_py.builder import compile_resources
    from ksm_py.families.pods import pods
    from ksm_py.options import Options

    options = Options(resources=["pods"], metric_opt_in_list=[f.name for f in pods.families])
    if "labels" in allow:
        options.labels_allowlist = {"pods": allow["labels"]}
    (compiled,) = compile_resources(options)
    assert len(compiled.families) == len(pods.families)
    return compiled


def _touched(obj: dict[str, Any], k: int) -> dict[str, Any]:
    """``obj`` as a watch would send it after a label/annotation-only update."""
    meta = dict(obj.get("metadata") or {})
    meta.update({"resourceVersion": f"9{k}", "labels": {**(meta.get("labels") or {}), "churn": str(k)},
                 "annotations": {"touched": str(k)},
                 "managedFields": [{"manager": "bench", "operation": "Update", "time": f"2024-01-0{k}T00:00:00Z"}]})
    return {**obj, "metadata": meta}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_no_family_reads_the_metadata_pods_declare_unread(case: Case) -> None:
    compiled = _all_families()
    assert compiled.unread_metadata == {"resourceVersion", "managedFields", "labels", "annotations"}
    assert compiled.render(_touched(case.obj, 1)) == compiled.render(case.obj)
    assert compiled.fingerprint(_touched(case.obj, 1)) == compiled.fingerprint(_touched(case.obj, 2))
    # A watch event's object has kind and apiVersion, a list item has not.
    bare = {k: v for k, v in case.obj.items() if k not in ("kind", "apiVersion")}
    event = {"kind": "Pod", "apiVersion": "v1", **bare}
    assert compiled.render(event) == compiled.render(bare)
    assert compiled.fingerprint(_touched(event, 3)) == compiled.fingerprint(bare)


def test_an_update_of_unread_metadata_alone_is_not_rendered_again() -> None:
    from ksm_py.exposition import ResourceWriter, render_body
    from ksm_py.store import MetricsStore

    base = pod(status={"phase": "Running"})
    compiled = _all_families()
    store = MetricsStore(compiled)
    store.replace([base])
    (before,) = store.snapshot()
    store.upsert(_touched(base, 1))
    assert store.snapshot()[0] is before  # skipped: the very same chunks
    store.upsert({**_touched(base, 2), "status": {"phase": "Failed"}})
    assert store.snapshot()[0] is not before
    assert 'phase="Failed"} 1' in render_body([ResourceWriter(compiled, [store])]).decode()
    # With a labels allowlist, labels are read: a label change is rendered.
    compiled = _all_families(labels=("churn",))
    assert "labels" not in compiled.unread_metadata
    store = MetricsStore(compiled)
    store.replace([base])
    store.upsert(_touched(base, 3))
    assert 'label_churn="3"' in render_body([ResourceWriter(compiled, [store])]).decode()
    store.delete(base)
    assert len(store) == 0 and not store._prints
