"""ksm-py reads kubeconfigs itself (the ``kubernetes`` package costs 0.2 s of CPU at each start);
what it reads must be what the kubernetes package reads, and what it cannot read goes there."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ksm_py.kube import config as kube_config

CA, CERT, KEY = b"-----CA-----\n", b"-----CERT-----\n", b"-----KEY-----\n"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def kubeconfig(user: dict[str, Any], cluster: dict[str, Any] | None = None, name: str = "c") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Config", "current-context": name,
            "clusters": [{"name": name, "cluster": cluster or {"server": "https://10.0.0.1:6443/",
                                                                  "certificate-authority-data": b64(CA)}}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "users": [{"name": name, "user": user}]}


def write(path: Path, config: dict[str, Any]) -> str:
    path.write_text(yaml.safe_dump(config))
    return str(path)


def read(path: str | None) -> bytes | None:
    return Path(path).read_bytes() if path else None


def view(conn: kube_config.Connection) -> dict[str, Any]:
    return {"host": conn.host.rstrip("/"), "verify_ssl": conn.verify_ssl, "tls_server_name": conn.tls_server_name,
            "ca": read(conn.ssl_ca_cert), "cert": read(conn.cert_file), "key": read(conn.key_file),
            "authorization": conn.authorization()}


def test_client_certificate_data_stays_in_memory(tmp_path: Path) -> None:
    path = write(tmp_path / "kc", kubeconfig({"client-certificate-data": b64(CERT), "client-key-data": b64(KEY)}))
    conn = kube_config._from_kubeconfig(path)
    assert view(conn) == {"host": "https://10.0.0.1:6443", "verify_ssl": True, "tls_server_name": None,
                          "ca": CA, "cert": CERT, "key": KEY, "authorization": None}
    assert all(str(p).startswith("/proc/self/fd/") for p in (conn.ssl_ca_cert, conn.cert_file, conn.key_file))
    assert sorted(os.listdir(tmp_path)) == ["kc"]  # nothing written next to it (nor anywhere: memfd)


def kinds_of_kubeconfig(tmp: Path) -> dict[str, str]:
    """Kubeconfigs ksm-py reads itself, each written under ``tmp``."""
    (tmp / "certs").mkdir()
    for name, data in (("ca.crt", CA), ("client.crt", CERT), ("client.key", KEY), ("token", b"file-token\n")):
        (tmp / "certs" / name).write_bytes(data)
    files = {"client-certificate": "certs/client.crt", "client-key": "certs/client.key"}
    return {
        "relative files": write(tmp / "files", kubeconfig(files, {"server": "https://k:6443",
                                                                  "certificate-authority": "certs/ca.crt"})),
        "token": write(tmp / "token", kubeconfig({"token": "abc.def"})),
        "token file": write(tmp / "tokenfile", kubeconfig({"tokenFile": "certs/token"})),
        "basic auth": write(tmp / "basic", kubeconfig({"username": "admin", "password": "s3cr3t"})),
        "insecure, server name": write(tmp / "insecure", kubeconfig(
            {"token": "t"}, {"server": "https://k:6443", "insecure-skip-tls-verify": True, "tls-server-name": "api"})),
        "plain http": write(tmp / "http", kubeconfig({}, {"server": "http://127.0.0.1:8080"})),
        "two files, KUBECONFIG style": ":".join([
            write(tmp / "first", {**kubeconfig({"token": "first"}, name="a"), "current-context": "a"}),
            write(tmp / "second", {**kubeconfig({"token": "second"}, name="a"), "current-context": "a"}),
        ]),
    }


KINDS = ["relative files", "token", "token file", "basic auth", "insecure, server name", "plain http",
         "two files, KUBECONFIG style"]


@pytest.mark.parametrize("kind", KINDS)
def test_same_connection_as_the_kubernetes_package(tmp_path: Path, kind: str) -> None:
    kinds = kinds_of_kubeconfig(tmp_path)
    assert sorted(kinds) == sorted(KINDS)
    path = kinds[kind]
    ours = kube_config._from_kubeconfig(path)
    theirs = kube_config._with_kubernetes_package(path, in_cluster=False)
    assert view(ours) == view(theirs)
    assert ours.authorization() or kind in ("relative files", "plain http")


def test_exec_plugins_go_to_the_kubernetes_package(tmp_path: Path) -> None:
    plugin = tmp_path / "plugin"
    plugin.write_text(f"#!{sys.executable}\nimport json\nprint(json.dumps({{'apiVersion': "
                      "'client.authentication.k8s.io/v1beta1', 'kind': 'ExecCredential', "
                      "'status': {'token': 'from-plugin'}}))\n")
    plugin.chmod(plugin.stat().st_mode | stat.S_IXUSR)
    path = write(tmp_path / "kc", kubeconfig({"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1",
                                                       "command": str(plugin)}}))
    with pytest.raises(kube_config.Unsupported):
        kube_config._from_kubeconfig(path)
    assert kube_config.load(path).authorization() == "Bearer from-plugin"


def test_a_missing_file_is_the_kubernetes_package_error(tmp_path: Path) -> None:
    path = write(tmp_path / "kc", kubeconfig({"client-certificate": "nope.crt", "client-key": "nope.key"}))
    with pytest.raises(Exception, match="File does not exist: .*nope"):
        kube_config.load(path)


def test_apiserver_flag_overrides_the_server(tmp_path: Path) -> None:
    path = write(tmp_path / "kc", kubeconfig({"token": "t"}))
    assert kube_config.load(path, "https://other:443").host == "https://other:443"
    assert kube_config.load("", "http://127.0.0.1:1").authorization() is None


def test_in_cluster_token_is_read_again_when_it_rotates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ca.crt").write_bytes(CA)
    (tmp_path / "token").write_text("one\n")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "fd00::1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    conn = kube_config._in_cluster(tmp_path)
    assert (conn.host, read(conn.ssl_ca_cert), conn.authorization()) == ("https://[fd00::1]:443", CA, "Bearer one")
    (tmp_path / "token").write_text("two")
    assert conn.authorization() == "Bearer one"  # read at most once a minute
    monkeypatch.setattr(kube_config, "TOKEN_REREAD_S", 0.0)
    assert conn.authorization() == "Bearer two"


def test_start_up_does_not_import_the_kubernetes_package(tmp_path: Path) -> None:
    path = write(tmp_path / "kc", kubeconfig({"client-certificate-data": b64(CERT), "client-key-data": b64(KEY)}))
    code = ("import sys, json; from ksm_py.kube import config; c = config.load(sys.argv[1]); "
            "print(json.dumps([c.host, 'kubernetes' in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}, timeout=60)
    assert json.loads(out.stdout) == ["https://10.0.0.1:6443", False]


def test_an_incomplete_in_cluster_environment_is_the_kubernetes_package_error(monkeypatch: pytest.MonkeyPatch) -> None:
    if kube_config.SERVICE_ACCOUNT_DIR.exists():
        pytest.skip("runs in a pod")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    with pytest.raises(Exception, match="Service token file does not exist"):
        kube_config.load()


def test_rotated_certificate_files_are_used_by_new_connections(tmp_path: Path) -> None:
    import shutil

    from harness.pki import PKI
    from ksm_py.kube.client import KubeClient

    one, two = PKI(tmp_path / "one"), PKI(tmp_path / "two")
    one.create()
    two.create()
    (tmp_path / "certs").mkdir()

    def install(pki: PKI) -> None:
        for src, dst in (("ca.crt", "ca.crt"), ("admin.crt", "client.crt"), ("admin.key", "client.key")):
            shutil.copy(pki.path(src), tmp_path / "certs" / dst)

    def ca_serial(client: KubeClient) -> str:
        return str(client.pool.connection_pool_kw["ssl_context"].get_ca_certs()[0]["serialNumber"])

    install(one)
    path = write(tmp_path / "kc", kubeconfig({"client-certificate": "certs/client.crt", "client-key": "certs/client.key"},
                                             {"server": "https://k:6443", "certificate-authority": "certs/ca.crt"}))
    client = KubeClient(kubeconfig=path)
    first, serial = client.pool, ca_serial(client)
    assert client.pool is first  # nothing changed: the same connections
    install(two)
    assert client.pool is not first and ca_serial(client) != serial
