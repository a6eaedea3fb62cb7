"""Marketplace payment disputes found by polling (eBay has no dispute webhooks for us)
and handed to their dispute workflows, like Stripe's webhooks are."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from temporalio import activity

from activities.errors import partner_errors
from crossdock.models.dispute import (
    DisputeEvent,
    DisputeProvider,
    DisputeSnapshot,
    PollDisputesInput,
    PollDisputesResult,
)
from crossdock.partners.amazon_claims import AmazonClaimsClient
from crossdock.partners.ebay_cases import EbayCasesClient
from crossdock.partners.ebay_payment_disputes import EbayPaymentDisputesClient

# Disputes remembered by the poller; closed ones drop out first.
SEEN_LIMIT = 5_000


# Signal-with-start a dispute's workflow with one event (`starter.dispute_start.
# DisputeDelivery`, injected by worker.py); answers (workflow id, "delivered" | "closed").
DeliverDispute = Callable[[DisputeProvider, DisputeEvent], Awaitable[tuple[str, str]]]


class DisputeIntakeActivities:
    def __init__(
        self,
        deliver: DeliverDispute,
        ebay: EbayPaymentDisputesClient,
        cases: EbayCasesClient | None = None,
        atoz: AmazonClaimsClient | None = None,
    ) -> None:
        self._deliver = deliver
        self._ebay = ebay
        self._cases = cases
        self._atoz = atoz

    @activity.defn
    async def poll_ebay_payment_disputes(self, input: PollDisputesInput) -> PollDisputesResult:
        """Signal every eBay payment dispute that changed since it was last seen.

        The event id is the dispute's id and state, so a poll repeated after a crash
        signals nothing new: the workflow drops the duplicate.
        """
        seen = dict(input.seen)
        signalled = 0
        with partner_errors():
            summaries = await self._ebay.summaries()
        for summary in summaries:
            dispute_id = str(summary["paymentDisputeId"])
            state = f"{summary['paymentDisputeStatus']}:{summary.get('closedDate', '')}"
            if seen.get(dispute_id) == state:
                continue
            with partner_errors():
                snapshot = await self._ebay.get_dispute(dispute_id)
            event = DisputeEvent(
                event_id=f"ebay:{dispute_id}:{state}",
                type=f"payment_dispute.{str(summary['paymentDisputeStatus']).lower()}",
                created=datetime.now(UTC),
                dispute=snapshot,
            )
            await self._deliver(DisputeProvider.EBAY, event)
            seen[dispute_id] = state
            signalled += 1
            activity.heartbeat(dispute_id)
        return PollDisputesResult(seen=_forget_closed(seen), signalled=signalled)

    @activity.defn
    async def poll_marketplace_claims(self, input: PollDisputesInput) -> PollDisputesResult:
        """Signal every eBay case and A-to-z claim whose state changed since last seen.

        `seen` is keyed "provider:id". Summaries carry the state, so only changed claims
        are read in full; the event id is the claim's id and state, so a poll repeated
        after a crash signals nothing new.
        """
        seen = dict(input.seen)
        signalled = 0
        for provider, claim_id, state in await self._claim_states():
            key = f"{provider}:{claim_id}"
            if seen.get(key) == state:
                continue
            with partner_errors():
                snapshot = await self._claim(provider, claim_id)
            event = DisputeEvent(
                event_id=f"{key}:{state}",
                type=f"claim.{state.split(':')[0].lower()}",
                created=datetime.now(UTC),
                dispute=snapshot,
            )
            await self._deliver(provider, event)
            seen[key] = state
            signalled += 1
            activity.heartbeat(key)
        return PollDisputesResult(seen=_forget_closed(seen), signalled=signalled)

    async def _claim_states(self) -> list[tuple[DisputeProvider, str, str]]:
        found: list[tuple[DisputeProvider, str, str]] = []
        with partner_errors():
            if self._cases is not None:
                for case in await self._cases.search():
                    modified = (case.get("lastModifiedDate") or {}).get("value", "")
                    state = f"{case['caseStatusEnum']}:{modified}"
                    found.append((DisputeProvider.EBAY_CASE, str(case["caseId"]), state))
            if self._atoz is not None:
                for claim in await self._atoz.claims():
                    state = f"{claim['ClaimStatus']}:{claim.get('Decision', '')}"
                    found.append((DisputeProvider.AMAZON, claim["ClaimId"], state))
        return found

    async def _claim(self, provider: DisputeProvider, claim_id: str) -> DisputeSnapshot:
        if provider is DisputeProvider.EBAY_CASE:
            assert self._cases is not None
            return await self._cases.get_case(claim_id)
        assert self._atoz is not None
        return await self._atoz.get_claim(claim_id)


def _forget_closed(seen: dict[str, str]) -> dict[str, str]:
    """At most SEEN_LIMIT entries, closed ones dropped first."""
    closed_first = sorted(seen, key=lambda d: "CLOSED" not in seen[d])
    for dispute_id in closed_first[: max(0, len(seen) - SEEN_LIMIT)]:
        del seen[dispute_id]
    return seen
