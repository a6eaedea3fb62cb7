"""An account's scope checked against one case named by id (identity/scope.py has the
rules). The channel is in the id; the destination country is not, so a country-scoped
account's check describes the workflow once and reads its `Destination` attribute."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from crossdock.console.errors import ConsoleError, not_found
from crossdock.identity.scope import AccountScope, Scope, in_scope
from workflows.search import DESTINATION


async def destination_of(client: Client, workflow_id: str) -> str:
    """The case's ship-to country as its workflow carries it; empty for a case that
    carries none or does not exist (both outside every country scope). A ConsoleError
    (503) when Temporal cannot say, so a bulk run refuses that case only."""
    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            return ""
        message = f"cannot read {workflow_id}'s destination: {err.message}; try again"
        raise ConsoleError(503, "unavailable", message) from None
    return description.typed_search_attributes.get(DESTINATION) or ""


# Given a workflow id, its destination country ("" when it carries none).
CountryOf = Callable[[str], Awaitable[str]]


async def case_in_scope(client: Client, scope: Scope, workflow_id: str) -> bool:
    """Whether `scope` reaches the case `workflow_id` (described only if need be)."""
    return await reaches(scope, workflow_id, partial(destination_of, client))


async def reaches(scope: Scope, workflow_id: str, country_of: CountryOf) -> bool:
    """Whether `scope` reaches `workflow_id`: the channel from the id first, then, for
    a country scope only, the destination `country_of` finds (one describe)."""
    if scope is None:
        return True
    if not in_scope(AccountScope(marketplaces=scope.marketplaces), workflow_id):
        return False
    if scope.countries is None:
        return True
    if not scope.countries:
        return False
    return in_scope(scope, workflow_id, country=await country_of(workflow_id))


async def visible_case(client: Client, scope: Scope, workflow_id: str) -> None:
    """A 404, as for a case that does not exist, when `workflow_id` is out of `scope`."""
    if not await case_in_scope(client, scope, workflow_id):
        raise not_found(f"no case {workflow_id!r} for this account")
