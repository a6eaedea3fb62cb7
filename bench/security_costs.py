"""What encryption, claim checks and the audit chain cost, measured on this machine.

    .venv/bin/python -m bench.security_costs [postgresql://postgres@127.0.0.1:5432/test]

Prints the time to encrypt and decrypt one order payload, to verify one principal claim,
and the audit log's append rate and verify time on SQLite and (given a URL) PostgreSQL.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from temporalio.api.common.v1 import Payload

from crossdock.audit import AuditLog, DecisionAttempt, Outcome
from crossdock.codec import EncryptionCodec
from crossdock.identity import ClaimSigner, ClaimVerifier
from crossdock.identity.claims import argument_digest
from crossdock.keys import new_codec_key
from crossdock.models.approval import Decision, DecisionAction, Principal, Role
from crossdock.store import Database, normalise_url, upgrade
from tests.factories import order

OPS = Principal(id="ops-7", role=Role.OPERATOR)


async def codec_cost(rounds: int = 20000) -> str:
    codec = EncryptionCodec.from_text(new_codec_key("k1"))
    data = order().model_dump_json().encode()
    payload = Payload(metadata={"encoding": b"json/plain"}, data=data)
    started = time.perf_counter()
    for _ in range(rounds):
        await codec.decode(await codec.encode([payload]))
    each = (time.perf_counter() - started) / rounds
    return f"codec: encrypt + decrypt a {len(data)} B order payload: {each * 1e6:.1f} µs"


def claim_cost(rounds: int = 50000) -> str:
    key = b"bench-principal-key-0123456789ab"
    workflow = "order-storefront-SF1"
    decision = Decision(key="review", action=DecisionAction.APPROVE, reason="checked", by=OPS)
    signed = ClaimSigner(key).bind(OPS, workflow, "decide", argument_digest([decision]))
    decision = decision.model_copy(update={"by": signed})
    verifier = ClaimVerifier(key)
    started = time.perf_counter()
    for _ in range(rounds):
        # What the worker does per update: digest the argument, verify the bound claim.
        verifier.refusal(signed, workflow, "decide", argument_digest([decision]))
    each = (time.perf_counter() - started) / rounds * 1e6
    return f"claim: digest a decision and verify its bound claim: {each:.1f} µs"


def audit_cost(url: str, label: str, rounds: int = 500) -> str:
    db = Database(url)
    upgrade(db)
    log = AuditLog(db)
    attempt = DecisionAttempt(
        workflow_id="order-storefront-SF1",
        action="decide",
        by=OPS,
        outcome=Outcome.ACCEPTED,
        reason="checked",
        detail={"key": "review", "action": "approve"},
    )
    started = time.perf_counter()
    for _ in range(rounds):
        log.append(attempt)
    appending = time.perf_counter() - started
    started = time.perf_counter()
    report = log.verify()
    verifying = time.perf_counter() - started
    db.dispose()
    return (
        f"audit {label}: {rounds / appending:.0f} appends/s, verify {report.entries} "
        f"entries in {verifying * 1e3:.0f} ms (intact: {report.intact})"
    )


def postgres_cost(admin_url: str) -> str:
    name = f"crossdock_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(normalise_url(admin_url)).set(database=name)
        return audit_cost(url.render_as_string(hide_password=False), "postgresql")
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    print(asyncio.run(codec_cost()))
    print(claim_cost())
    with tempfile.TemporaryDirectory() as directory:
        print(audit_cost(f"sqlite:///{directory}/bench.db", "sqlite"))
    if len(sys.argv) > 1:
        print(postgres_cost(sys.argv[1]))


if __name__ == "__main__":
    main()
