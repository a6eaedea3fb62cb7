"""Search attributes Crossdock registers on the Temporal namespace. They hold no
personal data: states, channels and flags only."""

from __future__ import annotations

from temporalio.common import SearchAttributeIndexedValueType, SearchAttributeKey

CROSSDOCK_STATE = SearchAttributeKey.for_keyword("CrossdockState")
MARKETPLACE = SearchAttributeKey.for_keyword("Marketplace")
# The ship-to country (ISO alpha-2): a country says nothing about who the buyer is.
DESTINATION = SearchAttributeKey.for_keyword("Destination")
# A person must decide something (an approval is open).
AWAITING_APPROVAL = SearchAttributeKey.for_bool("AwaitingApproval")
# Something is late or stuck and an operator should look (reminders, risks, exceptions).
NEEDS_ATTENTION = SearchAttributeKey.for_bool("NeedsAttention")

ALL = (CROSSDOCK_STATE, MARKETPLACE, DESTINATION, AWAITING_APPROVAL, NEEDS_ATTENTION)

_CLI_TYPES = {
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.BOOL: "Bool",
}


def cli_flags() -> list[str]:
    """`--search-attribute Name=Type` flags registering ours on `temporal server start-dev`."""
    flags = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={_CLI_TYPES[key.indexed_value_type]}"]
    return flags
