"""`make run`: the whole product on one machine, supervised as one process group.

Starts the Temporal dev server (SQLite file under the state dir, our search attributes
registered), the partner sandbox, the worker, intake (console process, which also keeps
the marketplace pollers running) and the demo feed. A part that dies is restarted with
backoff (crossdock/supervision.py); Ctrl-C stops them all; the next run resumes in-flight
workflows from the SQLite file, and so does a restarted dev server.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import sys
from pathlib import Path

import structlog

from crossdock.binaries import installed_binary
from crossdock.config import Settings
from crossdock.supervision import (
    PartGaveUp,
    PartSpec,
    RestartPolicy,
    StopRequested,
    Supervisor,
)
from workflows.search import cli_flags as search_attribute_flags

# What the demo profile compresses so orders complete while you watch; production
# defaults (30-day return window, hourly tracking steps) stay in Settings.
DEMO_PROFILE = {
    # The demo may run with the sandbox's published secrets (crossdock/secrets.py).
    "CROSSDOCK_DEMO_PROFILE": "true",
    "CROSSDOCK_RETURN_WINDOW_SECONDS": "60",
    "CROSSDOCK_POLL_INTERVAL_SECONDS": "2",
    "CROSSDOCK_TRACKING_STEP_SECONDS": "4",
    # One declaration in ten is held for inspection for 20 s, re-checked every 5 s.
    "CROSSDOCK_CUSTOMS_HOLD_RATE": "0.1",
    "CROSSDOCK_CUSTOMS_HOLD_SECONDS": "20",
    "CROSSDOCK_CUSTOMS_POLL_SECONDS": "5",
    # Carrier exceptions: about one parcel in seven is delayed, lost, refused or misaddressed.
    "CROSSDOCK_TRACKER_EXCEPTION_RATES": (
        '{"delayed": 0.05, "lost": 0.03, "return_to_sender": 0.03, "address_problem": 0.03}'
    ),
    # Orders in review: reminder after 20 s, escalation after 40 s, auto-cancel after 2 min.
    "CROSSDOCK_REVIEW_REMIND_SECONDS": "20",
    "CROSSDOCK_REVIEW_ESCALATE_SECONDS": "40",
    "CROSSDOCK_REVIEW_EXPIRE_SECONDS": "120",
    # Parcels: no scan for 30 s = lost; an operator has 2 min to reship or refund; demo
    # orders promise delivery within 40 s, so the carrier's delays make them late.
    "CROSSDOCK_LOST_AFTER_SECONDS": "30",
    "CROSSDOCK_EXCEPTION_REMIND_SECONDS": "20",
    "CROSSDOCK_EXCEPTION_ESCALATE_SECONDS": "60",
    "CROSSDOCK_EXCEPTION_EXPIRE_SECONDS": "120",
    # Returns: decisions reminded, escalated and accepted within two minutes, parcels
    # inspected and refunds checked within seconds.
    "CROSSDOCK_RETURN_TIMERS": (
        '{"decision_remind_seconds": 15, "decision_escalate_seconds": 30, '
        '"decision_expire_seconds": 90, "ship_back_seconds": 60, '
        '"transit_attention_seconds": 60, "inspection_remind_seconds": 20, '
        '"offer_expire_seconds": 30, "refund_check_seconds": 3, "refund_checks": 10}'
    ),
    # Storefront buyers: answered within 2 minutes (reminder at 1, escalation at 1.6).
    "CROSSDOCK_CASE_POLICY": '{"storefront_deadline_seconds": 120}',
    "CROSSDOCK_DEMO_DELIVER_WITHIN_SECONDS": "40",
    "CROSSDOCK_DELIVERY_GRACE_SECONDS": "5",
    "CROSSDOCK_SHIP_BY_WARNING_SECONDS": "5",
    # The warehouse restocks every 30 s, so backordered demo orders fill while you watch.
    "CROSSDOCK_WAREHOUSE_RESTOCK_SECONDS": "30",
    # Orders re-check backordered lines every 5 s and give up on them after 2 minutes;
    # parcels over 2 kg (several mugs, an atlas) ship as several packages.
    "CROSSDOCK_STOCK_POLL_SECONDS": "5",
    "CROSSDOCK_BACKORDER_WAIT_SECONDS": "120",
    "CROSSDOCK_MAX_PARCEL_GRAMS": "2000",
    # Disputes answered within 3 minutes (reminder, escalation, deadline policy 20 s
    # before due), decided by the issuer 30 s after submission.
    "CROSSDOCK_DISPUTE_DUE_SECONDS": "180",
    "CROSSDOCK_DISPUTE_REMIND_BEFORE_SECONDS": "120",
    "CROSSDOCK_DISPUTE_ESCALATE_BEFORE_SECONDS": "60",
    "CROSSDOCK_DISPUTE_DECIDE_MARGIN_SECONDS": "20",
    "CROSSDOCK_DISPUTE_REVIEW_SECONDS": "30",
    "CROSSDOCK_DISPUTE_REOPEN_WINDOW_SECONDS": "60",
}


log = structlog.get_logger(__name__)

# The source checkout: worker.py sits beside the packages (crossdock/, workflows/, ...).
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class PortTaken(RuntimeError):
    pass


class UnsafeBind(ValueError):
    """The embedded dev server was asked to listen beyond this machine."""


def _stop_requested(signum: int, frame: object) -> None:
    raise StopRequested(signal.Signals(signum).name)


def handle_stop_signals() -> None:
    # Explicitly, because a shell that starts us in the background leaves SIGINT ignored,
    # and SIGTERM (from a process manager) must stop the children too.
    signal.signal(signal.SIGINT, _stop_requested)
    signal.signal(signal.SIGTERM, _stop_requested)


def check_loopback(address: str) -> None:
    """Refuse a dev server address that is not on this machine's loopback.

    The embedded dev server has no TLS and no authentication: anyone who reaches its port
    can read every payload's metadata, signal, reset or terminate any workflow.
    """
    host = address.rsplit(":", 1)[0].strip("[]")
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise UnsafeBind(
            f"CROSSDOCK_TEMPORAL_ADDRESS={address}: the embedded Temporal dev server has no "
            "TLS or authentication, so `crossdock run` binds it only to loopback "
            "(127.0.0.1, ::1 or localhost); to reach Temporal from other machines run a "
            "cluster with mTLS (docker-compose.yml, docs/security.md)"
        )


def check_port_free(host: str, port: int, what: str, setting: str) -> None:
    """Refuse to start when `port` is taken, naming the part and the setting to change."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            raise PortTaken(
                f"port {port} on {host} is already taken, so {what} cannot start; "
                f"stop whatever holds it or set {setting} to a free port"
            ) from None


