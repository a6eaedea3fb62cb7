"""Which marketplaces an account works on.

An account may be scoped to some channels (a team that runs the eBay shop only, an
agency on Amazon): then the console's lists, inbox, case pages, audit timelines and
actions, and the codec server, show and act on that account's channels only. Unscoped
accounts (the default) see every channel. Out-of-scope cases answer 404, as if they did
not exist, so a scoped account cannot even tell which order numbers another channel has.

A case's channel is read from its workflow id (`order-{channel}-...`,
`return-{channel}-...`, `dispute-{provider}-...`, Stripe disputes being the storefront's),
which intake makes and which carries no personal data.
"""

from __future__ import annotations

from collections.abc import Collection

from crossdock.models.order import Channel

# A dispute's provider → the channel whose sale it is about.
PROVIDER_CHANNEL = {"stripe": Channel.STOREFRONT, "amazon": Channel.AMAZON, "ebay": Channel.EBAY}
# Buyer conversations (`case-{channel}-{thread}`) are scoped by their channel too.
CASE_KINDS = ("order", "return", "dispute", "case")

Scope = frozenset[str] | None


def marketplace_of(workflow_id: str) -> str:
    """The channel a case's workflow id belongs to; empty when it names none."""
    kind, _, rest = workflow_id.partition("-")
    if kind not in CASE_KINDS:
        return ""
    segment = rest.partition("-")[0]
    if kind == "dispute":
        channel = PROVIDER_CHANNEL.get(segment)
        return channel.value if channel else ""
    return segment if segment in set(Channel) else ""


def in_scope(scope: Scope, workflow_id: str = "", marketplace: str = "") -> bool:
    """Whether an account of `scope` may see a case (by id, or by its marketplace)."""
    if scope is None:
        return True
    return (marketplace or marketplace_of(workflow_id)) in scope


def scope_text(marketplaces: Collection[str] | None) -> str | None:
    """How a scope is stored: sorted channels, comma-separated; None for every channel."""
    if marketplaces is None:
        return None
    unknown = set(marketplaces) - set(Channel)
    if unknown or not marketplaces:
        known = ", ".join(c.value for c in Channel)
        raise ValueError(f"marketplaces {sorted(unknown) or '[]'} unknown or empty; use {known}")
    return ",".join(sorted(marketplaces))


def parse_scope(text: str | None) -> Scope:
    """The stored form back (None: every channel)."""
    return None if text is None else frozenset(text.split(","))
