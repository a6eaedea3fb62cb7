"""Fault profiles as data: what the sandbox partners do wrong, where and how often.

A profile (named in `crossdock/data/fault_profiles.json`, or a JSON file of its own)
holds a default rule, overrides per partner (the URL prefix: stripe, easypost, ...) and
per endpoint (method + path glob). A rule gives, per fault kind, the share of requests
it strikes at each of two places:

- `before` the handler, as a gateway would: nothing executed, nothing stored under the
  idempotency key; the retry runs the request for real.
- `after` the handler: the side effect happened and is stored under its key, but the
  answer is lost (5xx, reset, timeout, truncated JSON); the retry must get the stored
  answer back, which is what proves an idempotent client.

Draws come from one seeded stream per partner, so the same seed and the same sequence
of requests give the same faults (rate limits, being clocked, are the exception).
`FaultCounts` counts what was injected, by partner and kind (GET /_sandbox/faults).
"""

from __future__ import annotations

import fnmatch
import json
from collections import Counter
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

Partner = Literal[
    "stripe",
    "easypost",
    "amazon",
    "ebay",
    "customs",
    "storefront",
    "mail",
    "warehouse",
    "suppliers",
]
PARTNERS: tuple[str, ...] = get_args(Partner)
# The order kinds are drawn in: fixed here so a profile's key order cannot shift draws.
StrikeKind = Literal["error_500", "error_502", "error_503", "slow", "timeout", "reset", "malformed"]
STRIKE_KINDS: tuple[StrikeKind, ...] = get_args(StrikeKind)
WebhookKind = Literal["duplicate", "delay", "reorder", "drop"]
WEBHOOK_KINDS: tuple[WebhookKind, ...] = get_args(WebhookKind)
Rate = float
Seconds = tuple[float, float]

# Only an executed request has a body to truncate; slowness is the same at either place.
_BEFORE_ONLY, _AFTER_ONLY = {"slow"}, {"malformed"}


def _check_rates(place: str, rates: Mapping[StrikeKind, float], refused: set[str]) -> None:
    for kind, rate in rates.items():
        if not 0 <= rate <= 1:
            raise ValueError(f"{place}.{kind}: rate {rate} must be between 0 and 1")
        if kind in refused:
            raise ValueError(f"{place}.{kind}: this kind cannot strike {place} the handler")
    if sum(rates.values()) > 1:
        raise ValueError(f"{place}: rates add up to {sum(rates.values()):.3f}, more than 1")


class FaultRule(BaseModel):
    """How often each fault strikes one partner or endpoint."""

    model_config = ConfigDict(extra="forbid")

    before: dict[StrikeKind, Rate] = Field(default_factory=dict)
    after: dict[StrikeKind, Rate] = Field(default_factory=dict)
    # Added to every request, uniformly 0..latency_ms.
    latency_ms: int = Field(default=0, ge=0)
    # How much later a `slow` answer comes (inside any sane client timeout).
    slow_seconds: Seconds = (1.0, 3.0)
    # Token bucket per partner (or per endpoint rule that sets it): 0 = unlimited.
    rate_limit_per_second: float = Field(default=0.0, ge=0)
    burst: int = Field(default=20, ge=1)
    # Outbound webhooks of this partner: share of events duplicated, delayed, held back
    # until a later one is sent (reordered), or whose first attempt is lost (dropped).
    webhooks: dict[WebhookKind, Rate] = Field(default_factory=dict)
    webhook_delay_seconds: Seconds = (0.3, 1.5)

    @model_validator(mode="after")
    def _rates_are_shares(self) -> FaultRule:
        _check_rates("before", self.before, _AFTER_ONLY)
        _check_rates("after", self.after, _BEFORE_ONLY)
        for kind, rate in self.webhooks.items():
            if not 0 <= rate <= 1:
                raise ValueError(f"webhooks.{kind}: rate {rate} must be between 0 and 1")
        return self

    def merged(self, override: FaultRule) -> FaultRule:
        """This rule with the fields `override` sets; rate tables merge kind by kind."""
        update: dict[str, Any] = {}
        for name in override.model_fields_set & set(FaultRule.model_fields):
            value = getattr(override, name)
            update[name] = {**getattr(self, name), **value} if isinstance(value, dict) else value
        return FaultRule.model_validate({**self.model_dump(), **update})


