"""One settings object for every process, read from `CROSSDOCK_*` env vars and `.env`."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from crossdock.models.case import CasePolicy
from crossdock.models.order import Address
from crossdock.models.order_steps import OrderClocks
from crossdock.models.returns import ReturnTimers

DEFAULT_WAREHOUSE = Address(
    name="Crossdock Fulfilment",
    line1="Am Sandtorkai 1",
    city="Hamburg",
    postal_code="20457",
    country="DE",
    phone="+49 40 000000",
)


class Settings(BaseSettings, OrderClocks):
    model_config = SettingsConfigDict(env_prefix="CROSSDOCK_", env_file=".env", extra="ignore")

    # Temporal
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    # A cluster or Temporal Cloud: mTLS (PEM files: CA of the frontend's certificate,
    # this client's certificate and key) or an API key (docs/security.md).
    temporal_tls_ca: Path | None = None
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_tls_server_name: str = ""
    temporal_api_key: SecretStr | None = None
    # Or a profile of the SDK's environment configuration (temporal.toml + TEMPORAL_*
    # variables), which then replaces the settings above (crossdock/temporal.py).
    temporal_profile: str = ""
    task_queue: str = "crossdock"
    # How long a case's next task waits for the worker that ran its last one before any
    # worker may take it (the SDK's default: 10 s). Short, so a killed worker's tasks
    # reach a live one soon: while one waits, a console read and an operator's decision
    # meeting it on a new worker record a history the code cannot replay
    # (crossdock/divergence.py). Long enough that a busy worker keeps its own tasks.
    sticky_timeout_seconds: float = Field(default=3.0, gt=0, le=60)
    temporal_ui_port: int = 8233
    state_dir: Path = Path(".crossdock")

    # Where the partner APIs live (the sandbox by default, real services with credentials).
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = 8700
    amazon_base_url: str = "http://127.0.0.1:8700/amazon"
    amazon_marketplace_id: str = "A1PA6795UKMFR9"
    amazon_access_token: str = "Atza|crossdock-sandbox"
    # Read orders with a Restricted Data Token (SP-API Tokens API): without one Amazon
    # withholds the buyer's name and the address lines. Needs the app's PII roles.
    amazon_restricted_data: bool = True
    ebay_base_url: str = "http://127.0.0.1:8700/ebay"
    ebay_access_token: str = "v^1.1#crossdock-sandbox"
    # The seller's eBay username: messages it sent are not buyer messages to intake.
    ebay_seller_username: str = "crossdock_seller"
    # eBay serves payment disputes from another host than the rest of the Fulfillment
    # API (https://apiz.ebay.com, not https://api.ebay.com); empty: `ebay_base_url`,
    # where the sandbox serves both.
    ebay_payment_disputes_base_url: str = ""
    storefront_base_url: str = "http://127.0.0.1:8700/storefront"
    payments_base_url: str = "http://127.0.0.1:8700/stripe"
    payments_api_key: str = "sk_test_crossdock_sandbox"
    # Stripe's Files API (dispute evidence uploads) lives on https://files.stripe.com;
    # empty: `payments_base_url`, where the sandbox serves it.
    payments_files_base_url: str = ""
    carrier_base_url: str = "http://127.0.0.1:8700/easypost"
    carrier_api_key: str = "EZTK_crossdock_sandbox"
    # Insure every label at purchase for its contents' value (US dollar contents only:
    # EasyPost insures in dollars). EasyPost pays claims only on insured labels.
    carrier_insure_labels: bool = True
    customs_base_url: str = "http://127.0.0.1:8700/customs"
    warehouse_base_url: str = "http://127.0.0.1:8700/warehouse"
    # Dropship suppliers' RMA desk (vendor credits for returned goods).
    suppliers_base_url: str = "http://127.0.0.1:8700/suppliers"
    # Buyer notifications: a SendGrid v3-compatible mail API and the verified sender.
    mail_base_url: str = "http://127.0.0.1:8700/mail"
    mail_api_key: str = "SG.crossdock-sandbox"
    mail_sender: str = "orders@crossdock.example"
    partner_timeout_seconds: float = 10.0

    # Intake (webhooks, storefront checkout) is served by the console process.
    console_host: str = "127.0.0.1"
    console_port: int = 8000
    # Request bodies over these are refused 413 (crossdock/request_limits.py): 1 MiB
    # holds the largest checkout or webhook many times; the codec takes batches of
    # payloads up to Temporal's 4 MB message size.
    max_request_bytes: int = Field(default=1024 * 1024, gt=0)
    max_codec_request_bytes: int = Field(default=4 * 1024 * 1024, gt=0)
    # Public origins of the console besides its own address (behind a reverse proxy:
    # ["https://ops.example.com"]); state-changing requests from others are refused.
    console_origins: list[str] = Field(default_factory=list)
    # Console logins: the delay after the third wrong password (doubling each time) and
    # the wrong passwords that lock an account id (crossdock/identity/throttle.py).
    login_delay_seconds: float = Field(default=0.5, ge=0)
    login_lockout_after: int = Field(default=10, ge=1)
    # The console marks a running case stuck (docs/operations.md) when one workflow task
    # has failed this many attempts in a row, or one activity has been tried this often;
    # it looks at every running case once per scan (crossdock/console/stuck.py).
    stuck_task_attempts: int = Field(default=3, ge=2)
    stuck_activity_attempts: int = Field(default=10, ge=2)
    stuck_scan_seconds: float = Field(default=30.0, gt=0)
    # The scan heals a case stuck on a nondeterminism by itself while the task it resets
    # to is younger than this (docs/operations.md); 0: only `crossdock heal` does.
    heal_within_hours: float = Field(default=12.0, ge=0, le=24)

    # Where parcels ship from (JSON in CROSSDOCK_SHIP_FROM).
    ship_from: Address = DEFAULT_WAREHOUSE

    # Order policy: the clocks and limits of OrderClocks (crossdock/models/order_steps.py,
    # inherited with their production defaults), the return window and the marketplace
    # poll. The demo profile compresses time (crossdock/runner.py).
    return_window_seconds: float = Field(default=30 * 24 * 3600, gt=0)
    poll_interval_seconds: float = Field(default=60.0, gt=0)
    # The return workflow's clocks (JSON in CROSSDOCK_RETURN_TIMERS, e.g.
    # {"ship_back_seconds": 60}); production defaults in crossdock.models.returns.
    return_timers: ReturnTimers = Field(default_factory=ReturnTimers)
    # Buyer conversations: the storefront's response deadline, reminder and escalation
    # (JSON in CROSSDOCK_CASE_POLICY); Amazon's and eBay's deadlines are their rules.
    case_policy: CasePolicy = Field(default_factory=CasePolicy)
    # Carrier sandbox: seconds between tracking steps (real carriers: hours).
    tracking_step_seconds: float = Field(default=3600.0, gt=0)
    # Customs sandbox: share of declarations held for inspection, and for how long.
    customs_hold_rate: float = Field(default=0.0, ge=0, le=1)
    customs_hold_seconds: float = Field(default=4 * 3600, ge=0)
    # Carrier sandbox: share of parcels per exception scenario, as JSON in
    # CROSSDOCK_TRACKER_EXCEPTION_RATES, e.g. {"delayed": 0.05, "lost": 0.03}; the sandbox
    # refuses unknown scenarios (see crossdock.sandbox.easypost.scenarios).
    tracker_exception_rates: dict[str, float] = Field(default_factory=dict)
    # Warehouse sandbox: a restock arrives every this many seconds (0 = never).
    warehouse_restock_seconds: float = Field(default=3600.0, ge=0)
    # Sandbox fault profile: a name in crossdock/data/fault_profiles.json (none, flaky,
    # chaos) or the path of a profile JSON file (docs/sandbox.md).
    sandbox_faults: str = "none"

    # Disputes: the Stripe webhook endpoint's signing secret, and the decision clocks
    # counted back from a dispute's due_by (crossdock.models.dispute.DisputePolicy).
    # Unset: generated per install (crossdock/secrets.py); a published value is refused
    # outside the demo profile.
    stripe_webhook_secret: SecretStr | None = None
    dispute_remind_before_seconds: float = Field(default=72 * 3600, gt=0)
    dispute_escalate_before_seconds: float = Field(default=24 * 3600, gt=0)
    dispute_decide_margin_seconds: float = Field(default=6 * 3600, gt=0)
    dispute_reopen_window_seconds: float = Field(default=45 * 24 * 3600, gt=0)
    # Awaiting a verdict, a dispute is read from its provider this often (DisputePolicy).
    dispute_recheck_after_seconds: float = Field(default=24 * 3600, gt=0)
    # Dispute sandbox: time to answer a new dispute, and how long the issuer takes to
    # decide one under review (0 = only through its _sandbox routes).
    dispute_due_seconds: float = Field(default=7 * 24 * 3600, gt=0)
    dispute_review_seconds: float = Field(default=0, ge=0)

    # Intake's signing secrets, shared with the storefront and EasyPost (crossdock/secrets.py):
    # unset, each is generated once per install into the state dir.
    storefront_signing_secret: SecretStr | None = None
    easypost_webhook_secret: SecretStr | None = None
    # Basic-auth password of POST /intake/mail/inbound (buyer e-mail, Amazon's relay).
    inbound_mail_secret: SecretStr | None = None
    # The demo profile (`make run`) may use secrets published in the repository.
    demo_profile: bool = False
    # Per source and endpoint (checkout, each webhook): requests per second, and bursts.
    intake_rate_per_second: float = Field(default=50.0, gt=0)
    intake_burst: int = Field(default=500, gt=0)

    # make run
    demo_feed: bool = True
    demo_orders_per_minute: float = 20.0
    demo_seed: int = 7
    # How soon demo orders promise delivery (real orders: days; the demo: under a minute,
    # so late parcels show).
    demo_deliver_within_seconds: float = Field(default=12 * 24 * 3600, gt=0)

    log_level: str = "INFO"

    # Past one machine (docs/production.md). The worker's /healthz, /readyz and /metrics
    # (0: not served), and where the Temporal SDK serves its own Prometheus metrics
    # ("0.0.0.0:9001"; empty: not served). The console serves all three on its own port.
    worker_http_port: int = Field(default=0, ge=0, le=65535)
    worker_http_host: str = "127.0.0.1"
    temporal_metrics_bind: str = ""
    # OpenTelemetry traces to this OTLP/HTTP endpoint (empty: no tracing);
    # crossdock/observability/tracing.py.
    otlp_endpoint: str = ""
    # The console refreshes the case gauges (cases by state, approvals waiting) this often.
    metrics_scan_seconds: float = Field(default=30.0, gt=0)
    # Worker Deployments (crossdock/versioning.py): the deployment's name (empty: workers
    # unversioned) and this build's id (empty: package version + git commit).
    worker_deployment: str = ""
    build_id: str = ""
    # Worker tuning (crossdock/worker_options.py); unset: the SDK's default.
    worker_max_concurrent_workflow_tasks: int | None = Field(default=None, ge=1)
    worker_max_concurrent_activities: int | None = Field(default=None, ge=1)
    worker_max_cached_workflows: int | None = Field(default=None, ge=0)
    worker_workflow_task_pollers: int | None = Field(default=None, ge=1)
    worker_activity_task_pollers: int | None = Field(default=None, ge=1)

    # Crossdock's own database (users, API tokens, audit log): a SQLite file under the
    # state dir unless a URL says otherwise, e.g. postgresql://crossdock@db:5432/crossdock.
    database_url: str = ""
    # Secrets. Unset, each is generated once into the state dir (crossdock/keys.py), so
    # every process on one machine shares it; set them explicitly past one machine.
    # Payload encryption keys, newest first: "key-id:base64 32 bytes,older-id:...".
    codec_keys: SecretStr | None = None
    encrypt_payloads: bool = True
    # HMAC key the console signs principal claims with and workers verify them with.
    principal_key: SecretStr | None = None
    # HMAC key of the pseudonymous buyer keys in the buyer_orders table (crossdock/buyers.py).
    buyer_key: SecretStr | None = None
    principal_claim_seconds: float = Field(default=300.0, gt=0)
    # Workers refuse updates whose `by` principal carries no valid claim (the console's
    # signature): off only for a deployment whose operators still type raw updates.
    verify_principals: bool = True

    @property
    def intake_url(self) -> str:
        return f"http://{self.console_host}:{self.console_port}"

    @property
    def temporal_ui_origins(self) -> list[str]:
        """Where the Temporal Web UI is served from: the codec endpoints' CORS origins."""
        return [f"http://{host}:{self.temporal_ui_port}" for host in ("127.0.0.1", "localhost")]

    @property
    def sandbox_url(self) -> str:
        return f"http://{self.sandbox_host}:{self.sandbox_port}"

    @property
    def sandbox_database(self) -> Path:
        """The partner sandbox's records (delete the file to start the partners afresh)."""
        return self.state_dir / "sandbox.db"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once. Files in `CROSSDOCK_SECRETS_DIR` (Docker or
    Kubernetes secrets mounted as files, each named like its variable in lower case,
    e.g. `crossdock_codec_keys`) fill the settings the environment leaves unset."""
    secrets_dir = os.environ.get("CROSSDOCK_SECRETS_DIR")
    return Settings(_secrets_dir=secrets_dir) if secrets_dir else Settings()
