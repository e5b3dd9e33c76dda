"""gevent's plugin entry points, read without importlib.metadata: the same as it finds."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

from ksm_py import runtime


def test_the_same_plugins_as_importlib_metadata_finds() -> None:
    expected: dict[str, list[str]] = {}
    for ep in (ep for dist in metadata.distributions() for ep in dist.entry_points):
        if ep.group.startswith("gevent.plugins.") and ep.value not in expected.setdefault(ep.group, []):
            expected[ep.group].append(ep.value)
    assert {g: sorted(v) for g, v in runtime.gevent_plugins().items()} == {g: sorted(v) for g, v in expected.items()}
    # gevent declares one itself.
    assert "gevent.monkey:_subscribe_signal_os" in runtime.gevent_plugins()["gevent.plugins.monkey.will_patch_all"]


def test_plugins_of_other_distributions_are_found_and_called(tmp_path: Path) -> None:
    info = tmp_path / "myplugin-1.0.dist-info"
    info.mkdir()
    (info / "entry_points.txt").write_text(
        "[console_scripts]\nx = y:z\n\n[gevent.plugins.monkey.did_patch_all]\nmine = myplugin:hook\n")
    (tmp_path / "myplugin.py").write_text("import os\ndef hook(event):\n    print('called', type(event).__name__)\n")
    assert runtime.gevent_plugins([str(tmp_path)]) == {"gevent.plugins.monkey.did_patch_all": ["myplugin:hook"]}
    code = ("from gevent import monkey; from ksm_py import runtime; runtime.look_up_gevent_plugins_once(); "
            "monkey.patch_all()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True,
                         env={"PYTHONPATH": f"{Path(__file__).parents[2]}:{tmp_path}", "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "called GeventDidPatchAllEvent"
