"""How the sandbox's Stripe disputes behave (part of `SandboxConfig`)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class DisputeSandboxConfig(BaseModel):
    # Where `charge.dispute.*` events are POSTed, signed with `webhook_secret`; None =
    # not pushed (tests read the disputes through the API).
    webhook_url: str | None = None
    webhook_secret: str = "whsec_crossdock_sandbox"
    # Seconds a new dispute gives the merchant to answer (`evidence_details.due_by`).
    due_seconds: float = Field(default=7 * 24 * 3600, gt=0)
    # Seconds after submission the issuer decides (won at `win_rate`); 0 = only when
    # told through POST /stripe/_sandbox/disputes/{id}/resolve.
    review_seconds: float = Field(default=0, ge=0)
    win_rate: float = Field(default=0.7, ge=0, le=1)
    # Share of webhook deliveries sent twice, and held back to arrive after later ones.
    duplicate_rate: float = Field(default=0.0, ge=0, le=1)
    reorder_rate: float = Field(default=0.0, ge=0, le=1)
