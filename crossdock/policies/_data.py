"""Reading the policy tables shipped in `crossdock/data/`.

Policies read their tables once, when their module is imported: workflow code calls the
policies, and workflow code must not read files (the worker imports `crossdock` outside
the workflow sandbox and passes it through).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def load_table(name: str) -> Any:
    """The parsed JSON of `crossdock/data/{name}`."""
    return json.loads(resources.files("crossdock.data").joinpath(name).read_text("utf-8"))
