"""The OpenAPI contract of intake and the console API, exercised by schemathesis over real
HTTP against the running stack (dev server, sandbox, intake, worker).

Every operation of `/openapi.json` gets generated requests, valid (positive) and
invalid (negative), derandomized and bounded so the file runs in about a minute. Each
request is signed as its partner signs it (storefront and webhook HMACs) or carries an
operator's API token, so it reaches the validation behind the signature. Each answer
must be no 5xx, in a status code the spec lists for that operation, with a body of the
documented schema; negative data must be refused with a 4xx. Checkouts built from the
catalog, and placed at the sandbox storefront first so the shop's re-read succeeds, must
be accepted.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any, cast

import hypothesis
import hypothesis.errors
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given
from requests.auth import AuthBase
from schemathesis import APIOperation, GenerationMode
from schemathesis import Case as AnyCase
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok

from crossdock.demo import DemoOrders, place
from crossdock.identity import Accounts
from crossdock.models.approval import Role
from crossdock.models.order import Channel
from crossdock.sandbox import storefront
from crossdock.sandbox.easypost import shapes as easypost_shapes
from crossdock.secrets import (
    easypost_webhook_secret,
    storefront_signing_secret,
    stripe_webhook_secret,
)
from crossdock.store import Database, upgrade
from starter.stripe_signature import sign as stripe_sign
from tests.integration.conftest import Stack

# Per operation and generation mode: 15 operations x 2 modes x this many requests.
MAX_EXAMPLES = 10
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
Operation = APIOperation[Any, Any, Any, Any]
Case = AnyCase[Operation]
_demo = DemoOrders(seed=4242, decline_rate=0.0, review_rate=0.0)


class PartnerSigning(AuthBase):
    """Signs each request as the partner behind its path signs it, over the raw body
    schemathesis serialized; the console API gets an operator's token."""

    def __init__(self, stack: Stack, token: str) -> None:
        settings = stack.settings
        self._token = token
        self._storefront = storefront_signing_secret(settings)
        self._easypost = easypost_webhook_secret(settings)
        self._stripe = stripe_webhook_secret(settings)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        # schemathesis sends bytes or text, never a stream.
        raw = body.encode() if isinstance(body, str) else cast(bytes, body)
        path = request.path_url
        # A minute ago: within the tolerance, and never the signature of another request
        # the sandbox sent in the same second.
        t = int(time.time()) - 60
        if path.startswith("/intake/storefront/checkout"):
            request.headers.update(storefront.sign(raw, self._storefront, t))
        elif path.startswith("/webhooks/easypost"):
            request.headers.update(easypost_shapes.sign(raw, self._easypost))
        elif path.startswith("/webhooks/stripe"):
            request.headers["Stripe-Signature"] = stripe_sign(raw, self._stripe, t)
        else:
            request.headers["Authorization"] = f"Bearer {self._token}"
        return request


@pytest.fixture(scope="module")
def operator_token(stack: Stack) -> str:
    """An API token of an operator account on the stack's database."""
    db = Database.from_settings(stack.settings)
    upgrade(db)
    accounts = Accounts(db)
    accounts.add("schemathesis", Role.OPERATOR)
    token = accounts.issue_token("schemathesis", "openapi").token
    db.dispose()
    return token


@pytest.fixture(scope="module")
def api(stack: Stack) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_url(f"{stack.settings.intake_url}/openapi.json")
    # The signature and token headers are `PartnerSigning`'s to set: generated ones could
    # only be refused (tests/unit prove each missing or forged one is, with 400 or 401).
    schema.config.generation.update(with_security_parameters=False)
    return schema


def exercise(operation: Operation, mode: GenerationMode, call: Callable[[Case], None]) -> None:
    """Run `call` on up to MAX_EXAMPLES generated cases of `operation`, reproducibly."""

    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Case) -> None:
        call(case)

    run()


def operations(api: schemathesis.BaseSchema) -> list[Operation]:
    found = list(api.get_all_operations())
    assert all(isinstance(result, Ok) for result in found), found  # the spec parses whole
    return [result.ok() for result in found if isinstance(result, Ok)]


async def test_every_operation_answers_as_its_spec_says(
    stack: Stack, api: schemathesis.BaseSchema, operator_token: str
) -> None:
    """No 5xx, only documented status codes and bodies, negative data refused."""
    auth = PartnerSigning(stack, operator_token)
    base = stack.settings.intake_url
    seen: dict[str, set[int]] = {}
    failures: list[str] = []
    nothing_to_negate: set[str] = set()

    def call(case: Case) -> None:
        response = case.call(base_url=base, auth=auth, timeout=15)
        seen.setdefault(case.operation.label, set()).add(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS)
        except (Failure, FailureGroup) as failed:
            # Collected, not raised: one run reports every operation that strays.
            failures.append(f"{case.operation.label} -> {response.status_code}: {failed}")

    def run_all() -> None:
        for operation in operations(api):
            exercise(operation, GenerationMode.POSITIVE, call)
            try:
                exercise(operation, GenerationMode.NEGATIVE, call)
            except hypothesis.errors.Unsatisfiable:
                nothing_to_negate.add(operation.label)

    await asyncio.to_thread(run_all)
    assert not failures, "\n\n".join(failures[:20])
    # Only what takes no input at all (the token aside) has no invalid request.
    assert nothing_to_negate == {
        "GET /api/me",
        "GET /api/inbox",
        "GET /api/conversations",
        "GET /api/conversations/stats",
        "GET /api/health/alerts",
    }
    # Every operation of the spec was reached (the console's and intake's alike).
    assert set(seen) == {operation.label for operation in operations(api)}, sorted(seen)
    assert {"POST /intake/storefront/checkout", "GET /api/{kind}"} <= set(seen)
    # The signatures and token were accepted: what was refused was refused for its data.
    assert all(statuses - {401} for statuses in seen.values()), seen


async def test_checkouts_the_storefront_took_are_accepted(
    stack: Stack, api: schemathesis.BaseSchema, operator_token: str
) -> None:
    """Valid data is accepted: orders from the catalog, placed at the storefront, posted
    again as the spec describes them, answer 202 (their workflow started once)."""
    operation = api["/intake/storefront/checkout"]["POST"]
    auth = PartnerSigning(stack, operator_token)
    orders = [_demo.next(channel=Channel.STOREFRONT) for _ in range(3)]
    for order in orders:
        await place(stack.sandbox, order)

    def post(body: dict[str, Any]) -> schemathesis.Response:
        case = operation.Case(body=body, media_type="application/json")
        response = case.call(base_url=stack.settings.intake_url, auth=auth, timeout=15)
        case.validate_response(response, checks=[*CHECKS, positive_data_acceptance])
        return response

    answers = [
        await asyncio.to_thread(post, json.loads(order.model_dump_json())) for order in orders
    ]
    assert [a.status_code for a in answers] == [202] * 3, [a.text for a in answers]
    assert [a.json()["workflow_id"] for a in answers] == [o.workflow_id for o in orders]
