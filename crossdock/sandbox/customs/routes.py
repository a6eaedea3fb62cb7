"""Crossdock's customs service: landed-cost quotes and import declarations (our own JSON
API, not a third party's shape). The duty and tax rules are data
(`crossdock/data/customs_rules.json`), applied by `rules.py`.

    POST /customs/v1/landed-cost                  quote duties and taxes (no side effect)
    POST /customs/v1/declarations                 file a declaration (Idempotency-Key)
    GET  /customs/v1/declarations/{id}
    POST /customs/v1/declarations/{id}/cancel     withdraw a filed declaration (Idempotency-Key)
    POST /customs/_sandbox/declarations/{id}/hold | /release   customs authority actions

Quotes and declarations apply the rules in force on the request's `sale_date` (today
when omitted) and record the rule table's `rules_version` and the `rule_in_force_from`
date of the destination's period they used; the declaration's ledger entry carries both.

Errors: {"error": {"code", "message", "field"}}; 422 names the offending field.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from crossdock.models.order import CountryCode, Incoterm
from crossdock.money import CurrencyCode, Money
from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.idempotency import reused_key
from crossdock.sandbox.core.routes import Refusal, partner_route
from crossdock.sandbox.core.store import Table
from crossdock.sandbox.customs.rules import (
    CustomsItem,
    CustomsRuleError,
    LandedCostInput,
    LandedCostQuote,
    Transport,
    quote_landed_cost,
)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]


def customs_error(
    status: int, code: str, message: str, field_name: str | None = None
) -> JSONResponse:
    """The service's error body; `field` is the request field that was wrong."""
    error = {"code": code, "message": message} | ({"field": field_name} if field_name else {})
    return JSONResponse({"error": error}, status_code=status)


def _optional_bearer(authorization: Annotated[str | None, Header()] = None) -> None:
    # Auth is optional here, but a malformed header is a client bug worth surfacing.
    if authorization is not None and not authorization.startswith("Bearer "):
        raise Refusal(customs_error(401, "unauthorized", "Authorization must be 'Bearer <key>'"))


class DeclarationInput(BaseModel):
    reference: str = Field(min_length=1, max_length=200)
    destination_country: CountryCode
    incoterm: Incoterm
    currency: CurrencyCode
    shipping: Money | None = None
    items: list[CustomsItem] = Field(min_length=1)
    quote_id: str | None = None
    # As for a quote: the rules in force on the sale date apply, so the declaration
    # matches what the buyer was quoted (today when omitted).
    sale_date: date | None = None
    ship_from_country: CountryCode | None = None
    transport: Transport = "courier"

    def landed_cost_input(self) -> LandedCostInput:
        return LandedCostInput.model_validate(self.model_dump(exclude={"reference", "quote_id"}))


class HoldInput(BaseModel):
    reason: str = "documentary check"


@dataclass
class Declaration:
    id: str
    reference: str
    mrn: str
    request: DeclarationInput
    quote: LandedCostQuote
    created_at: datetime
    status: str = "filed"
    hold_reason: str | None = None
    updated_at: datetime | None = None
    # A random inspection (config.customs_hold_rate) is released at this time.
    release_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "declaration",
            "status": self.status,
            "reference": self.reference,
            "mrn": self.mrn,
            "destination_country": self.request.destination_country,
            "incoterm": self.request.incoterm.value,
            "currency": self.request.currency,
            "quote_id": self.request.quote_id,
            "regime": self.quote.regime.value,
            "duties": self.quote.duties.model_dump(),
            "taxes": self.quote.taxes.model_dump(),
            "entry_type": self.quote.entry_type,
            "rules_version": self.quote.rules_version,
            "rule_in_force_from": _iso(self.quote.rule_in_force_from),
            "rules_date": _iso(self.quote.rules_date),
            "hold_reason": self.hold_reason,
            "created_at": self.created_at.isoformat(),
            "updated_at": (self.updated_at or self.created_at).isoformat(),
        }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _letter_values() -> dict[str, int]:
    # ISO 6346 values: A=10 upwards, skipping multiples of 11.
    values, value = {}, 10
    for letter in string.ascii_uppercase:
        if value % 11 == 0:
            value += 1
        values[letter] = value
        value += 1
    return values | {digit: int(digit) for digit in string.digits}


