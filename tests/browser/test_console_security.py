"""The console probed as an attacker would, over HTTP on a real stack: a page on a
sibling port posting with the operator's cookie, login CSRF, a kept cookie after logout,
a run of wrong passwords, framing and caching, weak passwords, and a viewer reading
buyers' personal data."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest

from crossdock.demo import place
from crossdock.identity import Accounts, IdentityError
from crossdock.models.approval import Role
from crossdock.models.order_states import OrderState
from crossdock.store import Database
from tests.browser.conftest import PASSWORD, Console, eur_order, wait_for_state

CSRF = re.compile(r'name="csrf" value="([^"]*)"')
ANY_ORDER = "order-storefront-SF-PROBE-1"


def sibling(console: Console) -> str:
    """Another port of the same host: the same *site*, so SameSite cookies go along."""
    parts = urlsplit(console.url)
    return f"{parts.scheme}://{parts.hostname}:{(parts.port or 80) + 1}"


def form_token(html: str) -> str:
    found = CSRF.search(html)
    return found.group(1) if found else ""


@contextlib.asynccontextmanager
async def logged_in(console: Console, account: str = "ops-1") -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client with a session for `account` (Origin sent like chromium)."""
    async with httpx.AsyncClient(base_url=console.url, headers={"Origin": console.url}) as b:
        form = await b.get("/console/login")
        answer = await b.post(
            "/console/login",
            data={"account_id": account, "password": PASSWORD, "csrf": form_token(form.text)},
        )
        assert answer.status_code == 303, answer.text
        yield b


def add_account(console: Console, account_id: str, password: str = PASSWORD) -> None:
    db = Database.from_settings(console.stack.settings)
    try:
        Accounts(db).add(account_id, Role.OPERATOR, password)
    finally:
        db.dispose()


async def test_a_sibling_port_cannot_post_with_the_operators_cookie(console: Console) -> None:
    async with logged_in(console) as browser:
        case = await browser.get(f"/console/cases/{ANY_ORDER}")
        hold = {"reason": "forged", "csrf": form_token(case.text)}
        forged = await browser.post(
            f"/console/cases/{ANY_ORDER}/hold", data=hold, headers={"Origin": sibling(console)}
        )
        assert forged.status_code == 403, forged.text
        assert sibling(console) in forged.json()["message"]
        # The attacker's page cannot read the token either: without it, 403 as well.
        tokenless = await browser.post(f"/console/cases/{ANY_ORDER}/hold", data={"reason": "x"})
        assert tokenless.status_code == 403
        assert "CSRF" in tokenless.json()["message"]
        # Without Origin or Referer a request with the session cookie is refused too.
        del browser.headers["Origin"]
        bare = await browser.post(f"/console/cases/{ANY_ORDER}/hold", data=hold)
        assert bare.status_code == 403


async def test_login_csrf_is_refused(console: Console) -> None:
    """A foreign page logging the operator's browser into the attacker's account."""
    async with httpx.AsyncClient(base_url=console.url) as browser:
        credentials = {"account_id": "ops-2", "password": PASSWORD}
        foreign = await browser.post(
            "/console/login", data=credentials, headers={"Origin": sibling(console)}
        )
        assert foreign.status_code == 403
        tokenless = await browser.post(
            "/console/login", data=credentials, headers={"Origin": console.url}
        )
        assert tokenless.status_code == 403
        assert "crossdock_session" not in browser.cookies


async def test_logout_ends_the_session_server_side(console: Console) -> None:
    async with logged_in(console) as browser:
        cookie = browser.cookies["crossdock_session"]
        inbox = await browser.get("/console")
        assert inbox.status_code == 200
        out = await browser.post("/console/logout", data={"csrf": form_token(inbox.text)})
        assert out.status_code == 303
    async with httpx.AsyncClient(
        base_url=console.url, cookies={"crossdock_session": cookie}
    ) as kept:
        again = await kept.get("/console")
    assert again.status_code == 303
    assert again.headers["location"] == "/console/login"


async def test_disabling_an_account_ends_its_sessions(console: Console) -> None:
    add_account(console, "ops-gone")
    async with logged_in(console, "ops-gone") as browser:
        assert (await browser.get("/console")).status_code == 200
        db = Database.from_settings(console.stack.settings)
        try:
            Accounts(db).disable("ops-gone")
        finally:
            db.dispose()
        assert (await browser.get("/console")).status_code == 303