class EndpointRule(FaultRule):
    """A rule for the requests matching `method` and the glob `path`
    (e.g. "POST", "/stripe/v1/payment_intents/*/capture")."""

    method: str = "*"
    path: str

    def matches(self, method: str, path: str) -> bool:
        return fnmatch.fnmatchcase(method.upper(), self.method.upper()) and fnmatch.fnmatchcase(
            path, self.path
        )


class FaultProfile(BaseModel):
    """A named set of fault rules and the seed their draws start from."""

    model_config = ConfigDict(extra="forbid")

    name: str = "custom"
    seed: int = 0
    # How long a `timeout` holds the answer (ended early when the client hangs up): must
    # exceed the client's timeout (Settings.partner_timeout_seconds, 10 s by default).
    hang_seconds: float = Field(default=12.0, gt=0)
    default: FaultRule = Field(default_factory=FaultRule)
    partners: dict[Partner, FaultRule] = Field(default_factory=dict)
    endpoints: list[EndpointRule] = Field(default_factory=list)

    @classmethod
    def everywhere(
        cls,
        *,
        error_rate: Rate = 0.0,
        latency_ms: int = 0,
        rate_limit_per_second: float = 0.0,
        burst: int = 20,
        seed: int = 0,
    ) -> FaultProfile:
        """One rule for every partner: a share of 503s before the handler, added latency,
        a token bucket. The shape most tests want, without spelling out a whole rule."""
        before: dict[StrikeKind, Rate] = {"error_503": error_rate} if error_rate else {}
        rule = FaultRule(
            before=before,
            latency_ms=latency_ms,
            rate_limit_per_second=rate_limit_per_second,
            burst=burst,
        )
        return cls(seed=seed, default=rule)

    def rule_for(
        self, partner: str, method: str | None = None, path: str | None = None
    ) -> FaultRule:
        """The default rule, then the partner's override, then every matching endpoint's."""
        rule = self.default
        if partner in self.partners:
            rule = rule.merged(self.partners[partner])
        if method is not None and path is not None:
            for endpoint in self.endpoints:
                if endpoint.matches(method, path):
                    rule = rule.merged(endpoint)
        return rule

    def endpoint_for(self, method: str, path: str) -> EndpointRule | None:
        """The last endpoint rule matching the request that sets its own rate limit."""
        found = None
        for endpoint in self.endpoints:
            if "rate_limit_per_second" in endpoint.model_fields_set and endpoint.matches(
                method, path
            ):
                found = endpoint
        return found

    def for_client_timeout(self, timeout_seconds: float) -> FaultProfile:
        """This profile with timeouts that outlast a client waiting `timeout_seconds`."""
        if self.hang_seconds > timeout_seconds:
            return self
        return self.model_copy(update={"hang_seconds": timeout_seconds + 2.0})


def _shipped() -> dict[str, Any]:
    text = resources.files("crossdock.data").joinpath("fault_profiles.json").read_text("utf-8")
    profiles: dict[str, Any] = json.loads(text)["profiles"]
    return profiles


def profile_names() -> list[str]:
    """The names of the shipped profiles (crossdock/data/fault_profiles.json)."""
    return sorted(_shipped())


def load_profile(spec: str) -> FaultProfile:
    """The shipped profile named `spec`, or the profile in the JSON file at path `spec`.

    Raises:
        ValueError: `spec` is neither a shipped name nor a readable profile file.
    """
    shipped = _shipped()
    if spec in shipped:
        return FaultProfile.model_validate({"name": spec, **shipped[spec]})
    path = Path(spec)
    if not path.is_file():
        raise ValueError(
            f"fault profile {spec!r} is neither one of {', '.join(sorted(shipped))} nor a JSON file"
        )
    data = json.loads(path.read_text("utf-8"))
    return FaultProfile.model_validate({"name": path.stem, **data})


class FaultCounts:
    """Faults injected since the sandbox started, by partner and kind."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()

    def add(self, partner: str, kind: str) -> None:
        """Count one `kind` (e.g. "after.reset", "rate_limited", "webhook.duplicate")."""
        self._counts[(partner, kind)] += 1

    def get(self, partner: str, kind: str) -> int:
        return self._counts[(partner, kind)]

    def snapshot(self) -> dict[str, Any]:
        """{"total", "kinds": {kind: n}, "partners": {partner: {kind: n}}}."""
        kinds: Counter[str] = Counter()
        partners: dict[str, dict[str, int]] = {}
        for (partner, kind), count in sorted(self._counts.items()):
            kinds[kind] += count
            partners.setdefault(partner, {})[kind] = count
        return {
            "total": sum(kinds.values()),
            "kinds": dict(sorted(kinds.items())),
            "partners": partners,
        }
