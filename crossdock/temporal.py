"""Connecting to Temporal the same way from every process."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client
from temporalio.envconfig import ClientConfigProfile
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig

from crossdock.codec import data_converter
from crossdock.config import Settings
from crossdock.identity.binding import ClaimBinding
from crossdock.identity.claims import signer_for, verifier_for
from crossdock.observability.tracing import temporal_plugins


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    """A client with the pydantic converter and, by default, payload encryption.

    Every process (worker, intake/console, CLI, demo) must share the codec keys, which
    they do through `CROSSDOCK_CODEC_KEYS` or the generated key in the state dir. The
    principal key too: the client binds the grants it sends to their update and signs
    its signals (crossdock.identity.binding), which workers verify.
    """
    return await Client.connect(**client_options(settings, runtime))


def client_options(settings: Settings, runtime: Runtime | None = None) -> dict[str, Any]:
    """`Client.connect` keyword arguments for this deployment (docs/production.md).

    Where Temporal is (address, namespace, TLS, API key) comes from the
    `CROSSDOCK_TEMPORAL_*` settings, or, when `temporal_profile` names one, from the
    SDK's environment configuration: that profile of the TOML file in
    `TEMPORAL_CONFIG_FILE` (default `~/.config/temporalio/temporal.toml`), overridden by
    `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS_*`, the
    way the `temporal` CLI reads them. The converter and interceptors are always ours.
    """
    options: dict[str, Any]
    if settings.temporal_profile:
        options = dict(
            ClientConfigProfile.load(settings.temporal_profile).to_client_connect_config()
        )
    else:
        api_key = settings.temporal_api_key
        options = {
            "target_host": settings.temporal_address,
            "namespace": settings.temporal_namespace,
            "tls": tls_config(settings),
            "api_key": api_key.get_secret_value() if api_key else None,
        }
    return options | {
        "data_converter": data_converter(settings),
        "interceptors": [claim_binding(settings)],
        "plugins": temporal_plugins(settings),
        "runtime": runtime,
    }


def tls_config(settings: Settings) -> TLSConfig | bool:
    """mTLS to a cluster's frontend when certificates are configured; plain TLS with an
    API key (Temporal Cloud); neither for the loopback dev server.

    Raises:
        ValueError: A client certificate without its key, or the other way round.
    """
    cert, key = settings.temporal_tls_cert, settings.temporal_tls_key
    if (cert is None) != (key is None):
        raise ValueError(
            "CROSSDOCK_TEMPORAL_TLS_CERT and CROSSDOCK_TEMPORAL_TLS_KEY go together (mTLS)"
        )
    ca = settings.temporal_tls_ca
    if cert is None and ca is None:
        return settings.temporal_api_key is not None
    return TLSConfig(
        server_root_ca_cert=ca.read_bytes() if ca else None,
        client_cert=cert.read_bytes() if cert else None,
        client_private_key=key.read_bytes() if key else None,
        domain=settings.temporal_tls_server_name or None,
    )


def claim_binding(settings: Settings) -> ClaimBinding:
    """The client interceptor for this deployment's principal key."""
    return ClaimBinding(signer_for(settings), verifier_for(settings))


def with_claim_binding(client: Client, settings: Settings) -> Client:
    """`client` (made elsewhere, e.g. by a test environment) binding grants and signing
    signals as `connect` does."""
    config = client.config()
    config["interceptors"] = [*config["interceptors"], claim_binding(settings)]
    return Client(**config)
