"""``ksm-py families`` and the README section generated from it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ksm_py.catalog import readme_section, render_markdown, rows
from ksm_py.options import KSM_RESOURCES

ROOT = Path(__file__).resolve().parents[2]


def _families(*args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "ksm_py", "families", *args], capture_output=True, text=True,
                         timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_readme_lists_the_families_of_the_code() -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme_section(readme) == render_markdown(rows()), (
        "README.md's 'Resources and metric families' section is out of date; regenerate it with\n"
        "  python -c 'from ksm_py.catalog import update_readme; update_readme(\"README.md\")'\n"
        "(it is the output of `ksm-py families --format=markdown`)")


def test_every_resource_and_family_is_listed() -> None:
    data = json.loads(_families("--format=json"))
    assert len(data) == 336
    assert sorted({row["resource"] for row in data}) == sorted(KSM_RESOURCES)
    by_name = {row["family"]: row for row in data}
    assert by_name["kube_pod_container_resource_requests"]["labels"] == [
        "namespace", "pod", "uid", "container", "node", "resource", "unit"]
    assert by_name["kube_pod_container_status_restarts_total"]["type"] == "counter"
    assert by_name["kube_pod_nodeselectors"]["exposed"] == "opt-in"
    assert by_name["kube_deployment_labels"]["exposed"] == "allowlist"
    assert by_name["kube_volumeattachment_labels"]["exposed"] == "default"  # all labels, no allowlist
    assert by_name["kube_pod_info"]["stability"] == "STABLE"
    assert by_name["kube_role_info"]["resource_default"] is False


def test_table_and_markdown_formats() -> None:
    table = _families("--resource=leases")
    assert table.splitlines()[0].split() == ["RESOURCE", "FAMILY", "TYPE", "STABILITY", "EXPOSED", "LABELS"]
    assert "kube_lease_owner" in table and "lease,owner_kind,owner_name,namespace,lease_holder" in table
    markdown = _families("--format=markdown", "--resource=leases")
    assert "| `leases` | `kube_lease_renew_time` | gauge | EXPERIMENTAL | default | `lease`, `namespace` |" in markdown
    bad = subprocess.run([sys.executable, "-m", "ksm_py", "families", "--resource=nope"], capture_output=True,
                         text=True, timeout=60, cwd=ROOT)
    assert bad.returncode == 2 and "--resource" in bad.stderr
