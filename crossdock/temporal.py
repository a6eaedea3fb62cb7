"""Connecting to Temporal the same way from every process."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from crossdock.config import Settings


async def connect(settings: Settings) -> Client:
    """A client with the pydantic converter every Crossdock payload needs."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )
