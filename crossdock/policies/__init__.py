"""Order policies: pure, deterministic decisions over data tables read at import time.

Workflow code may call them directly (docs/architecture.md §4: pure, fast decisions run
in workflow code); their tables live in `crossdock/data/`, one concern per module:

- `hs`: HS code plausibility.
- `restricted`: prohibited and restricted goods per destination.
- `screening`: denied-party screening of buyer and ship-to.
- `risk`: the rule-based risk score.
- `validation`: `assess_order`, all of the above for one order.
"""

from crossdock.policies.hs import check_hs_codes, hs_code_problem
from crossdock.policies.restricted import check_restricted_goods
from crossdock.policies.risk import BuyerContext, assess_risk
from crossdock.policies.screening import name_similarity, screen_order
from crossdock.policies.validation import assess_order

__all__ = [
    "BuyerContext",
    "assess_order",
    "assess_risk",
    "check_hs_codes",
    "check_restricted_goods",
    "hs_code_problem",
    "name_similarity",
    "screen_order",
]
