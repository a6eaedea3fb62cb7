"""What the activities that start workflows are handed by worker.py.

Starting a workflow is the starter layer's work (ids, reuse policy, the search
attributes operators filter on from the first moment). Activities sit below it, so they
receive these callables instead of importing `starter/`: the dependency keeps pointing
one way (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from crossdock.models.order import Order
from crossdock.models.order_steps import OrderInput
from crossdock.models.returns import ReturnRequest

# Starts an order's workflow with the deployment's policy; False when it was ever started.
StartOrder = Callable[[Order], Awaitable[bool]]
# Starts a prepared order (a replacement keeps its original's policy) on a task queue;
# False when it was ever started.
StartOrderInput = Callable[[OrderInput, str], Awaitable[bool]]
# Starts a return's workflow; its workflow id, or None when one with that id exists.
StartReturn = Callable[[ReturnRequest], Awaitable[str | None]]
