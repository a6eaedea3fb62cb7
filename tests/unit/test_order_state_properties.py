"""Property tests of the order lifecycle table (hypothesis): whatever events arrive, the
machine only ever sits in a known state, refuses illegal moves, and never leaves a
terminal state."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from crossdock.models.lifecycle import IllegalTransition
from crossdock.models.order_states import (
    BEFORE_SHIPMENT,
    ORDER_LIFECYCLE,
    ORDER_TRANSITIONS,
    OrderState,
)

attempts = st.lists(st.sampled_from(list(OrderState)), max_size=40)


@given(attempts)
def test_random_moves_never_reach_an_illegal_state(targets: list[OrderState]) -> None:
    state = ORDER_LIFECYCLE.initial
    for target in targets:
        legal = target in ORDER_TRANSITIONS[state]
        try:
            ORDER_LIFECYCLE.check(state, target)
        except IllegalTransition:
            assert not legal
            continue
        assert legal
        state = target
        assert state in ORDER_TRANSITIONS


@given(attempts)
def test_terminal_states_are_final(targets: list[OrderState]) -> None:
    terminals = (OrderState.COMPLETED, OrderState.CANCELLED, OrderState.REFUNDED, OrderState.CLOSED)
    for terminal in terminals:
        for target in targets:
            assert not ORDER_LIFECYCLE.allowed(terminal, target)


def test_cancellation_is_possible_exactly_before_shipment() -> None:
    cancellable = {s for s, targets in ORDER_TRANSITIONS.items() if OrderState.CANCELLED in targets}
    assert cancellable == set(BEFORE_SHIPMENT)


@given(st.data())
def test_every_walk_ends_terminal_and_completion_means_shipped_and_delivered(
    data: st.DataObject,
) -> None:
    state, visited = ORDER_LIFECYCLE.initial, [ORDER_LIFECYCLE.initial]
    while not ORDER_LIFECYCLE.terminal(state):
        # customs_declared ⇄ customs_hold may repeat (a second hold); walks that loop
        # on and on prove nothing more.
        assume(len(visited) < 100)
        state = data.draw(st.sampled_from(sorted(ORDER_TRANSITIONS[state])))
        visited.append(state)
    if state is OrderState.COMPLETED:
        # Reshipments repeat the shipping states; the last parcel went the whole way.
        last = {s: max(i for i, v in enumerate(visited) if v is s) for s in set(visited)}
        assert visited[-2] is OrderState.DELIVERED
        assert last[OrderState.SHIPMENT_CONFIRMED] < last[OrderState.DELIVERED]
        # A parcel never scanned goes from shipment to exception (presumed lost) and may
        # still turn up delivered; any other walks through in transit.
        moved = max(last.get(OrderState.IN_TRANSIT, -1), last.get(OrderState.EXCEPTION, -1))
        assert last[OrderState.SHIPMENT_CONFIRMED] < moved
        assert moved < last[OrderState.DELIVERED]
    elif state is OrderState.REFUNDED:
        # Only what shipped and then went astray is refunded here.
        assert OrderState.SHIPMENT_CONFIRMED in visited
        assert visited[-2] in (OrderState.EXCEPTION, OrderState.RETURNED_TO_SENDER)
    elif state is OrderState.CLOSED:
        # Closed by an operator's answer to a partner's refusal: only after shipment
        # (before it, a refusal cancels and compensates).
        assert OrderState.SHIPMENT_CONFIRMED in visited
    else:
        assert state is OrderState.CANCELLED
        assert visited[-2] in BEFORE_SHIPMENT
        assert OrderState.SHIPMENT_CONFIRMED not in visited
