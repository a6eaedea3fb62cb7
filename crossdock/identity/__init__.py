"""Who operators are: accounts and API tokens, signed principal claims, and the worker
interceptor that refuses updates whose principal the console did not sign."""

from crossdock.identity.accounts import (
    Account,
    Accounts,
    AuthenticationFailed,
    IdentityError,
    IssuedToken,
)
from crossdock.identity.claims import ClaimSigner, ClaimVerifier

__all__ = [
    "Account",
    "Accounts",
    "AuthenticationFailed",
    "ClaimSigner",
    "ClaimVerifier",
    "IdentityError",
    "IssuedToken",
]
