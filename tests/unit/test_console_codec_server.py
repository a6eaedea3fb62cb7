"""The codec server as one piece (a real codec, a real audit log on SQLite, the token
check stubbed): garbage answers 4xx, never 500; a viewer may not decrypt; every call is
in the audit log with who and which workflow."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from google.protobuf.json_format import MessageToDict
from temporalio.api.common.v1 import Payload
from temporalio.converter import WorkflowSerializationContext

from crossdock.audit.log import AuditLog
from crossdock.codec import EncryptionCodec
from crossdock.identity import AuthenticationFailed
from crossdock.identity.scope import AccountScope
from crossdock.keys import new_codec_key
from crossdock.models.approval import Principal, Role
from crossdock.store import Database, upgrade
from starter.codec_server import MAX_PAYLOADS, create_codec_app

CODEC = EncryptionCodec.from_text(new_codec_key("k1"))
TOKENS = {"ops": Principal(id="ops-1", role=Role.OPERATOR)}
TOKENS |= {"view": Principal(id="view-1", role=Role.VIEWER)}


def check_token(token: str) -> Principal:
    if token not in TOKENS:
        raise AuthenticationFailed("unknown")
    return TOKENS[token]


@pytest.fixture
def audit(tmp_path: Path) -> Iterator[AuditLog]:
    db = Database(f"sqlite:///{tmp_path / 'audit.db'}")
    upgrade(db)
    yield AuditLog(db)
    db.dispose()


@pytest.fixture
def codec_server(audit: AuditLog) -> TestClient:
    app = create_codec_app(CODEC, check_token, ["http://127.0.0.1:8233"], audit=audit)
    return TestClient(app, raise_server_exceptions=False)


def sealed(text: str) -> dict[str, Any]:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=text.encode())
    return MessageToDict(CODEC.encrypt(plain))


def encrypted(data: bytes, key_id: bytes = b"k1") -> dict[str, Any]:
    return MessageToDict(
        Payload(metadata={"encoding": b"binary/encrypted", "encryption-key-id": key_id}, data=data)
    )


GARBAGE: list[Any] = [
    {"payloads": "not a list"},
    {"payloads": [1, 2]},
    {"payloads": [{"data": "!!! not base64"}]},
    {"payloads": [encrypted(b"short")]},
    {"payloads": [encrypted(b"\x00" * 64)]},
    {"payloads": [encrypted(b"\x00" * 64, key_id=b"\xff\xfe")]},
    {"payloads": [sealed("x")] * (MAX_PAYLOADS + 1)},
    [],
    "a string",
]


@pytest.mark.parametrize("body", GARBAGE)
def test_garbage_answers_4xx_never_500(codec_server: TestClient, body: Any) -> None:
    answer = codec_server.post("/decode", json=body, headers={"Authorization": "Bearer ops"})
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:200])


def test_a_payload_that_decrypts_to_no_payload_is_refused(codec_server: TestClient) -> None:
    # Sealed with our key but holding bytes that are not a Payload message.
    nonce_and_sealed = CODEC.encrypt(Payload(data=b"x")).data
    key = CODEC._decryptors["k1"]
    raw = nonce_and_sealed[:12] + key.encrypt(nonce_and_sealed[:12], b"\xff\xff\xff", b"k1")
    answer = codec_server.post(
        "/decode", json={"payloads": [encrypted(raw)]}, headers={"Authorization": "Bearer ops"}
    )
    assert answer.status_code == 422


def test_a_viewer_may_not_decrypt_and_every_call_is_audited(
    codec_server: TestClient, audit: AuditLog
) -> None:
    body = {"payloads": [sealed('{"buyer": "Ottilie Quillfeather"}')]}
    headers = {"X-Crossdock-Workflow": "order-storefront-SF1", "X-Namespace": "default"}
    viewer = codec_server.post(
        "/decode", json=body, headers=headers | {"Authorization": "Bearer view"}
    )
    assert viewer.status_code == 403 and "personal data" in viewer.text
    ops = codec_server.post("/decode", json=body, headers=headers | {"Authorization": "Bearer ops"})
    assert ops.status_code == 200
    data = base64.b64decode(ops.json()["payloads"][0]["data"])
    assert b"Quillfeather" in data
    ui = codec_server.post("/decode", json=body, headers={"Authorization": "Bearer ops"})
    assert ui.status_code == 200
    calls = [
        (e.action, e.principal_id, e.outcome.value) for e in audit.entries("order-storefront-SF1")
    ]
    assert calls == [("codec_decode", "view-1", "refused"), ("codec_decode", "ops-1", "accepted")]
    [from_ui] = audit.entries("namespace:default")
    assert from_ui.principal_id == "ops-1" and from_ui.detail["payloads"] == 1


def test_an_account_scoped_to_a_marketplace_decodes_its_cases_only(audit: AuditLog) -> None:
    scopes = {"ops-1": AccountScope(marketplaces=frozenset({"amazon"}))}
    app = create_codec_app(
        CODEC, check_token, [], audit=audit, scope_of=lambda account: scopes.get(account)
    )
    codec_server = TestClient(app, raise_server_exceptions=False)
    body = {"payloads": [sealed('"x"')]}
    auth = {"Authorization": "Bearer ops"}
    unnamed = codec_server.post("/decode", json=body, headers=auth)
    other = codec_server.post(
        "/decode", json=body, headers=auth | {"X-Crossdock-Workflow": "order-ebay-1"}
    )
    own = codec_server.post(
        "/decode", json=body, headers=auth | {"X-Crossdock-Workflow": "order-amazon-1"}
    )
    assert (unnamed.status_code, other.status_code, own.status_code) == (403, 403, 200)
    assert "works on amazon only" in other.text


def test_an_account_scoped_to_a_country_decodes_orders_shipped_there_only(
    audit: AuditLog,
) -> None:
    scopes = {"ops-1": AccountScope(countries=frozenset({"DE"}))}
    destinations = {"order-ebay-1": "DE", "order-ebay-2": "US"}
    asked: list[str] = []

    async def country_of(workflow_id: str) -> str:
        asked.append(workflow_id)
        return destinations.get(workflow_id, "")

    app = create_codec_app(
        CODEC,
        check_token,
        [],
        audit=audit,
        scope_of=lambda account: scopes.get(account),
        country_of=country_of,
    )
    codec_server = TestClient(app, raise_server_exceptions=False)
    body = {"payloads": [sealed('"x"')]}
    auth = {"Authorization": "Bearer ops"}

    def decode(workflow_id: str) -> int:
        headers = auth | {"X-Crossdock-Workflow": workflow_id}
        status: int = codec_server.post("/decode", json=body, headers=headers).status_code
        return status

    assert [decode(w) for w in ("order-ebay-1", "order-ebay-2", "return-ebay-R1")] == [
        200,
        403,
        403,
    ]
    assert asked == ["order-ebay-1", "order-ebay-2", "return-ebay-R1"]
    refused = audit.entries("order-ebay-2")[0]
    assert refused.outcome.value == "refused" and "works on DE only" in refused.reason


async def test_payloads_name_their_workflow_for_the_audit_and_the_scope(audit: AuditLog) -> None:
    """What the Temporal UI sends names only the namespace; the payloads name the rest."""
    scopes = {"ops-1": AccountScope(marketplaces=frozenset({"amazon"}))}
    app = create_codec_app(
        CODEC, check_token, [], audit=audit, scope_of=lambda account: scopes.get(account)
    )
    codec_server = TestClient(app, raise_server_exceptions=False)
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"x"')
    amazon = await CODEC.with_context(
        WorkflowSerializationContext("default", "order-amazon-7")
    ).encode([plain])
    ebay = await CODEC.with_context(WorkflowSerializationContext("default", "order-ebay-8")).encode(
        [plain]
    )
    auth = {"Authorization": "Bearer ops", "X-Namespace": "default"}
    own = codec_server.post("/decode", json={"payloads": [MessageToDict(amazon[0])]}, headers=auth)
    other = codec_server.post("/decode", json={"payloads": [MessageToDict(ebay[0])]}, headers=auth)
    assert (own.status_code, other.status_code) == (200, 403)
    assert [e.outcome.value for e in audit.entries("order-amazon-7")] == ["accepted"]
    assert [e.outcome.value for e in audit.entries("order-ebay-8")] == ["refused"]
    # Relabelling a payload to another workflow breaks it.
    moved = MessageToDict(amazon[0])
    moved["metadata"]["crossdock-workflow-id"] = base64.b64encode(b"order-amazon-9").decode()
    forged = codec_server.post("/decode", json={"payloads": [moved]}, headers=auth)
    assert forged.status_code == 422
