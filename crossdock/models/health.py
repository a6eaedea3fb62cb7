"""The hourly health check's contracts (workflows/health.py)."""

from __future__ import annotations

from pydantic import BaseModel, Field

HEALTH_SCHEDULE_ID = "crossdock-health"
HEALTH_WORKFLOW_ID = "health-check"


class HealthCheckInput(BaseModel):
    """Nothing yet: a model so fields can be added without breaking running schedules."""


class OpenAlert(BaseModel):
    metric: str
    destination: str
    level: str
    rate: float


class HealthCheckResult(BaseModel):
    open: list[OpenAlert] = Field(default_factory=list)