def temporal_command(settings: Settings) -> list[str]:
    temporal = installed_binary("temporal")
    host, port = settings.temporal_address.rsplit(":", 1)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    command = [
        temporal,
        "server",
        "start-dev",
        "--ip",
        host,
        "--port",
        port,
        "--ui-port",
        str(settings.temporal_ui_port),
        "--db-filename",
        str(settings.state_dir / "temporal.db"),
        # WAL makes the SQLite file about as fast as the in-memory store (docs/development.md).
        "--sqlite-pragma",
        "journal_mode=wal",
        "--sqlite-pragma",
        "synchronous=normal",
        "--log-level",
        "warn",
        "--namespace",
        settings.temporal_namespace,
    ]
    if settings.encrypt_payloads:
        # The UI decodes encrypted payloads through the console (which asks for a token).
        command += ["--ui-codec-endpoint", f"{settings.intake_url}/codec"]
    return command + search_attribute_flags()


def prepare_state(settings: Settings) -> None:
    """Generate missing secrets and migrate the database before any child starts, so
    the worker, intake and demo feed all find the same keys and schema."""
    from crossdock.codec import codec_for
    from crossdock.identity.claims import signer_for
    from crossdock.secrets import sandbox_secrets
    from crossdock.store import Database, upgrade

    if settings.encrypt_payloads:
        codec_for(settings)
    signer_for(settings)
    sandbox_secrets(settings)  # the storefront's and the carrier's webhook secrets
    db = Database.from_settings(settings)
    try:
        upgrade(db)
    finally:
        db.dispose()


def project_file(name: str) -> Path:
    """A file of the project's top level (worker.py), found from the package rather than
    the working directory, so `crossdock run` works from anywhere."""
    path = PROJECT_ROOT / name
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: `crossdock run` needs the project's source checkout "
            "(pip install -e .), which holds worker.py beside the packages"
        )
    return path


