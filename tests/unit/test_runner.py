import os
import re
import socket
import sys
import time
from pathlib import Path

import pytest

from crossdock.config import Settings
from crossdock.runner import (
    DEMO_PROFILE,
    PortTaken,
    UnsafeBind,
    check_loopback,
    check_port_free,
    child_env,
    parts,
    run,
    temporal_command,
)
from crossdock.supervision import Backoff, PartGaveUp, PartSpec, RestartPolicy, Supervisor
from tests.servers import free_port


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


def test_a_dead_part_waits_longer_each_time_up_to_the_cap() -> None:
    backoff = Backoff(RestartPolicy(first_delay=0.5, factor=2, max_delay=3, budget=10, window=60))
    delays = [backoff.next_delay(now=float(i), uptime=1.0) for i in range(5)]
    assert delays == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_a_part_that_ran_a_while_starts_its_backoff_afresh() -> None:
    backoff = Backoff(RestartPolicy(first_delay=0.5, factor=2, budget=10, healthy_after=30))
    assert [backoff.next_delay(float(i), uptime=1.0) for i in range(3)] == [0.5, 1.0, 2.0]
    assert backoff.next_delay(100.0, uptime=45.0) == 0.5


def test_a_part_crashing_at_once_spends_its_budget_then_is_given_up() -> None:
    backoff = Backoff(RestartPolicy(budget=3, window=60))
    assert all(backoff.next_delay(float(t), uptime=0.1) is not None for t in range(3))
    assert backoff.next_delay(3.0, uptime=0.1) is None


def test_restarts_older_than_the_window_no_longer_count() -> None:
    backoff = Backoff(RestartPolicy(budget=2, window=60))
    assert backoff.next_delay(0.0, uptime=0.1) is not None
    assert backoff.next_delay(10.0, uptime=0.1) is not None
    assert backoff.next_delay(20.0, uptime=0.1) is None
    assert backoff.next_delay(75.0, uptime=0.1) is not None  # the one at 0 s has aged out


def test_a_part_that_dies_on_every_start_stops_the_stack_naming_it() -> None:
    # A real child that exits at once (a bad setting): restarted, then given up on.
    policy = RestartPolicy(first_delay=0.05, max_delay=0.05, budget=2, window=60)
    supervisor = Supervisor(env=dict(os.environ), policy=policy)
    supervisor.start(PartSpec("broken", [sys.executable, "-c", "raise SystemExit(3)"]))
    try:
        with pytest.raises(PartGaveUp, match=r"broken exited \(code 3\) 3 times within 60 s"):
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                supervisor.step()
                time.sleep(0.02)
        assert supervisor.parts["broken"].restarts == 2
    finally:
        supervisor.stop()


def test_a_restart_waits_for_the_parts_it_needs() -> None:
    policy = RestartPolicy(first_delay=0.0, budget=5)
    supervisor = Supervisor(env=dict(os.environ), policy=policy)
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    supervisor.start(PartSpec("temporal", sleeper, listens=("127.0.0.1", free_port())))
    supervisor.start(PartSpec("worker", [sys.executable, "-c", "pass"], needs=("temporal",)))
    try:
        deadline = time.monotonic() + 5
        while supervisor.parts["worker"].restart_at is None and time.monotonic() < deadline:
            supervisor.step()
            time.sleep(0.02)
        for _ in range(10):
            supervisor.step()
        # Temporal runs but does not listen: the worker is not started against it.
        assert supervisor.parts["worker"].restarts == 0
        assert supervisor.parts["worker"].restart_at is not None
    finally:
        supervisor.stop()


@pytest.mark.parametrize("address", ["0.0.0.0:7233", "192.168.1.20:7233", "[::]:7233"])
def test_the_dev_server_refuses_to_leave_loopback(address: str) -> None:
    with pytest.raises(UnsafeBind, match=rf"CROSSDOCK_TEMPORAL_ADDRESS={re.escape(address)}"):
        check_loopback(address)


@pytest.mark.parametrize("address", ["127.0.0.1:7233", "localhost:7233", "[::1]:7233"])
def test_the_dev_server_binds_loopback(address: str) -> None:
    check_loopback(address)


def test_run_refuses_a_public_bind_before_starting_anything(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, temporal_address="0.0.0.0:7233", _env_file=None)
    with pytest.raises(UnsafeBind, match="loopback"):
        run(settings, demo=True)
    assert list(tmp_path.iterdir()) == []  # no key, database or SQLite file written


def test_the_worker_is_found_from_the_package_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(state_dir=tmp_path / "state", _env_file=None)
    worker = next(spec for spec in parts(settings) if spec.name == "worker")
    assert Path(worker.command[-1]).is_absolute() and Path(worker.command[-1]).exists()
    env = child_env(Settings(state_dir=Path("relative-state"), _env_file=None), demo=False)
    assert env["CROSSDOCK_STATE_DIR"] == str(tmp_path / "relative-state")
