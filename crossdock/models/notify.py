"""Buyer notifications: the templates (texts kept here as data) and the activity contract.

A workflow picks a template and passes its parameters; the notify activity renders and
sends it. Parameters are checked when the input is built, so a missing one fails where
the notification is decided, not in a retried activity. No I/O, so workflows import this.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crossdock.models.order import NonEmpty

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class NotificationTemplate(StrEnum):
    """What we tell a buyer about, one template each."""

    DELIVERY_DELAYED = "delivery_delayed"
    PARCEL_LOST = "parcel_lost"
    RETURNED_TO_SENDER = "returned_to_sender"
    ADDRESS_PROBLEM = "address_problem"
    ORDER_CANCELLED = "order_cancelled"
    RETURN_LABEL = "return_label"
    RETURN_OFFER = "return_offer"
    RETURN_DECLINED = "return_declined"
    RETURN_REFUNDED = "return_refunded"


@dataclass(frozen=True)
class MessageText:
    """A template's subject and plain-text body, with `{name}` parameters."""

    subject: str
    body: str

    @property
    def parameters(self) -> frozenset[str]:
        formatter = string.Formatter()
        return frozenset(
            name
            for text in (self.subject, self.body)
            for _, name, _, _ in formatter.parse(text)
            if name
        )


TEXTS: dict[NotificationTemplate, MessageText] = {
    NotificationTemplate.DELIVERY_DELAYED: MessageText(
        subject="Your order {order_ref} is running late",
        body=(
            "Hello,\n\n"
            "Your parcel for order {order_ref} is taking longer than planned with {carrier} "
            "(tracking number {tracking_code}). It is still on its way and we are watching "
            "it for you; there is nothing you need to do.\n\n"
            "We are sorry for the wait.\n"
        ),
    ),
    NotificationTemplate.PARCEL_LOST: MessageText(
        subject="Your parcel for order {order_ref} has gone missing",
        body=(
            "Hello,\n\n"
            "The carrier has lost track of your parcel for order {order_ref} (tracking "
            "number {tracking_code}). We have filed a claim with them, and we will either "
            "send you a replacement or refund you; we will write again as soon as one of "
            "them is on its way.\n\n"
            "We are sorry for the trouble.\n"
        ),
    ),
    NotificationTemplate.RETURNED_TO_SENDER: MessageText(
        subject="Your parcel for order {order_ref} is coming back to us",
        body=(
            "Hello,\n\n"
            "The carrier could not deliver your parcel for order {order_ref} (tracking "
            "number {tracking_code}) and is returning it to us. Once it is back we will "
            "refund your order under our returns policy and let you know.\n"
        ),
    ),
    NotificationTemplate.ADDRESS_PROBLEM: MessageText(
        subject="We need your address for order {order_ref}",
        body=(
            "Hello,\n\n"
            "The carrier could not deliver your parcel for order {order_ref} (tracking "
            "number {tracking_code}): the address was not found. Please reply with your "
            "full delivery address, postal code included, and we will send the parcel on "
            "its way again.\n"
        ),
    ),
    NotificationTemplate.ORDER_CANCELLED: MessageText(
        subject="Your order {order_ref} has been cancelled",
        body=(
            "Hello,\n\n"
            "Your order {order_ref} has been cancelled: {reason}. Nothing will be shipped, "
            "and any payment taken for it is refunded to you.\n"
        ),
    ),
    NotificationTemplate.RETURN_LABEL: MessageText(
        subject="Your return {rma} for order {order_ref} is approved",
        body=(
            "Hello,\n\n"
            "Your return {rma} is approved. Print the label at {label_url} and hand the "
            "parcel to {carrier} (tracking number {tracking_code}) by {ship_by}. Return "
            "shipping is paid by the {paid_by}. We refund you once the goods are back "
            "and checked.\n"
        ),
    ),
    NotificationTemplate.RETURN_OFFER: MessageText(
        subject="An offer for your return {rma} (order {order_ref})",
        body=(
            "Hello,\n\n"
            "Instead of sending the goods back, you may keep them and receive {amount} "
            "back. Accept or decline the offer for return {rma}; if you decline, we send "
            "you a return label as usual.\n"
        ),
    ),
    NotificationTemplate.RETURN_DECLINED: MessageText(
        subject="Your return {rma} for order {order_ref}",
        body=(
            "Hello,\n\n"
            "We cannot accept return {rma}: {reason}. If you think this is wrong, reply "
            "to this message and a colleague will look at it again.\n"
        ),
    ),
    NotificationTemplate.RETURN_REFUNDED: MessageText(
        subject="We have refunded {amount} for order {order_ref}",
        body=(
            "Hello,\n\n"
            "We have refunded {amount} for return {rma} to your original payment method "
            "(reference {refund_id}). It can take a few days to show on your statement.\n"
        ),
    ),
}


def render(template: NotificationTemplate, params: dict[str, str]) -> tuple[str, str]:
    """The (subject, body) of `template` with `params` filled in."""
    text = TEXTS[template]
    return text.subject.format_map(params), text.body.format_map(params)


class NotifyBuyerInput(BaseModel):
    """One message to a buyer: which template, its parameters, and the key that makes
    sending it idempotent (derived from the workflow id and the step)."""

    model_config = ConfigDict(frozen=True)

    to: str
    template: NotificationTemplate
    params: dict[str, str] = Field(default_factory=dict)
    idempotency_key: NonEmpty

    @field_validator("to")
    @classmethod
    def _email(cls, value: str) -> str:
        # The address itself stays out of the message: errors end up in logs.
        if not _EMAIL.match(value):
            raise ValueError("to is not an email address (value withheld: personal data)")
        return value

    @model_validator(mode="after")
    def _params_complete(self) -> NotifyBuyerInput:
        missing = sorted(TEXTS[self.template].parameters - self.params.keys())
        if missing:
            raise ValueError(
                f"params for template {self.template.value!r} lack {', '.join(missing)}"
            )
        return self


class NotificationSent(BaseModel):
    """A notification the mail service accepted."""

    model_config = ConfigDict(frozen=True)

    template: NotificationTemplate
    idempotency_key: str
