"""``python -m harness build|up|down|env|status``: manage a local control plane by hand."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
from pathlib import Path

from . import build
from .controlplane import ControlPlane, process_tree


def default_dir() -> Path:
    return Path(os.environ.get("KSM_PY_CLUSTER_DIR") or Path(tempfile.gettempdir()) / "ksm-py-cluster")


def _down(workdir: Path) -> int:
    state_file = workdir / "state.json"
    if not state_file.exists():
        print(f"no cluster state in {workdir}")
        return 0
    pids = list(json.loads(state_file.read_text())["pids"].values())
    for pid in reversed(list(process_tree(pids))):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    state_file.unlink()
    print(f"stopped {len(pids)} processes of the cluster in {workdir}")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness")
    parser.add_argument("--dir", type=Path, default=default_dir(), help="work directory of the cluster")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build the pinned binaries into the cache (idempotent)")
    b.add_argument("--only", default="", help="comma-separated components: " +
                   ",".join(c.name for c in build.COMPONENTS + build.ON_DEMAND))
    up = sub.add_parser("up", help="start etcd, kube-apiserver, controller-manager, scheduler, kwok")
    up.add_argument("--nodes", type=int, default=3)
    up.add_argument("--scale", action="store_true", help="lift the apiserver's request limits")
    sub.add_parser("down", help="stop the cluster started by `up`")
    sub.add_parser("env", help="print `export KUBECONFIG=...` for the running cluster")
    sub.add_parser("demo", help="cluster + sample workloads + ksm-py in the foreground (Ctrl-C stops all)")
    args = parser.parse_args(argv)

    if args.command == "build":
        return build.main(["--only", args.only] if args.only else [])
    if args.command == "down":
        return _down(args.dir)
    if args.command == "demo":
        if build.main([]) != 0:
            return 1
        from .demo import main as demo
        return demo()
    if args.command == "env":
        print(f"export KUBECONFIG={args.dir / 'admin.kubeconfig'}")
        return 0
    if (args.dir / "state.json").exists():
        print(f"a cluster is already running in {args.dir}; `python -m harness down` first", file=sys.stderr)
        return 1
    if build.main([]) != 0:
        return 1
    cluster = ControlPlane(args.dir, nodes=args.nodes, scale=args.scale, bound_to_parent=False)
    cluster.start()
    print(f"cluster up: {cluster.server}, {args.nodes} kwok nodes, logs in {args.dir / 'logs'}")
    print(f"export KUBECONFIG={cluster.admin_kubeconfig}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
