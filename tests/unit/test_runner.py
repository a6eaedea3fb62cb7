import socket
from pathlib import Path

import pytest

from crossdock.config import Settings
from crossdock.runner import DEMO_PROFILE, PortTaken, check_port_free, temporal_command


def test_a_taken_port_is_refused_naming_the_part_and_the_setting() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(
            PortTaken, match=f"port {port} .* the sandbox .* CROSSDOCK_SANDBOX_PORT"
        ):
            check_port_free("127.0.0.1", port, "the sandbox", "CROSSDOCK_SANDBOX_PORT")


def test_temporal_runs_on_the_sqlite_file_with_our_search_attributes(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, temporal_address="127.0.0.1:7999", _env_file=None)
    command = temporal_command(settings)
    assert command[1:3] == ["server", "start-dev"]
    assert command[command.index("--db-filename") + 1] == str(tmp_path / "temporal.db")
    assert command[command.index("--port") + 1] == "7999"
    assert "journal_mode=wal" in command
    assert "CrossdockState=Keyword" in command and "Marketplace=Keyword" in command


def test_demo_profile_compresses_time_that_production_keeps_real() -> None:
    production = Settings(_env_file=None)
    assert production.return_window_seconds == 30 * 24 * 3600
    assert float(DEMO_PROFILE["CROSSDOCK_RETURN_WINDOW_SECONDS"]) < 120


def test_every_order_policy_field_comes_from_its_setting() -> None:
    from crossdock.models.order_steps import OrderPolicy
    from starter.orders import order_policy

    settings = Settings(_env_file=None, lost_after_seconds=42.0, review_expire_seconds=7.0)
    assert [n for n in OrderPolicy.model_fields if not hasattr(settings, n)] == []
    policy = order_policy(settings)
    assert (policy.lost_after_seconds, policy.review_expire_seconds) == (42.0, 7.0)
    assert policy.ship_from == settings.ship_from
