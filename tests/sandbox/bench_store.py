"""What remembering costs: create+confirm PaymentIntents per second, records in memory vs
in the SQLite file, side by side in one run: over real HTTP, and in process (no socket,
so the store's share of each request shows more).

    .venv/bin/python -m tests.sandbox.bench_store [requests per round] [rounds]

Rounds alternate memory and file so that a busy machine slows both alike; the best round
of each is printed.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

import httpx

from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig
from tests.servers import serve

FORM = {
    "amount": "2500",
    "currency": "eur",
    "capture_method": "manual",
    "confirm": "true",
    "payment_method": "pm_card_visa",
}


def rate(database: Path | None, requests: int, round_number: int) -> float:
    """Requests per second of keyed create+confirm calls against a fresh sandbox."""
    with (
        serve(create_app(SandboxConfig(database=database))) as url,
        httpx.Client(base_url=url, headers={"Authorization": "Bearer sk_test_bench"}) as http,
    ):
        started = time.perf_counter()
        for number in range(requests):
            key = {"Idempotency-Key": f"bench-{round_number}-{number}/authorize"}
            response = http.post("/stripe/v1/payment_intents", data=FORM, headers=key)
            assert response.status_code == 200, response.text
        return requests / (time.perf_counter() - started)


async def in_process_rate(database: Path | None, requests: int) -> float:
    """The same calls through the ASGI interface, without uvicorn or a socket."""
    transport = httpx.ASGITransport(app=create_app(SandboxConfig(database=database)))
    auth = {"Authorization": "Bearer sk_test_bench"}
    async with httpx.AsyncClient(transport=transport, base_url="http://s", headers=auth) as http:
        started = time.perf_counter()
        for number in range(requests):
            key = {"Idempotency-Key": f"bench-{number}/authorize"}
            response = await http.post("/stripe/v1/payment_intents", data=FORM, headers=key)
            assert response.status_code == 200, response.text
        return requests / (time.perf_counter() - started)


def one_round(folder: Path, number: int, requests: int) -> dict[str, float]:
    """Each of the four ways once, one after the other."""
    http_file, asgi_file = folder / f"http-{number}.db", folder / f"asgi-{number}.db"
    return {
        "http memory": rate(None, requests, number),
        "http file": rate(http_file, requests, number),
        "asgi memory": asyncio.run(in_process_rate(None, requests)),
        "asgi file": asyncio.run(in_process_rate(asgi_file, requests)),
    }


def main(requests: int = 500, rounds: int = 3) -> None:
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for number in range(rounds):
            for name, measured in one_round(Path(folder), number, requests).items():
                best[name] = max(best.get(name, 0.0), measured)
    print(f"create+confirm PaymentIntent, {requests} requests x {rounds} rounds (best)")
    for way in ("http", "asgi"):
        memory, file = best[f"{way} memory"], best[f"{way} file"]
        print(
            f"  {way}: in memory {memory:6.0f} req/s, SQLite WAL {file:6.0f} req/s "
            f"({100 * (1 - file / memory):.0f}% slower)"
        )


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
