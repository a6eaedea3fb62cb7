"""Notify activities: tell a buyer what happened to their order, once per idempotency key."""

from __future__ import annotations

import structlog
from temporalio import activity

from activities.errors import partner_errors
from crossdock.models.notify import NotificationSent, NotifyBuyerInput, render
from crossdock.partners.mail import MailClient

log = structlog.get_logger(__name__)


class NotifyActivities:
    def __init__(self, mail: MailClient) -> None:
        self._mail = mail

    @activity.defn
    async def notify_buyer(self, input: NotifyBuyerInput) -> NotificationSent:
        """Render the template and send it to the buyer.

        The template goes along as a SendGrid custom arg, so the mail service's own
        records say what was sent without the text. Logs name the template and key only,
        never the address.
        """
        subject, text = render(input.template, input.params)
        with partner_errors():
            await self._mail.send(
                input.to,
                subject,
                text,
                input.idempotency_key,
                tags={"template": input.template.value},
            )
        log.info(
            "buyer_notified", template=input.template.value, idempotency_key=input.idempotency_key
        )
        return NotificationSent(template=input.template, idempotency_key=input.idempotency_key)