_CHECK_VALUES = _letter_values()


def mrn_check_character(body: str) -> str:
    """The EU MRN check character (ISO 6346 algorithm) of the first 17 characters."""
    weighted = sum(_CHECK_VALUES[char] * 2**index for index, char in enumerate(body))
    return str(weighted % 11 % 10)


class CustomsOffice:
    """Quotes and declarations, with ids drawn from the sandbox seed."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.random = ctx.store.random(ctx.config.seed)
        self.quotes: Table[LandedCostQuote] = ctx.store.table("customs", "quote", LandedCostQuote)
        self.declarations: Table[Declaration] = ctx.store.table(
            "customs", "declaration", Declaration
        )

    def _token(self, length: int, alphabet: str = string.digits + string.ascii_uppercase) -> str:
        return "".join(self.random.choice(alphabet) for _ in range(length))

    def quote(self, request: LandedCostInput) -> LandedCostQuote:
        quote = quote_landed_cost(request, f"lcq_{self._token(20, '0123456789abcdef')}")
        self.quotes[quote.quote_id] = quote
        return quote

    def file(self, request: DeclarationInput) -> Declaration:
        if request.quote_id is not None:
            quoted = self.quotes.get(request.quote_id)
            if quoted is None or quoted.destination_country != request.destination_country:
                raise CustomsRuleError(
                    "quote_id", f"{request.quote_id!r} is not a quote for this destination"
                )
        quote = self.quote(request.landed_cost_input())
        now = datetime.now(UTC)
        body = f"{now:%y}{request.destination_country}{self._token(13)}"
        declaration = Declaration(
            id=f"dcl_{self._token(24, '0123456789abcdef')}",
            reference=request.reference,
            mrn=body + mrn_check_character(body),
            request=request,
            quote=quote,
            created_at=now,
        )
        self._maybe_inspect(declaration)
        self.declarations[declaration.id] = declaration
        return declaration

    def _maybe_inspect(self, declaration: Declaration) -> None:
        """Hold a share of filings for a random inspection, as customs authorities do."""
        config = self.ctx.config
        if config.customs_hold_rate and self.random.random() < config.customs_hold_rate:
            declaration.status, declaration.hold_reason = "held", "random inspection"
            declaration.release_at = declaration.created_at + timedelta(
                seconds=config.customs_hold_seconds
            )

    def get(self, declaration_id: str) -> Declaration:
        declaration = self.declarations.get(declaration_id)
        if declaration is None:
            raise Refusal(
                customs_error(404, "not_found", f"no declaration {declaration_id!r}", "id")
            )
        release_at = declaration.release_at
        if declaration.status == "held" and release_at and datetime.now(UTC) >= release_at:
            declaration.status, declaration.updated_at = "released", datetime.now(UTC)
        return declaration

    def move(self, declaration: Declaration, allowed_from: set[str], status: str) -> None:
        if declaration.status not in allowed_from:
            raise Refusal(
                customs_error(
                    400,
                    "invalid_state",
                    f"declaration {declaration.id} is {declaration.status}; "
                    f"{status} needs one of: {', '.join(sorted(allowed_from))}",
                    "status",
                )
            )
        declaration.status, declaration.updated_at = status, datetime.now(UTC)


def _rule_error(error: CustomsRuleError) -> JSONResponse:
    return customs_error(422, "invalid_request", error.message, error.field)


def _conflict(key: str) -> JSONResponse:
    return customs_error(400, "idempotency_error", reused_key(key), "Idempotency-Key")


def _quote_routes(router: APIRouter, office: CustomsOffice) -> None:
    @router.post("/customs/v1/landed-cost")
    async def landed_cost(request: LandedCostInput) -> Response:
        """Duties and taxes for a consignment, by destination rules and incoterm."""
        try:
            quote = office.quote(request)
        except CustomsRuleError as error:
            return _rule_error(error)
        return JSONResponse(quote.model_dump(mode="json", by_alias=True))


def _declaration_routes(router: APIRouter, office: CustomsOffice, ctx: SandboxContext) -> None:
    @router.post("/customs/v1/declarations", status_code=201)
    async def file_declaration(
        body: DeclarationInput, request: Request, key: IdempotencyKey = None
    ) -> Response:
        """File an import declaration; replays with the same key return the same one."""

        async def handler() -> JSONResponse:
            try:
                declaration = office.file(body)
            except CustomsRuleError as error:
                # Refused before anything was filed: not saved under the key (as Stripe).
                raise Refusal(_rule_error(error)) from error
            ctx.ledger.record(
                partner="customs",
                kind="declaration",
                reference=declaration.reference,
                idempotency_key=key,
                money=declaration.quote.total,
                declaration_id=declaration.id,
                mrn=declaration.mrn,
                destination_country=body.destination_country,
                rules_version=declaration.quote.rules_version,
                rule_in_force_from=_iso(declaration.quote.rule_in_force_from),
            )
            return JSONResponse(declaration.as_json(), status_code=201)

        params = body.model_dump(mode="json")
        return await ctx.idempotency.once("customs", request, key, params, handler, _conflict)

    _filed_routes(router, office, ctx)


def _filed_routes(router: APIRouter, office: CustomsOffice, ctx: SandboxContext) -> None:
    """A filed declaration: read it, or withdraw it before the goods ship."""

    @router.get("/customs/v1/declarations/{declaration_id}")
    async def get_declaration(declaration_id: str) -> Any:
        """One declaration and its current status."""
        return office.get(declaration_id).as_json()

    @router.post("/customs/v1/declarations/{declaration_id}/cancel")
    async def cancel_declaration(
        declaration_id: str, request: Request, key: IdempotencyKey = None
    ) -> Response:
        """Withdraw a filed declaration (the goods will not ship)."""

        async def handler() -> JSONResponse:
            declaration = office.get(declaration_id)
            # Withdrawing is possible until the goods leave: also while held (the goods
            # are abandoned) or after release.
            office.move(declaration, {"filed", "held", "released"}, "cancelled")
            ctx.ledger.record(
                partner="customs",
                kind="declaration_cancel",
                reference=declaration.reference,
                idempotency_key=key,
                declaration_id=declaration.id,
            )
            return JSONResponse(declaration.as_json())

        return await ctx.idempotency.once("customs", request, key, {}, handler, _conflict)


def _authority_routes(router: APIRouter, office: CustomsOffice) -> None:
    @router.post("/customs/_sandbox/declarations/{declaration_id}/hold")
    async def hold(declaration_id: str, body: HoldInput | None = None) -> Any:
        """Customs holds the goods for inspection."""
        declaration = office.get(declaration_id)
        office.move(declaration, {"filed"}, "held")
        declaration.hold_reason = (body or HoldInput()).reason
        return declaration.as_json()

    @router.post("/customs/_sandbox/declarations/{declaration_id}/release")
    async def release(declaration_id: str) -> Any:
        """Customs releases the goods (after a hold, or straight away)."""
        declaration = office.get(declaration_id)
        office.move(declaration, {"filed", "held"}, "released")
        return declaration.as_json()


def _render_invalid(field_name: str, message: str) -> Response:
    return customs_error(422, "invalid_request", f"{field_name}: {message}", field_name)


def build(ctx: SandboxContext) -> APIRouter:
    """The customs service under /customs."""
    router = APIRouter(
        route_class=partner_route(_render_invalid),
        tags=["customs"],
        dependencies=[Depends(_optional_bearer)],
    )
    office = CustomsOffice(ctx)
    _quote_routes(router, office)
    _declaration_routes(router, office, ctx)
    _authority_routes(router, office)
    return router
