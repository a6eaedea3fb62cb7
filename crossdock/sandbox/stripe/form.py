"""Stripe's form-encoded requests: parsing, checking parameters, the API key."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import Request

from crossdock.money import CURRENCY_EXPONENTS
from crossdock.sandbox.core.http_api import api_key
from crossdock.sandbox.stripe.shapes import InvalidRequest, Params, StripeError


def parse_form(body: bytes) -> Params:
    """Stripe's form encoding (`metadata[order]=A1`, `items[0][price]=p`) as nested dicts.

    List indices stay dict keys ("0", "1"): nothing here needs real lists, and the
    fingerprint of a request only has to be stable.
    """
    params: Params = {}
    for raw_key, value in parse_qsl(body.decode(), keep_blank_values=True):
        head, _, rest = raw_key.partition("[")
        path = [head] + [part.rstrip("]") for part in rest.split("[")] if rest else [head]
        node = params
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise InvalidRequest(400, f"Invalid value for {raw_key}: {head} is not a hash.")
            node = child
        node[path[-1]] = value
    return params


def refuse_unknown(params: Params, allowed: frozenset[str]) -> None:
    for name in params:
        if name not in allowed:
            raise InvalidRequest(
                400,
                f"Received unknown parameter: {name}",
                code="parameter_unknown",
                param=name,
            )


def required(params: Params, name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise InvalidRequest(
            400, f"Missing required param: {name}.", code="parameter_missing", param=name
        )
    if not isinstance(value, str):
        raise InvalidRequest(400, f"Invalid {name}: expected a string.", param=name)
    return value


def optional_str(params: Params, name: str) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidRequest(400, f"Invalid {name}: expected a string, not a hash.", param=name)
    return value


def positive_int(params: Params, name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.isdigit() or int(value) < 1:
        raise InvalidRequest(
            400,
            f"Invalid {name}: {value!r} must be a positive integer in the currency's "
            "smallest unit (e.g. 1500 for 15.00 EUR or for 1500 JPY).",
            code="parameter_invalid_integer",
            param=name,
        )
    return int(value)


def flag(params: Params, name: str) -> bool:
    value = params.get(name, "false")
    if value not in ("true", "false"):
        raise InvalidRequest(
            400, f"Invalid boolean: {name}={value!r}; use true or false.", param=name
        )
    return bool(value == "true")


def choice(params: Params, name: str, allowed: tuple[str, ...], default: str | None) -> str | None:
    value = params.get(name, default)
    if value is not None and value not in allowed:
        raise InvalidRequest(
            400, f"Invalid {name}: {value!r}; must be one of {', '.join(allowed)}.", param=name
        )
    return value


def currency(params: Params) -> str:
    value = required(params, "currency").lower()
    if value.upper() not in CURRENCY_EXPONENTS:
        raise InvalidRequest(
            400,
            f"Invalid currency: {value}. Supported here: "
            f"{', '.join(sorted(c.lower() for c in CURRENCY_EXPONENTS))}.",
            param="currency",
        )
    return value


def metadata(params: Params) -> dict[str, str]:
    value = params.get("metadata", {})
    if value == "":  # Stripe clears metadata with `metadata=`
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InvalidRequest(400, "Invalid metadata: use metadata[key]=value.", param="metadata")
    return {str(k): str(v) for k, v in value.items()}


# --- authentication -------------------------------------------------------------------


def authenticate(request: Request) -> None:
    """Accept test secret keys only; answer 401 in Stripe's words otherwise."""
    key = api_key(request)
    if not key:
        raise StripeError(
            401,
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
            "YOUR_SECRET_KEY').",
        )
    if not key.startswith(("sk_test_", "rk_test_")):
        raise StripeError(401, f"Invalid API Key provided: {key[:8]}****{key[-4:]}")


# --- the payment provider -------------------------------------------------------------
