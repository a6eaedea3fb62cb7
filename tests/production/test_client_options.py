"""Where Temporal is comes from settings: the loopback dev server, a cluster with mTLS,
Temporal Cloud with an API key, or a profile of the SDK's environment configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.service import TLSConfig

from crossdock.codec import EncryptionCodec
from crossdock.config import Settings
from crossdock.identity.binding import ClaimBinding
from crossdock.keys import new_codec_key
from crossdock.temporal import client_options


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(state_dir=tmp_path, _env_file=None, **values)  # type: ignore[arg-type]


def test_the_embedded_dev_server_is_plain_loopback(tmp_path: Path) -> None:
    options = client_options(_settings(tmp_path))
    assert options["target_host"] == "127.0.0.1:7233"
    assert options["namespace"] == "default"
    assert options["tls"] is False and options["api_key"] is None
    # Ours whatever the cluster: the encrypting converter and the claim binding.
    assert isinstance(options["data_converter"].payload_codec, EncryptionCodec)
    assert [type(i) for i in options["interceptors"]] == [ClaimBinding]


def test_temporal_cloud_with_an_api_key(tmp_path: Path) -> None:
    options = client_options(
        _settings(
            tmp_path,
            temporal_address="crossdock-prod.a1b2c.tmprl.cloud:7233",
            temporal_namespace="crossdock-prod.a1b2c",
            temporal_api_key=SecretStr("eyJhbGciOi.cloud-key"),
            codec_keys=SecretStr(new_codec_key("k1")),
        )
    )
    assert options["target_host"] == "crossdock-prod.a1b2c.tmprl.cloud:7233"
    assert options["namespace"] == "crossdock-prod.a1b2c"
    assert options["api_key"] == "eyJhbGciOi.cloud-key"
    assert options["tls"] is True


def test_a_cluster_with_mtls(tmp_path: Path) -> None:
    for name in ("ca.pem", "client.pem", "client.key"):
        (tmp_path / name).write_text(name)
    options = client_options(
        _settings(
            tmp_path,
            temporal_address="temporal-frontend.temporal:7233",
            temporal_namespace="crossdock",
            temporal_tls_ca=tmp_path / "ca.pem",
            temporal_tls_cert=tmp_path / "client.pem",
            temporal_tls_key=tmp_path / "client.key",
        )
    )
    tls = options["tls"]
    assert isinstance(tls, TLSConfig) and tls.client_private_key == b"client.key"
    assert options["namespace"] == "crossdock" and options["api_key"] is None


def test_a_profile_of_the_sdk_environment_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "client.pem").write_text("cert")
    (tmp_path / "client.key").write_text("key")
    config = tmp_path / "temporal.toml"
    config.write_text(
        f"""
[profile.prod]
address = "crossdock.a1b2c.tmprl.cloud:7233"
namespace = "crossdock.a1b2c"

[profile.prod.tls]
client_cert_path = "{tmp_path / "client.pem"}"
client_key_path = "{tmp_path / "client.key"}"
"""
    )
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(config))
    # An environment variable overrides the file, as for the `temporal` CLI.
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "crossdock-staging.a1b2c")
    options = client_options(
        _settings(tmp_path, temporal_profile="prod", temporal_address="ignored:1")
    )
    assert options["target_host"] == "crossdock.a1b2c.tmprl.cloud:7233"
    assert options["namespace"] == "crossdock-staging.a1b2c"
    tls = options["tls"]
    assert isinstance(tls, TLSConfig) and tls.client_cert == b"cert"
    assert isinstance(options["data_converter"].payload_codec, EncryptionCodec)
