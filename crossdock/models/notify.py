"""Buyer notifications: which template, for which buyer, in which language, and the
activity contract. The texts are data (`crossdock/data/messages/{language}.json`, see
`crossdock.messages`); the notify activity renders them with Babel and sends them
through the order's channel (Amazon Messaging, eBay messages, e-mail for the storefront).

Parameters are checked when the input is built, against the English template (the
reference every language follows), so a missing one fails where the notification is
decided, not in a retried activity. No I/O at call time, so workflows import this.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crossdock.messages import MessageText, english, template_text
from crossdock.models.order import Channel, NonEmpty
from crossdock.money import Money

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class NotificationTemplate(StrEnum):
    """What we tell a buyer about, one template each (docs/customer-service.md)."""

    ORDER_CONFIRMED = "order_confirmed"
    SHIPPED = "shipped"
    DELIVERY_DELAYED = "delivery_delayed"
    HELD_IN_CUSTOMS = "held_in_customs"
    DUTIES_DUE = "duties_due"
    DELIVERED = "delivered"
    PARCEL_LOST = "parcel_lost"
    RETURNED_TO_SENDER = "returned_to_sender"
    ADDRESS_PROBLEM = "address_problem"
    ORDER_CANCELLED = "order_cancelled"
    ORDER_REFUNDED = "order_refunded"
    RETURN_LABEL = "return_label"
    RETURN_RETURNLESS = "return_returnless"
    RETURN_OFFER = "return_offer"
    RETURN_DECLINED = "return_declined"
    RETURN_RECEIVED = "return_received"
    RETURN_REFUNDED = "return_refunded"
    # A payment dispute's verdict: the payment stands (won) or the buyer is refunded (lost).
    DISPUTE_WON = "dispute_won"
    DISPUTE_LOST = "dispute_lost"
    # A reply in a buyer conversation (an operator's text, or one answered by policy).
    CASE_REPLY = "case_reply"


def text_of(template: NotificationTemplate, language: str = "en") -> MessageText:
    """The template's text in `language` (English where it is not translated)."""
    return template_text(language, template.value)[0]


def render(template: NotificationTemplate, params: dict[str, str]) -> tuple[str, str]:
    """The English (subject, body) of `template` with plain `params` filled in."""
    text = english()[template.value]
    return text.subject.format_map(params), text.body.format_map(params)


class NotifyBuyerInput(BaseModel):
    """One message to a buyer: which template, its parameters, and the key that makes
    sending it idempotent (derived from the workflow id, the step and the parcel).

    `params` are plain strings; `amounts` and `dates` are formatted for the buyer's
    locale; `terms` name a fixed phrase said in the buyer's language (`reason` →
    `cancel.out_of_stock`). Fields after `idempotency_key` have defaults so inputs
    recorded before they existed still decode: those were English e-mails.
    """

    model_config = ConfigDict(frozen=True)

    to: str
    template: NotificationTemplate
    params: dict[str, str] = Field(default_factory=dict)
    idempotency_key: NonEmpty
    amounts: dict[str, Money] = Field(default_factory=dict)
    dates: dict[str, date] = Field(default_factory=dict)
    terms: dict[str, str] = Field(default_factory=dict)
    language: str = "en"
    # The buyer's country: with the language, the locale money and dates are written in.
    country: str = "GB"
    channel: Channel = Channel.STOREFRONT
    # The channel's order id: marketplaces' messaging is per order.
    channel_order_id: str = ""

    @field_validator("to")
    @classmethod
    def _email(cls, value: str) -> str:
        # The address itself stays out of the message: errors end up in logs.
        if value and not _EMAIL.match(value):
            raise ValueError("to is not an email address (value withheld: personal data)")
        return value

    @model_validator(mode="after")
    def _complete(self) -> NotifyBuyerInput:
        if not self.to and self.channel is Channel.STOREFRONT:
            raise ValueError("to is required for storefront buyers (e-mail is their channel)")
        if self.channel is not Channel.STOREFRONT and not self.channel_order_id:
            raise ValueError(f"channel_order_id is required to message {self.channel} buyers")
        given = self.params.keys() | self.amounts.keys() | self.dates.keys() | self.terms.keys()
        missing = sorted(text_of(self.template).parameters - given)
        if missing:
            raise ValueError(
                f"params for template {self.template.value!r} lack {', '.join(missing)}"
            )
        return self


class NotificationSent(BaseModel):
    """A notification the channel accepted, or why it was not sent.

    `via` is the surface (mail, amazon:<action>, ebay); `sent` is False when the channel
    does not allow that message for the order (Amazon sends its own shipping and
    delivery notices and refuses unsolicited ones): nothing to retry, noted on the
    timeline.
    """

    model_config = ConfigDict(frozen=True)

    template: NotificationTemplate
    idempotency_key: str
    via: str = "mail"
    sent: bool = True
    language: str = "en"
    # The message as the buyer reads it, for the case page's thread (encrypted in
    # history by the payload codec like every other payload).
    subject: str = ""
    body: str = ""
    detail: str = ""
