"""Transactional email in SendGrid's v3 shape, so buyer notifications can be asserted.

    POST /mail/v3/mail/send          send one message: 202 Accepted, empty body, X-Message-Id
    GET  /mail/_sandbox/messages     what was sent, oldest first (sandbox only: an inbox)

The body is SendGrid's: `personalizations` (each with `to` and maybe a `subject`), `from`,
`subject`, `content` (text/plain first), optional `custom_args`. The API key comes as
`Authorization: Bearer <key>` (any non-empty key here); errors are SendGrid's
`{"errors": [{"message", "field", "help"}]}`, 400 for an invalid message, 401 without a key.

Idempotency: SendGrid has no Idempotency-Key, so a retried send is sent again. The sandbox
dedupes on an `Idempotency-Key` header anyway (same key and message: the first answer
again, nothing sent twice; same key, another message: 400), so tests can assert that a
buyer was notified once. Each message sent is one ledger entry of kind "notification",
with its key, subject and `custom_args`, never the recipient's address.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.idempotency import fingerprint
from crossdock.sandbox.core.store import Table

PARTNER = "mail"
Json = dict[str, Any]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAX_PERSONALIZATIONS = 1000


class MailError(Exception):
    """A refusal in SendGrid's error shape."""

    def __init__(self, status: int, errors: list[Json]) -> None:
        super().__init__("; ".join(str(error["message"]) for error in errors))
        self.status = status
        self.errors = errors

    def response(self) -> JSONResponse:
        return JSONResponse({"errors": self.errors}, status_code=self.status)


def _error(field: str | None, message: str) -> Json:
    return {"message": message, "field": field, "help": None}


def _address_errors(where: str, value: Any) -> Iterator[Json]:
    email = value.get("email") if isinstance(value, dict) else None
    if not isinstance(email, str) or not _EMAIL.match(email):
        yield _error(f"{where}.email", "Does not contain a valid address.")


def _personalization_errors(index: int, value: Any, has_subject: bool) -> Iterator[Json]:
    where = f"personalizations.{index}"
    to = value.get("to") if isinstance(value, dict) else None
    if not isinstance(to, list) or not to:
        yield _error(
            f"{where}.to",
            "The to array is required for all personalization objects, and must have at "
            "least one email object with a valid email address.",
        )
        to = []
    for position, recipient in enumerate(to):
        yield from _address_errors(f"{where}.to.{position}", recipient)
    if not has_subject and not (isinstance(value, dict) and value.get("subject")):
        yield _error(
            "subject",
            "The subject is required. You can get around this requirement if every "
            "personalization has a subject defined.",
        )


def _personalizations_errors(body: Json) -> Iterator[Json]:
    personalizations = body.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        yield _error("personalizations", "You must have at least one personalization.")
        return
    if len(personalizations) > _MAX_PERSONALIZATIONS:
        yield _error(
            "personalizations",
            f"The personalization block is limited to {_MAX_PERSONALIZATIONS} "
            f"personalizations per API request. You have provided {len(personalizations)}.",
        )
    has_subject = bool(body.get("subject"))
    for index, value in enumerate(personalizations):
        yield from _personalization_errors(index, value, has_subject)


def _content_errors(body: Json) -> Iterator[Json]:
    content = body.get("content")
    if not isinstance(content, list) or not content:
        yield _error(
            "content",
            "Unless a valid template_id is provided, the content parameter is required. "
            "There must be at least one defined content block.",
        )
        return
    for index, block in enumerate(content):
        value = block.get("value") if isinstance(block, dict) else None
        if not isinstance(value, str) or not value:
            yield _error(
                f"content.{index}.value",
                "The content value must be a string at least one character in length.",
            )
    types = [block.get("type") for block in content if isinstance(block, dict)]
    if "text/plain" in types and types[0] != "text/plain":
        yield _error(
            "content.0.type",
            "If present, text/plain must be first, followed by text/html, followed by any "
            "other content.",
        )


def validate_message(body: Any) -> Json:
    """The message, or a `MailError` listing every problem as SendGrid names them."""
    message: Json = body if isinstance(body, dict) else {}
    errors = [*_personalizations_errors(message), *_content_errors(message)]
    sender = message.get("from")
    if not isinstance(sender, dict):
        errors.append(
            _error(
                "from",
                "The from object must be provided for every email send. It is an object "
                "that requires the email parameter, but may also contain a name parameter.",
            )
        )
    else:
        errors.extend(_address_errors("from", sender))
    custom_args = message.get("custom_args", {})
    if not isinstance(custom_args, dict) or not all(
        isinstance(v, str) for v in custom_args.values()
    ):
        errors.append(_error("custom_args", "custom_args values must be strings."))
    if errors:
        raise MailError(400, errors)
    return message


