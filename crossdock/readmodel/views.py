"""KPIs and health figures as plain JSON-able records (API, report, workbook)."""

from __future__ import annotations

from typing import Any

from crossdock.readmodel.health import Figure
from crossdock.readmodel.kpis import Kpis
from crossdock.readmodel.records import decimal_text


def kpi_record(k: Kpis) -> dict[str, Any]:
    def money(pairs: dict[Any, int]) -> list[dict[str, Any]]:
        return [
            {"key": list(key[:-1]), "currency": key[-1], "amount": decimal_text(v, key[-1])}
            for key, v in sorted(pairs.items())
        ]

    return {
        "period": {"start": k.period.start.isoformat(), "end": k.period.end.isoformat()},
        "reporting_currency": k.reporting_currency,
        "sales": [
            {
                "channel": r.channel,
                "country": r.country,
                "currency": r.currency,
                "orders": r.orders,
                "revenue": decimal_text(r.revenue_minor, r.currency),
                "average_order_value": decimal_text(r.aov_minor, r.currency),
                "converted": decimal_text(r.converted_minor, k.reporting_currency),
                "fx_rate": str(r.rate) if r.rate is not None else None,
            }
            for r in k.sales
        ],
        "cancelled": {"by_buyer": k.cancelled_by_buyer, "by_seller": k.cancelled_by_seller},
        "hours_to_ship": k.hours_to_ship,
        "hours_to_deliver": k.hours_to_deliver,
        "refund_rate": k.refund_rate,
        "refunds_by_reason": money(k.refunds_by_reason),
        "refunds_by_sku": money(k.refunds_by_sku),
        "return_rate_by_sku": k.return_rate_by_sku,
        "dispute_rate": k.dispute_rate,
        "win_rate_by_reason": k.win_rate_by_reason,
        "duties_and_taxes": money(k.duties_by_destination),
        "approvals_waiting": k.approvals_waiting,
        "oldest_approval_hours": k.oldest_approval_hours,
        "customs_holds_open": k.customs_holds_open,
        "customs_hold_hours": k.customs_hold_hours,
        "first_response_minutes": k.first_response_minutes,
    }


def figure_record(f: Figure) -> dict[str, Any]:
    m = f.metric
    return {
        "metric": m.key,
        "marketplace": m.marketplace,
        "name": m.name,
        "destination": f.destination,
        "window_days": m.window_days,
        "numerator": f.numerator,
        "denominator": f.denominator,
        "rate": f.rate,
        "limit": m.limit,
        "warn": m.warn,
        "top_rated": m.top_rated,
        "better": m.better.value,
        "level": f.level.value,
        "definition": m.definition,
        "source": m.source,
    }
