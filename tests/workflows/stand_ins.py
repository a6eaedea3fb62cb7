"""Stand-in activities registered under the real names: they record what the workflow
asked for and answer like the partners would, without HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import PartnerRefused
from crossdock.models.buyer_history import BuyerHistory, RecordBuyerOrderInput
from crossdock.models.carrier_steps import CarrierClaim, FileClaimInput
from crossdock.models.channel_cancel import CancelOnChannelInput, ChannelCancellation
from crossdock.models.notify import NotificationSent, NotifyBuyerInput
from crossdock.models.order import Incoterm
from crossdock.models.order_steps import (
    AuthorizePaymentInput,
    BuyLabelInput,
    CancelDeclarationInput,
    CapturePaymentInput,
    CheckDeclarationInput,
    ConfirmShipmentInput,
    CustomsDeclaration,
    FileDeclarationInput,
    LandedCost,
    MarketplacePayment,
    PaymentAuthorization,
    PaymentCapture,
    PaymentRefund,
    QuoteLandedCostInput,
    RefundPaymentInput,
    ShipmentConfirmation,
    ShippingLabel,
    VerifyMarketplacePaymentInput,
    VoidAuthorizationInput,
    VoidLabelInput,
    VoidResult,
)
from crossdock.models.refusals import Refusal
from crossdock.models.screening import AddressVerdict, VerifyAddressInput
from crossdock.models.stock import (
    CheckReservationInput,
    FulfilStockInput,
    ReleaseStockInput,
    ReservedLine,
    ReserveStockInput,
    StockLine,
    StockReservation,
)
from crossdock.money import Money
from tests.workflows.projections import Projections


@dataclass
class Partners:
    """What the stand-ins did, in order, and how they should behave."""

    calls: list[tuple[str, Any]] = field(default_factory=list)
    # What the workflows wrote to the read model (local activities, not partner calls).
    projections: Projections = field(default_factory=Projections)
    # Calls answered with a business rejection: they did nothing to undo.
    rejected: list[str] = field(default_factory=list)
    duties: int = 500
    taxes: int = 1200
    decline_card: bool = False
    reject_label: bool = False
    marketplace_paid: bool = True
    hold_declaration: bool = False
    # check_declaration answers "held" this many times, then "released".
    holds_before_release: int = 1
    # Runs inside buy_label before it answers (e.g. to race a cancellation against it).
    during_label: Callable[[], Awaitable[None]] | None = None
    undeliverable: bool = False
    # Calls the partner refuses (non-retryable), by activity name.
    refuse: frozenset[str] = frozenset()
    # The channel refuses to confirm a second package (as Amazon does for a reshipment).
    refuse_reconfirm: bool = False
    # Typed refusals (as activities/errors.py raises them), by activity name: the
    # refusal and how many calls get it (None: every call).
    refusals: dict[str, tuple[Refusal, int | None]] = field(default_factory=dict)
    # Warehouse: order lines (indexes) short of stock, and how many reservation checks
    # pass before their stock arrives (None: it never does).
    short_lines: frozenset[int] = frozenset()
    restock_after_checks: int | None = None
    # What record_buyer_order answers (default: a returning buyer, no recent orders, so
    # buyer history adds no risk points), and what it was asked, kept apart from
    # `calls` so call-sequence assertions do not change.
    buyer_history: BuyerHistory = field(
        default_factory=lambda: BuyerHistory(previous_orders=1, orders_in_window=0)
    )
    buyer_orders: list[RecordBuyerOrderInput] = field(default_factory=list)

    def names(self) -> list[str]:
        """The partner calls in order, without buyer messages (see `messages`): those go
        out at most steps, and tests about partner calls should not have to list them."""
        return [name for name, _ in self.calls if name != "notify_buyer"]

    def partner_calls(self) -> list[tuple[str, Any]]:
        """`calls` without buyer messages."""
        return [(name, call) for name, call in self.calls if name != "notify_buyer"]

    def messages(self) -> list[NotifyBuyerInput]:
        """The buyer messages sent, in order."""
        return [call for name, call in self.calls if name == "notify_buyer"]

    def _maybe_refuse(self, name: str) -> None:
        if name in self.refuse:
            raise ApplicationError(f"{name} refused by the partner", non_retryable=True)
        if name in self.refusals:
            refusal, times = self.refusals[name]
            if times is None or [n for n, _ in self.calls].count(name) <= times:
                raise PartnerRefused(refusal)

    def activities(self) -> list[Callable[..., Any]]:
        return [
            self.quote_landed_cost,
            self.authorize_payment,
            self.capture_payment,
            self.void_authorization,
            self.verify_marketplace_payment,
            self.file_declaration,
            self.cancel_declaration,
            self.check_declaration,
            self.verify_address,
            self.notify_buyer,
            self.file_carrier_claim,
            self.refund_payment,
            self.buy_label,
            self.void_label,
            self.confirm_shipment,
            self.reserve_stock,
            self.check_reservation,
            self.fulfil_stock,
            self.release_stock,
            self.cancel_on_channel,
            self.record_buyer_order,
            *self.projections.activities(),
        ]

    def _reservation(self, lines: list[StockLine], restocked: bool) -> StockReservation:
        releases = [call for name, call in self.calls if name == "release_stock"]
        released = {ref for call in releases for ref in call.line_refs}
        everything_released = any(not call.line_refs for call in releases)
        fulfilled = {
            ref for name, call in self.calls if name == "fulfil_stock" for ref in call.line_refs
        }
        booked = []
        for index, line in enumerate(lines):
            short = index in self.short_lines and not restocked
            gone = line.line_ref in released or everything_released
            booked.append(
                ReservedLine(
                    line_ref=line.line_ref,
                    sku=line.sku,
                    quantity=line.quantity,
                    reserved=0 if short or gone or line.line_ref in fulfilled else line.quantity,
                    backordered=line.quantity if short and not gone else 0,
                    fulfilled=line.quantity if line.line_ref in fulfilled else 0,
                )
            )
        return StockReservation(reservation_id="rsv_1", status="partial", lines=booked)

    def _reserved_lines(self) -> list[StockLine]:
        return next(call.lines for name, call in self.calls if name == "reserve_stock")

    @activity.defn(name="reserve_stock")
    async def reserve_stock(self, input: ReserveStockInput) -> StockReservation:
        self.calls.append(("reserve_stock", input))
        self._maybe_refuse("reserve_stock")
        return self._reservation(input.lines, restocked=False)

    @activity.defn(name="check_reservation")
    async def check_reservation(self, input: CheckReservationInput) -> StockReservation:
        self.calls.append(("check_reservation", input))
        self._maybe_refuse("check_reservation")
        return self._reservation(self._reserved_lines(), restocked=self._restocked())

    def _restocked(self) -> bool:
        checks = self.names().count("check_reservation")
        return self.restock_after_checks is not None and checks >= self.restock_after_checks

    @activity.defn(name="fulfil_stock")
    async def fulfil_stock(self, input: FulfilStockInput) -> StockReservation:
        self.calls.append(("fulfil_stock", input))
        self._maybe_refuse("fulfil_stock")
        return self._reservation(self._reserved_lines(), restocked=self._restocked())

    @activity.defn(name="cancel_on_channel")
    async def cancel_on_channel(self, input: CancelOnChannelInput) -> ChannelCancellation:
        self.calls.append(("cancel_on_channel", input))
        self._maybe_refuse("cancel_on_channel")
        return ChannelCancellation(reference="cxl_1", status="accepted")

    @activity.defn(name="release_stock")
    async def release_stock(self, input: ReleaseStockInput) -> StockReservation:
        self.calls.append(("release_stock", input))
        return self._reservation(self._reserved_lines(), restocked=self._restocked())

    @activity.defn(name="record_buyer_order")
    async def record_buyer_order(self, input: RecordBuyerOrderInput) -> BuyerHistory:
        self.buyer_orders.append(input)
        return self.buyer_history

    @activity.defn(name="quote_landed_cost")
    async def quote_landed_cost(self, input: QuoteLandedCostInput) -> LandedCost:
        """IOSS-like: taxes collected at sale whatever the incoterm, duties under DDP."""
        self.calls.append(("quote_landed_cost", input))
        currency = input.order.currency
        due = self.taxes + (self.duties if input.order.incoterm is Incoterm.DDP else 0)
        return LandedCost(
            quote_id="q_1",
            regime="IOSS",
            duties=Money(amount=self.duties, currency=currency),
            taxes=Money(amount=self.taxes, currency=currency),
            collected_at_sale=True,
            due_at_checkout=Money(amount=due, currency=currency),
        )

    @activity.defn(name="verify_address")
    async def verify_address(self, input: VerifyAddressInput) -> AddressVerdict:
        self.calls.append(("verify_address", input))
        if self.undeliverable:
            return AddressVerdict(deliverable=False, errors=["line1: Address not found"])
        return AddressVerdict(deliverable=True, normalised=input.address)

    @activity.defn(name="notify_buyer")
    async def notify_buyer(self, input: NotifyBuyerInput) -> NotificationSent:
        self.calls.append(("notify_buyer", input))
        return NotificationSent(template=input.template, idempotency_key=input.idempotency_key)

    @activity.defn(name="file_carrier_claim")
    async def file_carrier_claim(self, input: FileClaimInput) -> CarrierClaim:
        self.calls.append(("file_carrier_claim", input))
        return CarrierClaim(
            claim_id="clm_1",
            tracking_code=input.tracking_code,
            kind=input.kind,
            status="submitted",
            requested=input.amount,
        )

    @activity.defn(name="refund_payment")
    async def refund_payment(self, input: RefundPaymentInput) -> PaymentRefund:
        self.calls.append(("refund_payment", input))
        self._maybe_refuse("refund_payment")
        return PaymentRefund(refund_id="re_1", amount=input.amount, status="succeeded")

    @activity.defn(name="authorize_payment")
    async def authorize_payment(self, input: AuthorizePaymentInput) -> PaymentAuthorization:
        self.calls.append(("authorize_payment", input))
        if self.decline_card:
            self.rejected.append("authorize_payment")
            raise ApplicationError(
                "Your card was declined.", type="card_declined", non_retryable=True
            )
        return PaymentAuthorization(intent_id="pi_1", amount=input.amount)

    @activity.defn(name="capture_payment")
    async def capture_payment(self, input: CapturePaymentInput) -> PaymentCapture:
        self.calls.append(("capture_payment", input))
        self._maybe_refuse("capture_payment")
        return PaymentCapture(intent_id=input.intent_id, captured=input.amount)

    @activity.defn(name="void_authorization")
    async def void_authorization(self, input: VoidAuthorizationInput) -> VoidResult:
        self.calls.append(("void_authorization", input))
        self._maybe_refuse("void_authorization")
        return VoidResult(reference=input.intent_id, status="canceled")

    @activity.defn(name="verify_marketplace_payment")
    async def verify_marketplace_payment(
        self, input: VerifyMarketplacePaymentInput
    ) -> MarketplacePayment:
        self.calls.append(("verify_marketplace_payment", input))
        status = "Unshipped" if self.marketplace_paid else "Canceled"
        return MarketplacePayment(paid=self.marketplace_paid, status=status)

    @activity.defn(name="file_declaration")
    async def file_declaration(self, input: FileDeclarationInput) -> CustomsDeclaration:
        self.calls.append(("file_declaration", input))
        status = "held" if self.hold_declaration else "filed"
        return CustomsDeclaration(declaration_id="dcl_1", mrn="26FR0000000000001", status=status)

    @activity.defn(name="check_declaration")
    async def check_declaration(self, input: CheckDeclarationInput) -> CustomsDeclaration:
        self.calls.append(("check_declaration", input))
        checks = self.names().count("check_declaration")
        status = "held" if checks <= self.holds_before_release else "released"
        return CustomsDeclaration(declaration_id="dcl_1", mrn="26FR0000000000001", status=status)

    @activity.defn(name="cancel_declaration")
    async def cancel_declaration(self, input: CancelDeclarationInput) -> VoidResult:
        self.calls.append(("cancel_declaration", input))
        self._maybe_refuse("cancel_declaration")
        return VoidResult(reference=input.declaration_id, status="cancelled")

    @activity.defn(name="buy_label")
    async def buy_label(self, input: BuyLabelInput) -> ShippingLabel:
        self.calls.append(("buy_label", input))
        if self.during_label is not None:
            await self.during_label()
        if self.reject_label:
            self.rejected.append("buy_label")
            raise ApplicationError(
                "address undeliverable", type="ADDRESS.VERIFY.FAILURE", non_retryable=True
            )
        n = self.names().count("buy_label")
        return ShippingLabel(
            shipment_id=f"shp_{n}",
            tracking_code=f"EZ1{n:09d}",  # a new parcel, a new tracking number
            tracker_id=f"trk_{n}",
            carrier="USPS",
            service="FirstClassPackageInternationalService",
            cost=Money(amount=1299, currency="USD"),
            label_url="https://labels/1.png",
        )

    @activity.defn(name="void_label")
    async def void_label(self, input: VoidLabelInput) -> VoidResult:
        self.calls.append(("void_label", input))
        return VoidResult(reference=input.shipment_id, status="submitted")

    @activity.defn(name="confirm_shipment")
    async def confirm_shipment(self, input: ConfirmShipmentInput) -> ShipmentConfirmation:
        self.calls.append(("confirm_shipment", input))
        if input.package > 1:  # `refusals` refuse further packages, not the sale's first
            self._maybe_refuse("confirm_shipment")
        if self.refuse_reconfirm and input.package > 1:
            raise ApplicationError("quantity exceeds what is not yet shipped", non_retryable=True)
        return ShipmentConfirmation(confirmation_id="conf_1")
