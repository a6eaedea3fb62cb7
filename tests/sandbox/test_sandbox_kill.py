"""A sandbox process SIGKILLed right after a 2xx has lost nothing: `crossdock sandbox`
writes each change to `<state_dir>/sandbox.db` before it answers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.servers import free_port

AUTH = {"Authorization": "Bearer sk_test_kill"}


@contextmanager
def sandbox_process(state_dir: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m crossdock.cli sandbox` on `port`, its state under `state_dir`."""
    env = {
        **os.environ,
        "CROSSDOCK_STATE_DIR": str(state_dir),
        "CROSSDOCK_SANDBOX_PORT": str(port),
        # Webhooks and checkouts go to a port nobody listens on.
        "CROSSDOCK_CONSOLE_PORT": str(free_port()),
        "CROSSDOCK_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "crossdock.cli", "sandbox"],
        cwd=state_dir.parent,  # no .env of the repository is read
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the sandbox process exited"
        try:
            if httpx.get(f"{url}/_sandbox/health", timeout=1).is_success:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("the sandbox process did not become healthy in 60 s")


def test_a_payment_answered_just_before_sigkill_is_there_after_the_restart(
    tmp_path: Path,
) -> None:
    state, port = tmp_path / "state", free_port()
    url = f"http://127.0.0.1:{port}/stripe/v1/payment_intents"
    form = {"amount": "1999", "currency": "usd", "capture_method": "manual"}
    form |= {"confirm": "true", "payment_method": "pm_card_visa"}
    keyed = {**AUTH, "Idempotency-Key": "order-K1/authorize"}
    with sandbox_process(state, port) as process:
        answered = httpx.post(url, data=form, headers=keyed, timeout=10)
        process.send_signal(signal.SIGKILL)
    assert answered.status_code == 200, answered.text
    intent = answered.json()["id"]

    with sandbox_process(state, port):
        found = httpx.get(f"{url}/{intent}", headers=AUTH, timeout=10)
        replayed = httpx.post(url, data=form, headers=keyed, timeout=10)
        captured = httpx.post(f"{url}/{intent}/capture", headers=AUTH, timeout=10)
        entries = httpx.get(
            f"http://127.0.0.1:{port}/_sandbox/ledger", params={"reference": intent}, timeout=10
        ).json()

    assert (state / "sandbox.db").exists()
    assert found.json()["status"] == "requires_capture"
    assert (replayed.json()["id"], replayed.headers["Idempotent-Replayed"]) == (intent, "true")
    assert captured.json()["status"] == "succeeded"
    assert [e["kind"] for e in entries] == ["authorization", "capture"]
