"""`python worker.py` as it was before the profile's fixes (bench/README.md), for the
side-by-side comparison in bench/compare.py: workflow modules compiled again on every
sandbox re-import, and the SDK's `DataConverter.with_context`, which builds a payload
converter per serialization context."""

from __future__ import annotations

import asyncio

from temporalio.converter import DataConverter

import crossdock.codec
import crossdock.workflow_sandbox


def _no_cache() -> None:
    """Leave the sandbox's imports compiling from source."""


if __name__ == "__main__":
    crossdock.workflow_sandbox.compile_workflows_once = _no_cache
    crossdock.codec.StampingDataConverter.with_context = DataConverter.with_context  # type: ignore[method-assign]
    import worker  # after the patches: it binds what it imports

    asyncio.run(worker.main())
