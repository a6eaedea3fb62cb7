import pytest

from crossdock.models.lifecycle import IllegalTransition
from crossdock.models.order_states import ORDER_LIFECYCLE, ORDER_TRANSITIONS, OrderState


def test_every_state_is_in_the_table_and_reachable() -> None:
    assert set(ORDER_TRANSITIONS) == set(OrderState)
    reachable = {ORDER_LIFECYCLE.initial}
    frontier = [ORDER_LIFECYCLE.initial]
    while frontier:
        for target in ORDER_TRANSITIONS[frontier.pop()]:
            if target not in reachable:
                reachable.add(target)
                frontier.append(target)
    assert reachable == set(OrderState)


def test_terminal_states_are_final() -> None:
    assert ORDER_LIFECYCLE.terminal(OrderState.COMPLETED)
    assert ORDER_LIFECYCLE.terminal(OrderState.CANCELLED)
    assert not ORDER_LIFECYCLE.terminal(OrderState.IN_TRANSIT)


def test_no_cancellation_once_shipped() -> None:
    for state in (OrderState.SHIPMENT_CONFIRMED, OrderState.IN_TRANSIT, OrderState.DELIVERED):
        assert not ORDER_LIFECYCLE.allowed(state, OrderState.CANCELLED)


def test_illegal_move_names_both_states_and_the_legal_ones() -> None:
    with pytest.raises(IllegalTransition, match="received → delivered is not allowed"):
        ORDER_LIFECYCLE.check(OrderState.RECEIVED, OrderState.DELIVERED)
    with pytest.raises(IllegalTransition, match=r"terminal"):
        ORDER_LIFECYCLE.check(OrderState.COMPLETED, OrderState.RECEIVED)


def test_mermaid_lists_every_edge() -> None:
    diagram = ORDER_LIFECYCLE.mermaid()
    edges = sum(len(targets) for targets in ORDER_TRANSITIONS.values())
    assert diagram.startswith("stateDiagram-v2")
    terminals = sum(1 for targets in ORDER_TRANSITIONS.values() if not targets)
    assert diagram.count(" --> ") == edges + 1 + terminals  # + initial and final arrows
