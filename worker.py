"""The Crossdock worker: every workflow and activity on one task queue.

Workers are stateless; run as many as the load needs (docker-compose scales them).
"""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta
from functools import partial

import structlog
from temporalio.client import Client
from temporalio.worker import Interceptor, Worker

from activities.carrier import CarrierActivities
from activities.case_intake import CaseIntakeActivities
from activities.cases import CaseActivities
from activities.channel_cancel import ChannelCancelActivities
from activities.customs import CustomsActivities
from activities.dispute_intake import DisputeIntakeActivities
from activities.disputes import DisputeActivities
from activities.heartbeat import HeartbeatInterceptor
from activities.intake import IntakeActivities
from activities.marketplace import MarketplaceActivities
from activities.notify import NotifyActivities
from activities.payments import PaymentActivities
from activities.readmodel import HealthActivities, ReadModelActivities
from activities.records import RecordsActivities
from activities.registry import activity_methods
from activities.return_intake import ReturnIntakeActivities
from activities.returns import ReturnActivities
from activities.suppliers import SupplierActivities
from activities.warehouse import WarehouseActivities
from crossdock.config import Settings, get_settings
from crossdock.identity.claims import signer_for, verifier_for
from crossdock.identity.interceptor import PrincipalVerification
from crossdock.logs import configure_logging
from crossdock.observability.log_context import ActivityLogContext
from crossdock.observability.runtime import metrics_runtime
from crossdock.observability.tracing import start_tracing
from crossdock.observability.worker_http import BackgroundServer, worker_health_app
from crossdock.partners.clients import PartnerClients
from crossdock.partners.pooled import PooledApis
from crossdock.startup import UnsafeSettings, refuse_unsafe_settings
from crossdock.temporal import connect
from crossdock.versioning import deployment_config
from crossdock.worker_options import tuning
from crossdock.workflow_sandbox import RUNNER, compile_workflows_once
from starter.cases import CaseDelivery
from starter.dispute_start import DisputeDelivery
from starter.orders import OrderStarter, start_order_input
from starter.returns import ReturnStarter
from starter.webhooks_stripe import dispute_policy
from workflows.case import BuyerCaseWorkflow
from workflows.case_intake import BuyerMessagePollWorkflow
from workflows.dispute import DisputeWorkflow
from workflows.dispute_intake import DisputePollWorkflow
from workflows.health import HealthCheckWorkflow
from workflows.intake import MarketplacePollWorkflow
from workflows.order import OrderWorkflow
from workflows.return_intake import ReturnRequestPollWorkflow
from workflows.returns import ReturnWorkflow

log = structlog.get_logger(__name__)

WORKFLOWS = [
    OrderWorkflow,
    MarketplacePollWorkflow,
    ReturnWorkflow,
    ReturnRequestPollWorkflow,
    DisputeWorkflow,
    DisputePollWorkflow,
    BuyerCaseWorkflow,
    HealthCheckWorkflow,
    BuyerMessagePollWorkflow,
]


def build_worker(client: Client, settings: Settings, partners: PartnerClients) -> Worker:
    """A worker for every Crossdock workflow and activity, with injected partner clients."""
    apis = PooledApis.over(partners, settings)
    start_return = ReturnStarter(client, settings)
    activities = [
        PaymentActivities(partners.payments),
        CustomsActivities(partners.customs, settings.ship_from.country),
        CarrierActivities(partners.carrier),
        MarketplaceActivities(partners),
        NotifyActivities(partners.mail, apis.amazon_messaging, apis.ebay_messages, partners.ebay),
        IntakeActivities(client, partners, settings, OrderStarter(client, settings), start_return),
        WarehouseActivities(partners.warehouse),
        SupplierActivities(partners.suppliers),
        DisputeActivities(
            client, apis.stripe_disputes, apis.ebay_disputes, apis.ebay_cases, apis.amazon_claims
        ),
        DisputeIntakeActivities(
            DisputeDelivery(client, settings.task_queue, dispute_policy(settings)),
            apis.ebay_disputes,
            apis.ebay_cases,
            apis.amazon_claims,
        ),
        ChannelCancelActivities.from_partners(partners, settings),
        ReturnActivities(
            client,
            partners.payments,
            partners.carrier,
            apis.ebay_refunds,
            partial(start_order_input, client),
            apis.amazon_feeds,
        ),
        RecordsActivities.from_settings(settings),
        ReadModelActivities.from_settings(settings),
        HealthActivities.from_settings(settings),
        CaseActivities(client, signer_for(settings), start_return),
        CaseIntakeActivities(
            apis.ebay_messages, CaseDelivery(client, settings), settings.ebay_seller_username
        ),
        ReturnIntakeActivities(
            client, start_return, apis.ebay_return_requests, apis.amazon_reports
        ),
    ]
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=[method for instance in activities for method in activity_methods(instance)],
        workflow_runner=RUNNER,
        interceptors=[
            HeartbeatInterceptor(),
            ActivityLogContext(),
            *principal_verification(settings),
        ],
        deployment_config=deployment_config(settings),
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=settings.sticky_timeout_seconds),
        **tuning(settings),
    )


def principal_verification(settings: Settings) -> list[Interceptor]:
    """The interceptor refusing unsigned principals and intent signals (and signing the
    signals this worker's workflows send); with `verify_principals` off it refuses
    nothing but stays, so histories it marked keep replaying."""
    verifier, signer = verifier_for(settings), signer_for(settings)
    return [PrincipalVerification(verifier, signer, enforce=settings.verify_principals)]


async def main() -> None:
    compile_workflows_once()
    settings = get_settings()
    configure_logging(settings.log_level, process="worker")
    try:
        refuse_unsafe_settings(settings)
    except UnsafeSettings as err:
        log.error("unsafe_settings", problems=err.problems)
        raise SystemExit(2) from None
    start_tracing(settings, "crossdock-worker")
    client = await connect(settings, metrics_runtime(settings))
    partners = PartnerClients.from_settings(settings)
    worker = build_worker(client, settings, partners)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        health = None
        if settings.worker_http_port:
            app = worker_health_app(client, lambda: worker.is_running)
            health = BackgroundServer(app, settings.worker_http_host, settings.worker_http_port)
            await health.start()
        log.info(
            "worker_started", task_queue=settings.task_queue, temporal=settings.temporal_address
        )
        await stop.wait()
        if health is not None:
            await health.stop()
    await partners.aclose()
    log.info("worker_stopped")


if __name__ == "__main__":
    asyncio.run(main())
