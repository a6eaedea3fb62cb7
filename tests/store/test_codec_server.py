"""The codec endpoints over real HTTP: token required, CORS for the Temporal UI only."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest
from fastapi import Request
from temporalio.api.common.v1 import Payload

from crossdock.codec import EncryptionCodec
from crossdock.identity import Accounts
from crossdock.keys import new_codec_key
from crossdock.models.approval import Principal, Role
from crossdock.store import Database
from starter.codec_server import create_codec_app
from tests.servers import free_port, serve

UI = "http://127.0.0.1:8233"
CODEC = EncryptionCodec.from_text(new_codec_key("k1"))


@pytest.fixture
def codec_url(db: Database) -> Iterator[str]:
    port = free_port()
    with serve(create_codec_app(CODEC, Accounts(db).by_token, [UI]), port):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def token(db: Database) -> str:
    accounts = Accounts(db)
    # An operator: viewers do not see personal data, so they may not decode.
    accounts.add("ops-1", Role.OPERATOR)
    return accounts.issue_token("ops-1").token


def body(payload: Payload) -> dict[str, object]:
    return {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
                "data": base64.b64encode(payload.data).decode(),
            }
        ]
    }


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_decode_and_encode_with_a_token(codec_url: str, token: str) -> None:
    [sealed] = await CODEC.encode([Payload(metadata={"encoding": b"json/plain"}, data=b'"hi"')])
    auth = {"Authorization": f"Bearer {token}", "X-Namespace": "default"}
    async with httpx.AsyncClient(base_url=codec_url) as http:
        decoded = await http.post("/decode", json=body(sealed), headers=auth)
        assert decoded.status_code == 200, decoded.text
        [clear] = decoded.json()["payloads"]
        assert base64.b64decode(clear["data"]) == b'"hi"'
        encoded = await http.post("/encode", json=decoded.json(), headers=auth)
        [again] = encoded.json()["payloads"]
        assert base64.b64decode(again["metadata"]["encoding"]) == b"binary/encrypted"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("authorization", "detail"),
    [
        (None, "send an API token"),
        ("Bearer cdk_forged", "API token not accepted"),
        ("Basic b3BzOnB3", "send an API token"),
    ],
)
async def test_decode_needs_a_valid_token(
    codec_url: str, token: str, authorization: str | None, detail: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    async with httpx.AsyncClient(base_url=codec_url) as http:
        response = await http.post("/decode", json={"payloads": []}, headers=headers)
    assert response.status_code == 401
    assert detail in response.json()["detail"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_cors_allows_the_temporal_ui_only(codec_url: str) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
    }
    async with httpx.AsyncClient(base_url=codec_url) as http:
        ui = await http.options("/decode", headers={**preflight, "Origin": UI})
        other = await http.options("/decode", headers={**preflight, "Origin": "https://evil.test"})
    assert ui.status_code == 200 and ui.headers["access-control-allow-origin"] == UI
    assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_malformed_body_is_named(codec_url: str, token: str) -> None:
    async with httpx.AsyncClient(base_url=codec_url) as http:
        response = await http.post(
            "/decode", json={"payloads": "nope"}, headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 422
    assert "proto JSON" in response.json()["detail"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_login_session_stands_in_for_the_token(db: Database) -> None:
    async def session(request: Request) -> Principal | None:
        cookie = request.cookies.get("crossdock_session")
        return Principal(id="ops-7", role=Role.OPERATOR) if cookie == "valid" else None

    port = free_port()
    app = create_codec_app(CODEC, Accounts(db).by_token, [UI], session=session)
    with serve(app, port):
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, cookies={"crossdock_session": "valid"}) as http:
            ok = await http.post("/decode", json={"payloads": []})
        async with httpx.AsyncClient(base_url=base, cookies={"crossdock_session": "x"}) as http:
            bad = await http.post("/decode", json={"payloads": []})
    assert ok.status_code == 200 and ok.json() == {}
    assert bad.status_code == 401
