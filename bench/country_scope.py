"""What a country scope costs the console, measured on a local Temporal dev server.

    .venv/bin/python -m bench.country_scope [ORDERS]

Starts ORDERS (default 1000) order workflows with no worker (they stay running with
their search attributes), shipped to ten countries in turn, then prints: a list page for
an unscoped and a DE-scoped account (visibility's `Destination IN` query: rows and
time), what filtering after an unscoped query of `limit` rows would have shown instead,
and the check of one case by id (no call for a channel scope, one describe for a
country scope).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from crossdock.binaries import installed_binary
from crossdock.console.case_scope import case_in_scope
from crossdock.console.kinds import BY_PLURAL
from crossdock.console.reads import CaseFilter, cases
from crossdock.identity.scope import AccountScope, in_scope
from workflows.search import ALL, CROSSDOCK_STATE, DESTINATION, MARKETPLACE

COUNTRIES = ("DE", "FR", "IT", "ES", "NL", "GB", "US", "JP", "AU", "CA")
GERMANY = AccountScope(countries=frozenset({"DE"}))
STOREFRONT = AccountScope(marketplaces=frozenset({"storefront"}))
LIMIT = 50
PORT = 9500


async def start_orders(client: Client, count: int) -> list[str]:
    async def one(i: int) -> str:
        workflow_id = f"order-storefront-BENCH{i:05d}"
        attributes = [
            SearchAttributePair(CROSSDOCK_STATE, "in_review"),
            SearchAttributePair(MARKETPLACE, "storefront"),
            SearchAttributePair(DESTINATION, COUNTRIES[i % len(COUNTRIES)]),
        ]
        await client.start_workflow(
            "OrderWorkflow",
            id=workflow_id,
            task_queue="bench-no-worker",
            search_attributes=TypedSearchAttributes(attributes),
        )
        return workflow_id

    ids = []
    for start in range(0, count, 100):
        ids += await asyncio.gather(*(one(i) for i in range(start, min(start + 100, count))))
    for _ in range(300):  # visibility catches up within a minute at most
        if (await client.count_workflows("WorkflowType = 'OrderWorkflow'")).count >= count:
            break
        await asyncio.sleep(0.2)
    return ids


async def timed_list(client: Client, scope: AccountScope | None) -> tuple[int, float]:
    started = time.perf_counter()
    rows = await cases(client, BY_PLURAL["orders"], CaseFilter(limit=LIMIT), {}, scope)
    return len(rows), (time.perf_counter() - started) * 1000


async def check_ms(client: Client, scope: AccountScope, ids: list[str]) -> float:
    times = []
    for workflow_id in ids:
        started = time.perf_counter()
        await case_in_scope(client, scope, workflow_id)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def main(count: int) -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=installed_binary("temporal"),
        search_attributes=ALL,
        port=PORT,
    )
    try:
        client = env.client
        started = time.perf_counter()
        ids = await start_orders(client, count)
        print(f"{count} orders started in {time.perf_counter() - started:.1f} s")
        for name, scope in (("unscoped", None), ("DE-scoped", GERMANY)):
            lists = [await timed_list(client, scope) for _ in range(20)]
            rows = lists[0][0]
            print(
                f"list ({name}, limit {LIMIT}): {rows} rows, median "
                f"{statistics.median(ms for _, ms in lists):.1f} ms"
            )
        window = await cases(client, BY_PLURAL["orders"], CaseFilter(limit=LIMIT), {})
        kept = [r for r in window if in_scope(GERMANY, r.workflow_id, r.marketplace, r.destination)]
        print(f"filtering after an unscoped query instead: {len(kept)} of {LIMIT} rows")
        sample = ids[:100]
        channel_ms = await check_ms(client, STOREFRONT, sample)
        print(f"check by id, channel scope: median {channel_ms:.3f} ms")
        print(
            f"check by id, country scope: median {await check_ms(client, GERMANY, sample):.2f} ms"
        )
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
