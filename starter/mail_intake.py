"""Buyer e-mail → cases (`POST /intake/mail/inbound`): the storefront's buyers write by
e-mail, and Amazon relays its buyers' messages to the seller as e-mail (Amazon has no API
to read them), so both arrive here, in the shape of SendGrid's Inbound Parse webhook
(parsed mode, multipart/form-data: `from`, `to`, `subject`, `text`, `headers`, ...).

Inbound Parse carries no signature of its own; its documented protection is credentials
in the webhook's URL, so the endpoint takes HTTP Basic authentication against the
`inbound-mail-secret` (a random one per install unless set). Each mail is bounded
(fields and text cut to what a case keeps), read for its channel (an Amazon relay
address), its order (an Amazon or storefront order number in the subject or text) and
its thread, and delivered to `case-{channel}-{thread}` by signal-with-start. SendGrid
retries any answer but 2xx for three days, so a mail that cannot become a message is
answered 200 "ignored" with the reason (and logged), never left to be retried; a
duplicate delivery is dropped by the case (same Message-ID).

Workflow ids carry no personal data: a mail naming no order is threaded under a keyed
hash of the sender's address, never the address itself.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, ValidationError

from crossdock.api_errors import error_response, refusals
from crossdock.models.case import BuyerMessage
from crossdock.models.order import Channel

log = structlog.get_logger(__name__)

# Amazon's buyer-seller messaging relay: the buyer writes from an anonymised address at
# marketplace.amazon.<tld> (amazon.de, amazon.co.uk, amazon.co.jp, ...).
AMAZON_RELAY = re.compile(r"@marketplace\.amazon\.[a-z.]{2,10}$", re.IGNORECASE)
AMAZON_ORDER = re.compile(r"\b(\d{3}-\d{7}-\d{7})\b")
STOREFRONT_ORDER = re.compile(r"\b(SF\d{8})\b")
MESSAGE_ID = re.compile(r"^Message-ID:\s*(<[^>\r\n]{1,200}>)", re.IGNORECASE | re.MULTILINE)
MAX_TEXT = 4000
FIELD = 998  # RFC 5322's longest line: longer header fields are not real mail
USER = "inbound"

Deliver = Callable[[BuyerMessage], Awaitable[str]]
security = HTTPBasic(auto_error=False)


class MailAnswer(BaseModel):
    """What intake did with one mail: delivered to a case, or ignored and why."""

    case: str = ""
    ignored: str = ""


class MailIntake:
    """Turns one Inbound Parse post into a buyer message for its case."""

    def __init__(self, deliver: Deliver, secret: str) -> None:
        self._deliver = deliver
        self._secret = secret

    def authorised(self, credentials: HTTPBasicCredentials | None) -> bool:
        if credentials is None:
            return False
        user_ok = secrets.compare_digest(credentials.username.encode(), USER.encode())
        secret_ok = secrets.compare_digest(credentials.password.encode(), self._secret.encode())
        return user_ok and secret_ok

    async def receive(self, sender: str, subject: str, text: str, headers: str) -> MailAnswer:
        address = parseaddr(sender[:FIELD])[1].strip().lower()
        if "@" not in address:
            return _ignored(f"no sender address in 'from' ({sender[:80]!r})")
        if not text.strip():
            return _ignored("the mail has no text body")
        message = self._message(address, subject[:FIELD], text, headers)
        if message is None:
            return _ignored("the mail could not be read as a buyer message")
        case = await self._deliver(message)
        log.info("buyer_mail_delivered", workflow_id=case, channel=message.channel)
        return MailAnswer(case=case)

    def _message(self, address: str, subject: str, text: str, headers: str) -> BuyerMessage | None:
        channel = Channel.AMAZON if AMAZON_RELAY.search(address) else Channel.STOREFRONT
        pattern = AMAZON_ORDER if channel is Channel.AMAZON else STOREFRONT_ORDER
        found = pattern.search(subject) or pattern.search(text[:MAX_TEXT])
        order_id = found.group(1) if found else ""
        # Amazon's relay is one conversation per order, as Crossdock's Amazon cases are.
        thread = order_id or f"mail-{self._pseudonym(address)}"
        message_id = _message_id(headers) or _digest(address, subject, text)
        try:
            return BuyerMessage(
                channel=channel,
                thread=thread,
                message_id=message_id,
                text=text.strip()[:MAX_TEXT],
                received_at=datetime.now(UTC),
                order_id=order_id,
                email=address[:254],
            )
        except ValidationError as err:
            log.warning("buyer_mail_unreadable", error=str(err)[:200])
            return None

    def _pseudonym(self, address: str) -> str:
        """A stable thread for one sender that does not reveal the address."""
        key = self._secret.encode()
        return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:24]


def _message_id(headers: str) -> str:
    found = MESSAGE_ID.search(headers[:20_000])
    return found.group(1)[:100] if found else ""


def _digest(address: str, subject: str, text: str) -> str:
    """A message id for a mail without one: the same mail posted again gets the same."""
    body = "\n".join((address, subject, text)).encode()
    return "sha256:" + hashlib.sha256(body).hexdigest()[:64]


def _ignored(why: str) -> MailAnswer:
    log.warning("buyer_mail_ignored", reason=why)
    return MailAnswer(ignored=why)


def mail_intake_router() -> APIRouter:
    """The Inbound Parse endpoint; the app's state holds the `MailIntake` (`mail`)."""
    router = APIRouter(tags=["intake"])

    @router.post(
        "/intake/mail/inbound",
        response_model=MailAnswer,
        responses=refusals(401, 422, 429, 503),
    )
    async def inbound_mail(
        request: Request,
        credentials: Annotated[HTTPBasicCredentials | None, Depends(security)],
        sender: Annotated[str, Form(alias="from", max_length=FIELD)],
        text: Annotated[str, Form(max_length=200_000)] = "",
        subject: Annotated[str, Form(max_length=FIELD)] = "",
        headers: Annotated[str, Form(max_length=100_000)] = "",
    ) -> JSONResponse:
        """A buyer's e-mail (SendGrid Inbound Parse, parsed mode), delivered to its case."""
        intake: MailIntake = request.app.state.mail
        if not intake.authorised(credentials):
            return error_response(
                401, "unauthorized", "inbound mail needs the intake's Basic credentials"
            )
        answer = await intake.receive(sender, subject, text, headers)
        return JSONResponse(answer.model_dump())

    return router
