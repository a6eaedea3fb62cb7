"""Who decides: an operator account's role and the principal the console signs for it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Role(StrEnum):
    """What an authenticated operator account may do. Viewers never decide."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    FINANCE = "finance"
    ADMIN = "admin"


# Who may approve an amount at or above a request's finance threshold.
FINANCE_ROLES = frozenset({Role.FINANCE, Role.ADMIN})


class Principal(BaseModel):
    """The operator account behind a decision, as the console authenticated it.

    `id` is an account id (e.g. "ops-7"), never a name or e-mail: it lands in workflow
    history and timelines.
    """

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1)
    role: Role
    # The console's signature over id, role, workflow and expiry (crossdock.identity.claims),
    # checked by workers before any validator runs. Empty in histories recorded before it.
    claim: str = Field(default="", max_length=200, repr=False)

    def __str__(self) -> str:
        return f"{self.id} ({self.role})"

    # The same account in the same role is the same principal, signed or not: the claim
    # is how it travelled, so workflow code comparing principals must not see it.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Principal):
            return NotImplemented
        return (self.id, self.role) == (other.id, other.role)

    def __hash__(self) -> int:
        return hash((self.id, self.role))
