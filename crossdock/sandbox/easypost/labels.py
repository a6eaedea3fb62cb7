"""Labels bought on a shipment's rate, insured, refunded while unscanned, and the
tracker each bought label opens."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from crossdock.money import Money
from crossdock.sandbox.easypost.rates import tracking_detail
from crossdock.sandbox.easypost.scenario_controls import ScenarioControls
from crossdock.sandbox.easypost.scenarios import JOURNEYS
from crossdock.sandbox.easypost.shapes import (
    PARTNER,
    EasyPostError,
    InvalidRequest,
    Json,
    dated,
    field_error,
    timestamp,
)
from crossdock.sandbox.easypost.shipments import Shipment, insured_amount
from crossdock.sandbox.easypost.tracking import Tracker, Tracking


class Labels(ScenarioControls, Tracking):
    """Buying, insuring and refunding labels (a part of `Carrier`)."""

    def buy(self, shipment_id: str, body: Any, key: str | None) -> Json:
        shipment = self.shipment(shipment_id)
        if shipment.data["postage_label"] is not None:
            raise EasyPostError(
                422,
                "SHIPMENT.POSTAGE.EXISTS",
                f"Postage already exists for shipment {shipment_id}.",
            )
        rate = self._chosen_rate(shipment, body)
        wants_insurance = isinstance(body, dict) and "insurance" in body
        insured = insured_amount(body["insurance"]) if wants_insurance else None
        now = datetime.now(UTC)
        tracking_code = f"EZ{secrets.randbelow(10**14):014d}"
        shipment.label = Money.parse(rate["rate"], rate["currency"])
        shipment.data.update(
            selected_rate=rate,
            tracking_code=tracking_code,
            postage_label=self._postage_label(tracking_code, now),
            updated_at=timestamp(now),
        )
        tracker = self._open_tracker(shipment, tracking_code, rate, now)
        self.ctx.ledger.record(
            PARTNER,
            "label",
            shipment_id,
            idempotency_key=key,
            money=shipment.label,
            shipment_reference=shipment.data["reference"],
            tracking_code=tracking_code,
            carrier=rate["carrier"],
            service=rate["service"],
        )
        self.outbox.append(self._event("tracker.created", tracker.data, None, now))
        if insured is not None:
            self._insure(shipment, insured, key)
        return self.render(shipment_id)

    def insure(self, shipment_id: str, body: Any, key: str | None) -> Json:
        """Insure a bought label for `amount` US dollars (EasyPost's /insure)."""
        shipment = self.shipment(shipment_id)
        if shipment.label is None:
            raise EasyPostError(
                422,
                "SHIPMENT.POSTAGE.REQUIRED",
                f"Shipment {shipment_id} has no postage to insure; buy a rate first.",
            )
        amount = insured_amount(body.get("amount") if isinstance(body, dict) else None)
        self._insure(shipment, amount, key)
        return self.render(shipment_id)

    def _insure(self, shipment: Shipment, amount: Money, key: str | None) -> None:
        shipment.data.update(insurance=amount.to_decimal_string())
        self.ctx.ledger.record(
            PARTNER,
            "insurance",
            shipment.data["id"],
            idempotency_key=key,
            money=amount,
            shipment_reference=shipment.data["reference"],
        )

    def _chosen_rate(self, shipment: Shipment, body: Any) -> Json:
        chosen = body.get("rate") if isinstance(body, dict) else None
        rate_id = chosen.get("id") if isinstance(chosen, dict) else chosen
        if not rate_id:
            raise InvalidRequest(
                422,
                "SHIPMENT.MISSING_RATE",
                'rate is required: send {"rate": {"id": "rate_..."}}.',
                [field_error("rate", "Required and missing.")],
            )
        for rate in shipment.data["rates"]:
            if rate["id"] == rate_id:
                return dict(rate)
        raise InvalidRequest(
            422,
            "SHIPMENT.MISSING_RATE",
            f"rate {rate_id!r} is not one of the rates of shipment {shipment.data['id']}.",
            [field_error("rate.id", "Unknown rate for this shipment.")],
        )

    @staticmethod
    def _postage_label(tracking_code: str, now: datetime) -> Json:
        url = f"https://easypost-files.s3.amazonaws.com/files/postage_label/{tracking_code}.png"
        fields = {
            "label_url": url,
            "label_file_type": "image/png",
            "label_size": "4x6",
            "label_resolution": 300,
            "label_date": timestamp(now),
            "label_pdf_url": None,
            "label_zpl_url": None,
        }
        label = dated("pl", "PostageLabel", now, fields)
        del label["mode"]  # EasyPost's PostageLabel, unlike its other objects, has none
        return label

    def _open_tracker(
        self, shipment: Shipment, tracking_code: str, rate: Json, now: datetime
    ) -> Tracker:
        origin = shipment.data["from_address"]
        scenario = self._scenario_for(shipment)
        first = JOURNEYS[scenario][0]
        fields = {
            "tracking_code": tracking_code,
            "status": first.status,
            "status_detail": first.status_detail,
            "signed_by": None,
            "weight": shipment.data["parcel"]["weight"],
            "est_delivery_date": timestamp(now + timedelta(days=rate["delivery_days"])),
            "shipment_id": shipment.data["id"],
            "carrier": rate["carrier"],
            "tracking_details": [tracking_detail(first, rate["carrier"], origin, now)],
            "carrier_detail": {"object": "CarrierDetail", "service": rate["service"]},
            "fees": [],
        }
        data = dated("trk", "Tracker", now, fields)
        data["public_url"] = f"https://track.easypost.com/{data['id']}"
        destination = shipment.data["to_address"]
        tracker = Tracker(data, origin, destination, last_step_at=now, scenario=scenario)
        self.trackers[data["id"]] = tracker
        shipment.tracker_id = data["id"]
        return tracker

    def refund(self, shipment_id: str, key: str | None) -> Json:
        shipment = self.shipment(shipment_id)
        tracker = self.trackers.get(shipment.tracker_id or "")
        if shipment.label is None or tracker is None:
            raise EasyPostError(
                422,
                "SHIPMENT.POSTAGE.REQUIRED",
                f"Shipment {shipment_id} has no postage to refund; buy a rate first.",
            )
        if shipment.refunded:
            raise EasyPostError(
                422,
                "SHIPMENT.REFUND.UNAVAILABLE",
                f"A refund was already submitted for shipment {shipment_id} "
                f"(refund_status {shipment.data['refund_status']}).",
            )
        if tracker.step > 0:
            raise EasyPostError(
                422,
                "SHIPMENT.REFUND.UNAVAILABLE",
                f"The label of shipment {shipment_id} was already scanned by the carrier "
                f"(tracker status {tracker.data['status']}) and can no longer be refunded.",
            )
        shipment.refunded = True
        tracker.active = False
        shipment.data.update(refund_status="submitted", updated_at=timestamp(datetime.now(UTC)))
        self.ctx.ledger.record(
            PARTNER,
            "label_refund",
            shipment_id,
            idempotency_key=key,
            money=shipment.label,
            shipment_reference=shipment.data["reference"],
            tracking_code=shipment.data["tracking_code"],
        )
        return self.render(shipment_id)
