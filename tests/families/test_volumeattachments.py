"""kube_volumeattachment_* families (upstream internal/store/volumeattachment_test.go, plus edge cases)."""

from __future__ import annotations

import pytest

from ksm_py.families import RESOURCES

from ._util import Case, check

HEADERS = """
    # HELP kube_volumeattachment_labels Kubernetes labels converted to Prometheus labels.
    # TYPE kube_volumeattachment_labels gauge
    # HELP kube_volumeattachment_info Information about volumeattachment.
    # TYPE kube_volumeattachment_info gauge
    # HELP kube_volumeattachment_created Unix creation timestamp
    # TYPE kube_volumeattachment_created gauge
    # HELP kube_volumeattachment_spec_source_persistentvolume PersistentVolume source reference.
    # TYPE kube_volumeattachment_spec_source_persistentvolume gauge
    # HELP kube_volumeattachment_status_attached Information about volumeattachment.
    # TYPE kube_volumeattachment_status_attached gauge
    # HELP kube_volumeattachment_status_attachment_metadata volumeattachment metadata.
    # TYPE kube_volumeattachment_status_attachment_metadata gauge
"""

CASES = [
    Case(
        id="attached-with-all-labels-and-metadata",
        obj={"metadata": {"name": "csi-5ff16a1ad085261021e21c6cb3a6defb979a8794f25a4f90f6285664cff0b6f4",
                          "creationTimestamp": "2017-08-01T06:30:18Z",
                          "labels": {"app.k8s.io/name": "foo", "zoneA": "a"}},
             "spec": {"attacher": "cinder.csi.openstack.org", "nodeName": "node1",
                      "source": {"persistentVolumeName": "pvc-44f6ff3f"}},
             "status": {"attached": True, "attachmentMetadata": {"DevicePath": "/dev/sdd", "device-path": "x"}}},
        want=HEADERS + """
            kube_volumeattachment_labels{volumeattachment="csi-5ff16a1ad085261021e21c6cb3a6defb979a8794f25a4f90f6285664cff0b6f4",label_app_k8s_io_name="foo",label_zone_a="a"} 1
            kube_volumeattachment_info{volumeattachment="csi-5ff16a1ad085261021e21c6cb3a6defb979a8794f25a4f90f6285664cff0b6f4",attacher="cinder.csi.openstack.org",node="node1"} 1
            kube_volumeattachment_created{volumeattachment="csi-5ff16a1ad085261021e21c6cb3a6defb979a8794f25a4f90f6285664cff0b6f4"} 1.501569018e+09
            kube_volumeattachment_spec_source_persistentvolume{volumeattachment="csi-5ff16a1ad085261021e21c6cb3a6defb979a8794f25a4f90f6285664cff0b6f4",volumename="pvc-44f6ff3f"} 1
            kube_volumeattachment_status_attached{volumeattachment="csi-5ff16a1ad085261021e21c6cb3a6defb979a8794f25a4f90f6285664cff0b6f4"} 1
            kube_volumeattachment_status_attachment_metadata{volumeattachment="csi-5ff16a1ad085261021e21c6cb3a6defb979a8794f25a4f90f6285664cff0b6f4",metadata_device_path_conflict1="/dev/sdd",metadata_device_path_conflict2="x"} 1
        """,
    ),
    Case(
        id="bare-object-still-has-labels-and-metadata-series",
        obj={"metadata": {"name": "va"}, "spec": {"source": {"inlineVolumeSpec": {}}}},
        want=HEADERS + """
            kube_volumeattachment_labels{volumeattachment="va"} 1
            kube_volumeattachment_info{volumeattachment="va",attacher="",node=""} 1
            kube_volumeattachment_status_attached{volumeattachment="va"} 0
            kube_volumeattachment_status_attachment_metadata{volumeattachment="va"} 1
        """,
    ),
    Case(
        id="labels-allowlist-is-ignored",
        obj={"metadata": {"name": "va", "labels": {"keep": "1", "other": "2"}}, "status": {"attached": False}},
        labels_allowlist=["keep"],
        families=["kube_volumeattachment_labels"],
        want="""
            # HELP kube_volumeattachment_labels Kubernetes labels converted to Prometheus labels.
            # TYPE kube_volumeattachment_labels gauge
            kube_volumeattachment_labels{volumeattachment="va",label_keep="1",label_other="2"} 1
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_volumeattachments(case: Case) -> None:
    check("volumeattachments", case)


def test_family_order() -> None:
    assert [f.name for f in RESOURCES["volumeattachments"].families] == [
        "kube_volumeattachment_labels",
        "kube_volumeattachment_info",
        "kube_volumeattachment_created",
        "kube_volumeattachment_spec_source_persistentvolume",
        "kube_volumeattachment_status_attached",
        "kube_volumeattachment_status_attachment_metadata",
    ]
