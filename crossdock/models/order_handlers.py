"""The names of the order workflow's handlers that other processes call.

Activities and the console sit below or beside `workflows/` and must not import the
workflow class to name its handlers (docs/architecture.md), so they call these names
with the result types from `crossdock/models`. `tests/unit/test_order_handlers.py`
checks that the workflow still declares each one.
"""

from __future__ import annotations

# Query: the live OrderStatus.
STATUS = "status"
# Update: a CancelRequest answered with a CancelReceipt.
CANCEL = "cancel"
# Update: a RefundRequest answered with a RefundGrant.
RESERVE_REFUND = "reserve_refund"
