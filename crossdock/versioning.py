"""Safe deploys of workflow changes with Worker Deployments (docs/production.md,
"Deploying workflow changes").

Each worker build is a version `{deployment}:{build id}`, the build id made of the
package version and the git commit (`0.1.0-3f9a1c77d2e4`). Versioned workers pin every
workflow to the build it started on: a running order, return or dispute finishes on
the code it started with. The pollers never finish; they continue as new with
`initial_versioning_behavior=AUTO_UPGRADE` (workflows/options.py), so each next run
starts on the current build. (The behaviour is not set per workflow class: the server
refuses a class's behaviour from an unversioned worker, as in `make run`.) The
procedure: deploy the new version's workers beside the old ones → `crossdock deploy
ramp` a share of new cases to it → `crossdock deploy current` → wait until the old
version is drained (no open workflow pinned to it) → stop its workers → `crossdock
deploy retire`.
"""

from __future__ import annotations

import os
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from temporalio.api.deployment.v1 import WorkerDeploymentVersion as VersionMessage
from temporalio.api.enums.v1 import VersionDrainageStatus
from temporalio.api.workflowservice.v1 import (
    DeleteWorkerDeploymentVersionRequest,
    DescribeWorkerDeploymentVersionRequest,
    SetWorkerDeploymentCurrentVersionRequest,
    SetWorkerDeploymentRampingVersionRequest,
)
from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.worker import WorkerDeploymentConfig

from crossdock.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def build_id(settings: Settings) -> str:
    """`CROSSDOCK_BUILD_ID`, else the package version and the checkout's commit (the
    image sets `CROSSDOCK_GIT_SHA` at build time, having no .git)."""
    if settings.build_id:
        return settings.build_id
    try:
        package = version("crossdock")
    except PackageNotFoundError:
        package = "0"
    sha = os.environ.get("CROSSDOCK_GIT_SHA") or _git_sha()
    return f"{package}-{sha}"


def _git_sha() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() or "unknown"


def deployment_config(settings: Settings) -> WorkerDeploymentConfig | None:
    """This worker's version in `worker_deployment`, every workflow PINNED; None
    (unversioned) when unset."""
    if not settings.worker_deployment:
        return None
    return WorkerDeploymentConfig(
        version=WorkerDeploymentVersion(settings.worker_deployment, build_id(settings)),
        use_worker_versioning=True,
        default_versioning_behavior=VersioningBehavior.PINNED,
    )


class Deployment:
    """The operator's side of the procedure, on one Worker Deployment."""

    def __init__(self, client: Client, name: str) -> None:
        self._client, self._name = client, name
        self._service = client.workflow_service

    async def ramp(self, build: str, percent: float) -> None:
        """Send `percent` of new workflows (and AUTO_UPGRADE ones) to `build`."""
        await self._service.set_worker_deployment_ramping_version(
            SetWorkerDeploymentRampingVersionRequest(
                namespace=self._client.namespace,
                deployment_name=self._name,
                build_id=build,
                percentage=percent,
                identity="crossdock deploy",
            )
        )

    async def make_current(self, build: str) -> None:
        """Send every new workflow to `build` (ends any ramp)."""
        await self._service.set_worker_deployment_current_version(
            SetWorkerDeploymentCurrentVersionRequest(
                namespace=self._client.namespace,
                deployment_name=self._name,
                build_id=build,
                identity="crossdock deploy",
            )
        )

    async def drainage(self, build: str) -> str:
        """ "drained" once no open workflow is pinned to `build`, else "draining" (or
        "unspecified" while it is current or ramping)."""
        answer = await self._service.describe_worker_deployment_version(
            DescribeWorkerDeploymentVersionRequest(
                namespace=self._client.namespace, deployment_version=self._version(build)
            )
        )
        status = answer.worker_deployment_version_info.drainage_info.status
        name = VersionDrainageStatus.Name(status)
        return name.removeprefix("VERSION_DRAINAGE_STATUS_").lower()

    async def retire(self, build: str) -> None:
        """Forget `build` once drained and its workers are stopped (the server refuses
        a version that still has pollers or pinned open workflows)."""
        await self._service.delete_worker_deployment_version(
            DeleteWorkerDeploymentVersionRequest(
                namespace=self._client.namespace,
                deployment_version=self._version(build),
                identity="crossdock deploy",
            )
        )

    def _version(self, build: str) -> VersionMessage:
        return VersionMessage(deployment_name=self._name, build_id=build)