def child_env(settings: Settings, demo: bool) -> dict[str, str]:
    """The children's environment: the demo profile under what is set explicitly, and
    the state dir as an absolute path, so every child keeps its files in the same place
    whatever its working directory."""
    # One machine against the sandbox: its credentials and generated secrets are fine
    # (crossdock/startup.py), with or without the compressed clocks.
    env = {"CROSSDOCK_DEMO_PROFILE": "true", **(DEMO_PROFILE if demo else {}), **os.environ}
    env["CROSSDOCK_STATE_DIR"] = str(settings.state_dir.resolve())
    return env


def parts(settings: Settings) -> list[PartSpec]:
    """The stack's children in start order, each with where it listens and what it needs."""
    python = sys.executable
    host, port = settings.temporal_address.rsplit(":", 1)
    temporal = ("temporal",)
    specs = [
        PartSpec("temporal", temporal_command(settings), listens=(host, int(port))),
        PartSpec(
            "sandbox",
            [python, "-m", "crossdock.cli", "sandbox"],
            listens=(settings.sandbox_host, settings.sandbox_port),
        ),
        PartSpec("worker", [python, str(project_file("worker.py"))], needs=temporal),
        PartSpec(
            "intake",
            [python, "-m", "crossdock.cli", "intake"],
            listens=(settings.console_host, settings.console_port),
            needs=temporal,
        ),
    ]
    if settings.demo_feed:
        specs.append(
            PartSpec("demo-feed", [python, "-m", "crossdock.cli", "demo-feed"], needs=temporal)
        )
    return specs


def check_ports(settings: Settings) -> None:
    """Refuse to start when any part's port is taken, or Temporal would leave loopback."""
    check_loopback(settings.temporal_address)
    host, port = settings.temporal_address.rsplit(":", 1)
    for what, h, p, setting in [
        ("Temporal", host, int(port), "CROSSDOCK_TEMPORAL_ADDRESS"),
        ("the Temporal UI", host, settings.temporal_ui_port, "CROSSDOCK_TEMPORAL_UI_PORT"),
        ("the sandbox", settings.sandbox_host, settings.sandbox_port, "CROSSDOCK_SANDBOX_PORT"),
        ("the console", settings.console_host, settings.console_port, "CROSSDOCK_CONSOLE_PORT"),
    ]:
        check_port_free(h, p, what, setting)


def run(settings: Settings, demo: bool, policy: RestartPolicy | None = None) -> int:
    """Start every part, keep them running (restarting the dead), stop everything on
    Ctrl-C or when a part spends its restart budget. Returns the exit code."""
    settings = settings.model_copy(update={"state_dir": settings.state_dir.resolve()})
    check_ports(settings)
    prepare_state(settings)
    from crossdock.console.first_admin import announce_first_admin, ensure_first_admin

    first_admin = ensure_first_admin(settings)
    supervisor = Supervisor(child_env(settings, demo), policy or RestartPolicy())
    handle_stop_signals()
    host = settings.temporal_address.rsplit(":", 1)[0]
    try:
        for spec in parts(settings):
            supervisor.start(spec)
            if spec.name == "temporal":
                supervisor.wait_ready("temporal", 60)
        supervisor.wait_ready("sandbox", 30)
        supervisor.wait_ready("intake", 30)
        print(
            f"\nCrossdock is running.\n"
            f"  Temporal UI  http://{host}:{settings.temporal_ui_port}\n"
            f"  sandbox      {settings.sandbox_url}/docs  (ledger: /_sandbox/ledger)\n"
            f"  intake       {settings.intake_url}/docs\n"
            f"  console      {settings.intake_url}/console  (API: /docs, CLI: crossdock inbox)\n"
            f"A part that dies is restarted; Ctrl-C stops everything; the next `make run` "
            f"resumes in-flight orders.\n",
            flush=True,
        )
        log.info("stack_running", parts=list(supervisor.parts))
        if first_admin is not None:
            announce_first_admin(first_admin, settings)
        supervisor.watch()
    except (StopRequested, KeyboardInterrupt):
        return 0
    except (PartGaveUp, TimeoutError) as err:
        print(f"{err}; stopped the rest", file=sys.stderr, flush=True)
        return 1
    finally:
        supervisor.stop()
    return 0