async def test_fifty_wrong_passwords_lock_the_account_id(console: Console) -> None:
    add_account(console, "ops-locked")
    async with httpx.AsyncClient(base_url=console.url, headers={"Origin": console.url}) as b:
        statuses = []
        for _ in range(50):
            token = form_token((await b.get("/console/login")).text)
            wrong = {"account_id": "ops-locked", "password": "wrong guess 123", "csrf": token}
            statuses.append((await b.post("/console/login", data=wrong)).status_code)
            if statuses[-1] == 429:
                break
        locked_after = console.stack.settings.login_lockout_after
        assert statuses == [401] * locked_after + [429], statuses
        token = form_token((await b.get("/console/login")).text)
        right = {"account_id": "ops-locked", "password": PASSWORD, "csrf": token}
        refused = await b.post("/console/login", data=right)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0


@pytest.mark.parametrize("path", ["/console/login", "/console", "/api/me", "/api/inbox"])
async def test_every_console_answer_carries_the_security_headers(
    console: Console, path: str
) -> None:
    async with logged_in(console) as browser:
        browser.headers["Authorization"] = f"Bearer {console.tokens['view-1']}"
        answer = await browser.get(path)
    assert answer.status_code == 200, answer.text
    csp = answer.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "same-origin"
    assert answer.headers["Cache-Control"] == "no-store"


def test_weak_passwords_are_refused(console: Console) -> None:
    for weak in ("aaaaaaaaaaaa", "Password123!", "123456789012", "qwertyuiopas"):
        with pytest.raises(IdentityError):
            add_account(console, "ops-weak", password=weak)


async def test_viewers_see_masked_names_and_addresses(console: Console) -> None:
    order = eur_order("Ottilie Quillfeather")
    await place(console.stack.sandbox, order)
    await wait_for_state(console, order.workflow_id, set(OrderState))
    street = order.ship_to.line1
    async with console.api("view-1") as viewer, console.api("ops-1") as operator:
        seen = (await viewer.get(f"/api/cases/{order.workflow_id}")).text
        audit = (await viewer.get(f"/api/audit/{order.workflow_id}")).text
        full = (await operator.get(f"/api/cases/{order.workflow_id}")).text
    assert "Quillfeather" in full and street in full
    for text in (seen, audit):
        assert "Quillfeather" not in text and street not in text
        assert order.buyer.email not in text
    assert "O•••" in seen
    async with logged_in(console, "view-1") as browser:
        page = (await browser.get(f"/console/cases/{order.workflow_id}")).text
    assert "Quillfeather" not in page and street not in page


async def test_an_account_scoped_to_amazon_sees_no_storefront_case(console: Console) -> None:
    db = Database.from_settings(console.stack.settings)
    try:
        accounts = Accounts(db)
        accounts.add("amz-ops", Role.OPERATOR, PASSWORD, marketplaces=["amazon"])
        token = accounts.issue_token("amz-ops", "tests").token
    finally:
        db.dispose()
    order = eur_order()
    await place(console.stack.sandbox, order)
    await wait_for_state(console, order.workflow_id, set(OrderState))
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=console.url, headers=headers, timeout=30) as amz:
        detail = await amz.get(f"/api/cases/{order.workflow_id}")
        audit = await amz.get(f"/api/audit/{order.workflow_id}")
        hold = await amz.post(f"/api/cases/{order.workflow_id}/hold", json={"reason": "x"})
        orders = (await amz.get("/api/orders")).json()
        inbox = (await amz.get("/api/inbox")).json()
    assert (detail.status_code, audit.status_code, hold.status_code) == (404, 404, 404)
    assert {row["marketplace"] for row in orders} <= {"amazon"}
    assert all(item["marketplace"] == "amazon" for item in inbox)
    async with console.api("ops-1") as ops:
        assert (await ops.get(f"/api/cases/{order.workflow_id}")).status_code == 200
        attempts = (await ops.get(f"/api/cases/{order.workflow_id}")).json()["attempts"]
    refused = [a for a in attempts if a["principal_id"] == "amz-ops"]
    assert refused and refused[0]["outcome"] == "refused"
    assert "outside the marketplaces" in refused[0]["reason"]
