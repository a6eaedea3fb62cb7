"""EasyPost publishes no OpenAPI model; its SDK's recorded test-mode exchanges
(`easypost_recorded.json`) are the reference. What they prove is the fields EasyPost
sends and takes: every object the sandbox answers with may carry only fields EasyPost's
objects of the same kind carried in the recordings, and every request body only fields
the SDK sent (recursively, by the name of the object that holds them)."""

from __future__ import annotations

import json
from collections import defaultdict
from functools import cache
from typing import Any

import httpx

from tests.contracts.contracts import contracts_dir

Fields = dict[str, set[str]]


def _collect(node: Any, into: Fields, where: str) -> None:
    if isinstance(node, dict):
        kind = str(node.get("object") or where)
        into[kind].update(node)
        for key, value in node.items():
            _collect(value, into, key)
    elif isinstance(node, list):
        for item in node:
            _collect(item, into, where)


@cache
def recorded() -> tuple[Fields, Fields]:
    """(fields per response object kind, fields per request object name)."""
    exchanges = json.loads((contracts_dir() / "easypost_recorded.json").read_text())
    answers: Fields = defaultdict(set)
    asked: Fields = defaultdict(set)
    for pairs in exchanges.values():
        for pair in pairs:
            _collect(pair.get("response"), answers, "(body)")
            _collect(pair.get("request"), asked, "(body)")
    # The SDK's recordings include an insured claim but no tracker read; the tracker's
    # fields come from the recorded shipment's `tracker`.
    return dict(answers), dict(asked)


# Request objects by the field that holds them, and the response object they become: a
# request may send what the object has even if the recordings' requests did not.
REQUEST_OBJECTS = {
    "shipment": "Shipment",
    "address": "Address",
    "to_address": "Address",
    "from_address": "Address",
    "parcel": "Parcel",
    "customs_info": "CustomsInfo",
    "customs_items": "CustomsItem",
    "(body)": "Claim",
}


def request_fields() -> Fields:
    """What a request may send, per object name: the SDK's fields and the object's."""
    answers, asked = recorded()
    names = set(asked) | set(REQUEST_OBJECTS)
    return {n: asked.get(n, set()) | answers.get(REQUEST_OBJECTS.get(n, ""), set()) for n in names}


def _unknown(node: Any, known: Fields, where: str, path: str) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        kind = str(node.get("object") or where)
        if kind in known:
            extra = sorted(set(node) - known[kind])
            found += [f"{path or '(body)'}: {kind} has no field {name!r}" for name in extra]
        for key, value in node.items():
            found += _unknown(value, known, key, f"{path}/{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            found += _unknown(item, known, where, f"{path}/{i}")
    return found


class RecordedTransport(httpx.AsyncBaseTransport):
    """Checks EasyPost requests and answers against the recorded fields."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.violations: list[str] = []
        self.seen: set[str] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answers, _ = recorded()
        asked = request_fields()
        await request.aread()
        where = f"{request.method} {request.url.path}"
        if request.content:
            self.violations += [
                f"{where} request {v}"
                for v in _unknown(json.loads(request.content), asked, "(body)", "")
            ]
        response = await self.inner.handle_async_request(request)
        await response.aread()
        if response.content and "/_sandbox/" not in request.url.path:
            self.seen.add(where)
            self.violations += [
                f"{where} {response.status_code} {v}"
                for v in _unknown(response.json(), answers, "(body)", "")
            ]
        return response
