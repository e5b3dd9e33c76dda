"""``--tls-config``: HTTPS and bcrypt basic auth on both ports, and client certificates."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bcrypt
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from harness.controlplane import wait_for
from tests.conftest import Process, free_port, ksm_py_argv

pytestmark = pytest.mark.e2e

USER, PASSWORD = "prometheus", "s3cret-pa55"


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _cert(subject: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey]
          | None = None, *, ca: bool = False, server: bool = False) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (x509.CertificateBuilder().subject_name(name)
               .issuer_name(issuer[0].subject if issuer else name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256())


def _write(path: Path, cert: x509.Certificate | None = None, key: ec.EllipticCurvePrivateKey | None = None) -> Path:
    data = b""
    if cert is not None:
        data += cert.public_bytes(serialization.Encoding.PEM)
    if key is not None:
        data += key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("pki")
    server_key = _key()
    server = _cert("localhost", server_key, server=True)
    ca_key = _key()
    ca = _cert("ksm-py-test-ca", ca_key, ca=True)
    client_key = _key()
    client = _cert("prometheus", client_key, (ca, ca_key))
    stranger_key = _key()
    stranger = _cert("stranger", stranger_key)
    return {"cert": _write(d / "server.crt", server), "key": _write(d / "server.key", key=server_key),
            "ca": _write(d / "ca.crt", ca), "client": _write(d / "client.pem", client, client_key),
            "stranger": _write(d / "stranger.pem", stranger, stranger_key)}


def _start(spawn: Callable[..., Process], kubeconfig: Path, web_config: dict[str, Any], tmp_path: Path,
           name: str) -> tuple[int, int, Process]:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(web_config))
    port, tport = free_port(), free_port()
    proc = spawn([*ksm_py_argv(), f"--kubeconfig={kubeconfig}", "--resources=namespaces", "--host=127.0.0.1",
                  f"--port={port}", "--telemetry-host=127.0.0.1", f"--telemetry-port={tport}",
                  f"--tls-config={path}"], name=name)
    return port, tport, proc


def _get(url: str, ctx: ssl.SSLContext, auth: tuple[str, str] | None = None,
         raw_auth: str | None = None) -> tuple[int, bytes]:
    headers = {}
    if auth is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    if raw_auth is not None:
        headers["Authorization"] = raw_auth
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), context=ctx, timeout=20) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _client_ctx(pki: dict[str, Path], cert: str | None = None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(pki["cert"]))
    if cert is not None:
        ctx.load_cert_chain(str(pki[cert]))
    return ctx


def _wait_https(url: str, ctx: ssl.SSLContext, proc: Process) -> None:
    def up() -> bool:
        if proc.proc.poll() is not None:
            raise RuntimeError(f"ksm-py exited {proc.proc.returncode}:\n{proc.tail()}")
        try:
            return _get(url, ctx, (USER, PASSWORD))[0] == 200
        except (OSError, ssl.SSLError):
            return False
    wait_for(url, up, 60, interval=0.3, on_timeout=lambda: "\n" + proc.tail())


def test_https_and_basic_auth_on_both_ports(pki: dict[str, Path], restricted_kubeconfig_path: Path, spawn: Any,
                                            tmp_path: Path) -> None:
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=10)).decode()
    port, tport, proc = _start(spawn, restricted_kubeconfig_path, {
        "tls_server_config": {"cert_file": str(pki["cert"]), "key_file": str(pki["key"])},
        "basic_auth_users": {USER: hashed}}, tmp_path, "tls")
    ctx = _client_ctx(pki)
    main, telemetry = f"https://127.0.0.1:{port}", f"https://127.0.0.1:{tport}"
    _wait_https(f"{main}/healthz", ctx, proc)

    def metrics_ready() -> bool:
        return b"kube_namespace_created{" in _get(f"{main}/metrics", ctx, (USER, PASSWORD))[1]
    wait_for("namespaces listed", metrics_ready, 60)
    status, body = _get(f"{telemetry}/metrics", ctx, (USER, PASSWORD))
    assert status == 200 and b"kube_state_metrics_list_total" in body

    for base in (main, telemetry):
        for path in ("/metrics", "/"):
            assert _get(base + path, ctx)[0] == 401, "no credentials"
            assert _get(base + path, ctx, (USER, "wrong"))[0] == 401, "wrong password"
            assert _get(base + path, ctx, ("nobody", PASSWORD))[0] == 401, "unknown user"
            assert _get(base + path, ctx, (USER, "x" * 100))[0] == 401, "a password longer than bcrypt allows"
            assert _get(base + path, ctx, raw_auth="Basic !!!notbase64")[0] == 401, "malformed header"
            assert _get(base + path, ctx, raw_auth=f"Bearer {PASSWORD}")[0] == 401, "another scheme"
        status, body = _get(base + "/metrics", ctx, (USER, PASSWORD))
        assert status == 200, body
        # The scheme name is case-insensitive.
        lower = "basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        assert _get(base + "/metrics", ctx, raw_auth=lower)[0] == 200
        # Plain HTTP on a TLS port gets no metrics.
        with pytest.raises((OSError, urllib.error.URLError)):
            urllib.request.urlopen(base.replace("https", "http") + "/metrics", timeout=10).read()
    unauthorized = urllib.request.Request(f"{main}/metrics")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(unauthorized, context=ctx, timeout=20)
    assert err.value.headers["WWW-Authenticate"].startswith("Basic")
    assert proc.proc.poll() is None, proc.tail()


def test_client_certificates_are_verified(pki: dict[str, Path], restricted_kubeconfig_path: Path, spawn: Any,
                                          tmp_path: Path) -> None:
    port, tport, proc = _start(spawn, restricted_kubeconfig_path, {"tls_server_config": {
        "cert_file": str(pki["cert"]), "key_file": str(pki["key"]),
        "client_auth_type": "RequireAndVerifyClientCert", "client_ca_file": str(pki["ca"])}}, tmp_path, "mtls")
    good = _client_ctx(pki, "client")
    _wait_https(f"https://127.0.0.1:{port}/healthz", good, proc)
    assert _get(f"https://127.0.0.1:{tport}/metrics", good)[0] == 200
    for ctx in (_client_ctx(pki), _client_ctx(pki, "stranger")):
        for p in (port, tport):
            with pytest.raises((ssl.SSLError, OSError, urllib.error.URLError)):
                _get(f"https://127.0.0.1:{p}/metrics", ctx)
    assert proc.proc.poll() is None, proc.tail()


def test_bad_tls_config_exits_with_a_message(pki: dict[str, Path], restricted_kubeconfig_path: Path, spawn: Any,
                                             tmp_path: Path) -> None:
    for name, config, message in [
        ("bad-hash", {"basic_auth_users": {USER: "$2y$10$tooshort"}}, "bcrypt"),
        ("bad-version", {"tls_server_config": {"cert_file": str(pki["cert"]), "key_file": str(pki["key"]),
                                               "min_version": "TLS14"}}, "TLS14"),
        ("ca-without-policy", {"tls_server_config": {"cert_file": str(pki["cert"]), "key_file": str(pki["key"]),
                                                     "client_ca_file": str(pki["ca"])}}, "client_ca_file"),
        ("typo", {"tls_server_config": {"cert_file": str(pki["cert"]), "key_file": str(pki["key"])},
                  "basic_auth_user": {}}, "basic_auth_user"),
    ]:
        _, _, proc = _start(spawn, restricted_kubeconfig_path, config, tmp_path, name)
        assert proc.proc.wait(60) == 2, proc.tail()
        assert "--tls-config" in proc.tail() and message in proc.tail(), proc.tail()


def test_rotated_certificate_and_users_are_picked_up_without_a_restart(
        restricted_kubeconfig_path: Path, spawn: Any, tmp_path: Path) -> None:
    """As exporter-toolkit: new connections see the certificate on disk, new requests the users on
    disk; the files are replaced by rename, as a mounted ConfigMap or Secret swaps them."""
    first_key, second_key = _key(), _key()
    first, second = _cert("localhost", first_key, server=True), _cert("localhost", second_key, server=True)
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    _write(cert, first)
    _write(key, key=first_key)
    trusts_first, trusts_second = tmp_path / "first.crt", tmp_path / "second.crt"
    _write(trusts_first, first)
    _write(trusts_second, second)
    old_password, new_password = "old-pa55word", "new-pa55word"
    config = {"tls_server_config": {"cert_file": str(cert), "key_file": str(key)},
              "basic_auth_users": {USER: bcrypt.hashpw(old_password.encode(), bcrypt.gensalt(rounds=4)).decode()}}
    port, _, proc = _start(spawn, restricted_kubeconfig_path, config, tmp_path, "tls-reload")
    url = f"https://127.0.0.1:{port}/metrics"
    first_ctx = ssl.create_default_context(cafile=str(trusts_first))
    second_ctx = ssl.create_default_context(cafile=str(trusts_second))
    wait_for(url, lambda: _get(url, first_ctx, (USER, old_password))[0] == 200, 60,
             on_timeout=lambda: "\n" + proc.tail())

    staged_cert, staged_key = tmp_path / "staged.crt", tmp_path / "staged.key"
    _write(staged_cert, second)
    _write(staged_key, key=second_key)
    staged_key.replace(key)
    staged_cert.replace(cert)

    def rotated() -> bool:
        try:
            return _get(url, second_ctx, (USER, old_password))[0] == 200
        except (OSError, ssl.SSLError):
            return False
    wait_for("the rotated certificate", rotated, 30, on_timeout=lambda: "\n" + proc.tail())
    with pytest.raises((OSError, ssl.SSLError)):
        _get(url, first_ctx, (USER, old_password))  # a new connection no longer gets the old certificate

    config["basic_auth_users"] = {USER: bcrypt.hashpw(new_password.encode(), bcrypt.gensalt(rounds=4)).decode()}
    staged = tmp_path / "staged.yaml"
    staged.write_text(yaml.safe_dump(config))
    staged.replace(tmp_path / "tls-reload.yaml")
    wait_for("the new password", lambda: _get(url, second_ctx, (USER, new_password))[0] == 200, 30,
             on_timeout=lambda: "\n" + proc.tail())
    assert _get(url, second_ctx, (USER, old_password))[0] == 401
    assert proc.proc.poll() is None, proc.tail()
