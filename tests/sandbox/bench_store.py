"""What remembering costs: create+confirm PaymentIntents per second, records in memory vs
in the SQLite file, side by side in one run, over real HTTP.

    .venv/bin/python -m tests.sandbox.bench_store [requests per round] [rounds]

Rounds alternate memory and file so that a busy machine slows both alike; the best round
of each is printed.
"""

from __future__ import annotations

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


def main(requests: int = 500, rounds: int = 3) -> None:
    best = {"memory": 0.0, "file": 0.0}
    with tempfile.TemporaryDirectory() as folder:
        for round_number in range(rounds):
            database = Path(folder) / f"bench-{round_number}.db"
            best["memory"] = max(best["memory"], rate(None, requests, round_number))
            best["file"] = max(best["file"], rate(database, requests, round_number))
    cost = 100 * (1 - best["file"] / best["memory"])
    print(f"create+confirm PaymentIntent, {requests} requests x {rounds} rounds (best)")
    print(f"  in memory : {best['memory']:7.0f} req/s")
    print(f"  SQLite WAL: {best['file']:7.0f} req/s  ({cost:.0f}% slower)")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
