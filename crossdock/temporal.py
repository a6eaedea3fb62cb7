"""Connecting to Temporal the same way from every process."""

from __future__ import annotations

from temporalio.client import Client

from crossdock.codec import data_converter
from crossdock.config import Settings


async def connect(settings: Settings) -> Client:
    """A client with the pydantic converter and, by default, payload encryption.

    Every process (worker, intake/console, CLI, demo) must share the codec keys, which
    they do through `CROSSDOCK_CODEC_KEYS` or the generated key in the state dir.
    """
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
    )
