"""Which marketplaces and destination countries an account works on.

An account may be scoped to some channels (a team that runs the eBay shop only, an
agency on Amazon), to some ship-to countries (the German desk), or both: then the
console's lists, inbox, case pages, audit timelines and actions, and the codec server,
show and act on those cases only. Unscoped accounts (the default) see every case.
Out-of-scope cases answer 404, as if they did not exist, so a scoped account cannot even
tell which order numbers another channel or country has.

A case's channel is read from its workflow id (`order-{channel}-...`,
`return-{channel}-...`, `dispute-{provider}-...`, Stripe disputes being the storefront's),
which intake makes and which carries no personal data. Its country is not in the id: it
is the `Destination` search attribute (workflows/search.py), which orders carry from
their start and returns take from their order. A case whose country is unknown (a
dispute, a buyer conversation: they carry none) is outside every country scope, so a
check fails closed.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from babel import Locale

from crossdock.models.order import Channel

# A dispute's provider → the channel whose sale it is about.
PROVIDER_CHANNEL = {"stripe": Channel.STOREFRONT, "amazon": Channel.AMAZON, "ebay": Channel.EBAY}
# Buyer conversations (`case-{channel}-{thread}`) are scoped by their channel too.
CASE_KINDS = ("order", "return", "dispute", "case")
# CLDR's two-letter territories are ISO 3166-1 alpha-2's assigned codes plus these
# reserved or grouping ones (Ascension, the EU, "unknown", ...), which no parcel ships to.
_NOT_ISO = frozenset({"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA"})
_NOT_ISO |= {"XB", "XK", "ZZ"}
ISO_COUNTRIES = frozenset(
    code
    for code in map(str, Locale("en").territories)
    if re.fullmatch(r"[A-Z]{2}", code) and code not in _NOT_ISO
)


@dataclass(frozen=True)
class AccountScope:
    """What a scoped account works on; a field that is None sets no limit."""

    marketplaces: frozenset[str] | None = None
    countries: frozenset[str] | None = None


# None: an unscoped account, every case.
Scope = AccountScope | None
# What an unknown account id works on.
NOTHING = AccountScope(marketplaces=frozenset(), countries=frozenset())


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


def in_scope(scope: Scope, workflow_id: str = "", marketplace: str = "", country: str = "") -> bool:
    """Whether an account of `scope` may see a case (by id, or by its marketplace, and
    by its destination `country`, which a country scope needs: unknown is outside)."""
    if scope is None:
        return True
    channel = marketplace or marketplace_of(workflow_id)
    if scope.marketplaces is not None and channel not in scope.marketplaces:
        return False
    return scope.countries is None or country in scope.countries


def needs_country(scope: Scope) -> bool:
    """Whether a check of `scope` needs the case's destination (one describe by id)."""
    return scope is not None and scope.countries is not None


def visibility_clause(scope: Scope) -> str:
    """The scope as a visibility query's extra condition (" AND ..."; empty: none).
    Values come from the stored, validated scope only, never from a request."""
    if scope is None:
        return ""
    parts = []
    if scope.marketplaces is not None:
        parts.append(f"Marketplace IN ({_quoted(scope.marketplaces)})")
    if scope.countries is not None:
        parts.append(f"Destination IN ({_quoted(scope.countries)})")
    return "".join(f" AND {part}" for part in parts)


def _quoted(values: frozenset[str]) -> str:
    # An empty scope matches nothing; `IN ()` is not valid visibility syntax.
    return ", ".join(f'"{v}"' for v in sorted(values)) or '""'


def scope_text(marketplaces: Collection[str] | None) -> str | None:
    """How a channel scope is stored: sorted channels, comma-separated; None for all."""
    if marketplaces is None:
        return None
    unknown = set(marketplaces) - set(Channel)
    if unknown or not marketplaces:
        known = ", ".join(c.value for c in Channel)
        raise ValueError(f"marketplaces {sorted(unknown) or '[]'} unknown or empty; use {known}")
    return ",".join(sorted(marketplaces))


def countries_text(countries: Collection[str] | None) -> str | None:
    """How a country scope is stored: sorted ISO 3166 alpha-2 codes, comma-separated;
    None for every country. Codes are taken in upper case ("de" is DE)."""
    if countries is None:
        return None
    codes = {c.strip().upper() for c in countries}
    unknown = sorted(c for c in codes if c not in ISO_COUNTRIES)
    if unknown or not codes:
        raise ValueError(
            f"countries {unknown or '[]'} are not ISO 3166 alpha-2 codes; "
            "use two letters such as DE, FR or US"
        )
    return ",".join(sorted(codes))


def parse_scope(text: str | None) -> frozenset[str] | None:
    """A stored channel or country list back (None: no limit)."""
    return None if text is None else frozenset(text.split(","))


def stored_scope(marketplaces: str | None, countries: str | None) -> Scope:
    """An account's scope from its two stored columns (None: unscoped)."""
    if marketplaces is None and countries is None:
        return None
    return AccountScope(marketplaces=parse_scope(marketplaces), countries=parse_scope(countries))