class Mailbox:
    """Accepts messages, remembers them, and dedupes on the sandbox's Idempotency-Key."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        # Every message received, by a zero-padded sequence number (so in order).
        self.received: Table[Json] = ctx.store.table(PARTNER, "message", Json)
        self._seq = ctx.store.counter(PARTNER, "message")
        # Idempotency-Key → (request fingerprint, message id).
        self._by_key: Table[tuple[str, str]] = ctx.store.table(
            PARTNER, "idempotency_key", tuple[str, str]
        )

    @property
    def sent(self) -> list[Json]:
        return self.received.peek()

    def send(self, body: Any, key: str | None) -> tuple[str, bool]:
        """Accept one message; return its id and whether it was a replay of `key`.

        No await between the key check and its record, so concurrent retries with one
        key cannot both send.
        """
        request_fingerprint = fingerprint("POST", "/v3/mail/send", body)
        if key is not None and key in self._by_key:
            stored_fingerprint, message_id = self._by_key[key]
            if stored_fingerprint != request_fingerprint:
                raise MailError(400, [_conflict(key)])
            return message_id, True
        message = validate_message(body)
        message_id = secrets.token_urlsafe(16)
        self._deliver(message, message_id, key)
        if key is not None:
            self._by_key[key] = (request_fingerprint, message_id)
        return message_id, False

    def _deliver(self, message: Json, message_id: str, key: str | None) -> None:
        custom_args = dict(message.get("custom_args") or {})
        for personalization in message["personalizations"]:
            subject = personalization.get("subject") or message.get("subject")
            received = _received(message, personalization, message_id, key)
            self.received[f"{next(self._seq):012d}"] = received
            self.ctx.ledger.record(
                PARTNER,
                "notification",
                message_id,
                idempotency_key=key,
                subject=subject,
                recipients=len(personalization["to"]),
                custom_args={**custom_args, **(personalization.get("custom_args") or {})},
            )


def _conflict(key: str) -> Json:
    return _error(
        None,
        f"Idempotency-Key {key!r} was already used for another message; use a new key "
        "for a different message (sandbox only: SendGrid has no Idempotency-Key).",
    )


def _received(message: Json, personalization: Json, message_id: str, key: str | None) -> Json:
    """One message as the inbox shows it: who to, subject, the text, tags."""
    content = {block.get("type"): block.get("value") for block in message["content"]}
    return {
        "message_id": message_id,
        "idempotency_key": key,
        "to": [recipient["email"] for recipient in personalization["to"]],
        "from": message["from"]["email"],
        "subject": personalization.get("subject") or message.get("subject"),
        "text": content.get("text/plain"),
        "html": content.get("text/html"),
        "custom_args": {
            **(message.get("custom_args") or {}),
            **(personalization.get("custom_args") or {}),
        },
        "sent_at": datetime.now(UTC).isoformat(),
    }


def _api_key(request: Request) -> str:
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    return credential.strip() if scheme.lower() == "bearer" else ""


def build_router(mailbox: Mailbox) -> APIRouter:
    """The SendGrid-shaped mail API under /mail, served by `mailbox`."""
    router = APIRouter(prefix="/mail", tags=["mail"])

    @router.post("/v3/mail/send")
    async def send(request: Request) -> Response:
        """Send one message (202 Accepted, its id in X-Message-Id)."""
        if not _api_key(request):
            message = "The provided authorization grant is invalid, expired, or revoked"
            return MailError(401, [_error(None, message)]).response()
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            return MailError(400, [_error(None, "Bad Request: the body is not JSON.")]).response()
        try:
            message_id, replayed = mailbox.send(body, request.headers.get("Idempotency-Key"))
        except MailError as exc:
            return exc.response()
        headers = {"X-Message-Id": message_id}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(status_code=202, headers=headers)

    @router.get("/_sandbox/messages")
    async def messages() -> list[Json]:
        """Every message sent, oldest first."""
        return mailbox.sent

    return router


def build(ctx: SandboxContext) -> APIRouter:
    """The mail service under /mail."""
    return build_router(Mailbox(ctx))
