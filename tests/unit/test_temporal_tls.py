"""How Crossdock's clients reach Temporal: nothing on loopback, mTLS with configured
certificates, TLS with an API key; a certificate without its key is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.service import TLSConfig

from crossdock.config import Settings
from crossdock.temporal import tls_config


def test_the_loopback_dev_server_gets_no_tls() -> None:
    assert tls_config(Settings(_env_file=None)) is False


def test_certificates_make_mtls(tmp_path: Path) -> None:
    for name in ("ca.pem", "client.pem", "client.key"):
        (tmp_path / name).write_bytes(name.encode())
    settings = Settings(
        temporal_tls_ca=tmp_path / "ca.pem",
        temporal_tls_cert=tmp_path / "client.pem",
        temporal_tls_key=tmp_path / "client.key",
        temporal_tls_server_name="frontend.temporal.internal",
        _env_file=None,
    )
    tls = tls_config(settings)
    assert isinstance(tls, TLSConfig)
    assert (tls.server_root_ca_cert, tls.client_cert, tls.client_private_key) == (
        b"ca.pem",
        b"client.pem",
        b"client.key",
    )
    assert tls.domain == "frontend.temporal.internal"


def test_an_api_key_means_tls_and_half_a_pair_is_refused(tmp_path: Path) -> None:
    assert tls_config(Settings(temporal_api_key=SecretStr("k"), _env_file=None)) is True
    (tmp_path / "client.pem").write_text("x")
    with pytest.raises(ValueError, match="go together"):
        tls_config(Settings(temporal_tls_cert=tmp_path / "client.pem", _env_file=None))
