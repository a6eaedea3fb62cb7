"""What the console keeps for an operator's day, on SQLite and PostgreSQL: language and
time zone, case assignments, saved views (owned, bounded, deleted only by their owner)."""

from __future__ import annotations

import pytest

from crossdock.console.locale import OperatorLocale
from crossdock.console.saved_views import SavedViews
from crossdock.console.workday import Workday
from crossdock.identity import Accounts
from crossdock.models.approval import Role
from crossdock.store import Database


def test_an_operators_day_is_kept(db: Database) -> None:
    """One test (one database each) for the three tables: migrating costs seconds."""
    for account in ("ops-1", "ops-2"):
        Accounts(db).add(account, Role.OPERATOR)
    locale_is_kept(Workday(db))
    a_case_is_assigned_to_one_operator_at_a_time(Workday(db))
    saved_views_keep_only_list_parameters_and_only_owners_delete(SavedViews(db))


def locale_is_kept(workday: Workday) -> None:
    assert workday.locale("ops-1") == OperatorLocale("en", "UTC")
    workday.set_locale("ops-1", OperatorLocale("zh_CN", "Asia/Shanghai"))
    workday.set_locale("ops-1", OperatorLocale("zh_CN", "Asia/Hong_Kong"))
    assert workday.locale("ops-1") == OperatorLocale("zh_CN", "Asia/Hong_Kong")


def a_case_is_assigned_to_one_operator_at_a_time(workday: Workday) -> None:
    workday.assign(["order-amazon-1", "order-amazon-2"], "ops-1", by="ops-2")
    workday.assign(["order-amazon-2"], "ops-2", by="ops-2")
    assert workday.assignees(["order-amazon-1", "order-amazon-2", "order-ebay-3"]) == {
        "order-amazon-1": "ops-1",
        "order-amazon-2": "ops-2",
    }
    assert workday.cases_of("ops-1") == {"order-amazon-1"}


def saved_views_keep_only_list_parameters_and_only_owners_delete(views: SavedViews) -> None:
    params = {"state": "in_review", "columns": "state,started", "sort": "-started"}
    view = views.save("ops-1", "Reviews", "orders", params | {"evil": "x", "marketplace": ""})
    assert view.query == "state=in_review&columns=state%2Cstarted&sort=-started"
    assert view.target == f"/console/orders?{view.query}"
    assert [v.name for v in views.of("ops-1")] == ["Reviews"]
    assert not views.delete("ops-2", view.id)
    assert views.delete("ops-1", view.id) and views.get(view.id) is None
    with pytest.raises(ValueError, match="kind 'people'"):
        views.save("ops-1", "x", "people", {})
