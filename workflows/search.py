"""Search attributes Crossdock registers on the Temporal namespace. They hold no
personal data: states, channels and flags only."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

CROSSDOCK_STATE = SearchAttributeKey.for_keyword("CrossdockState")
MARKETPLACE = SearchAttributeKey.for_keyword("Marketplace")

ALL = (CROSSDOCK_STATE, MARKETPLACE)
