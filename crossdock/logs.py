"""structlog setup shared by every process: JSON when not a TTY, readable on a TTY.

Standard-library records (Temporal's `workflow.logger`/`activity.logger`, uvicorn) go
through the same processors, so one process writes one format. Temporal's records carry
`temporal_workflow` / `temporal_activity` (workflow id, run id, activity id) as fields.

Log lines leave the process for a log store that operators, vendors and backups read,
so they hold ids, never a buyer's data or a secret: events name ids and states, and
`redact` below masks any field whose name says it holds personal data or a credential,
should one slip in (tests/integration/test_scale_out.py plants both and searches the logs).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import IO, Any

import structlog

# Field names (or their parts) that hold personal data or credentials.
SENSITIVE = (
    "email",
    "phone",
    "address",
    "line1",
    "line2",
    "postal_code",
    "buyer_name",
    "password",
    "secret",
    "token",
    "api_key",
    "authorization",
    "cookie",
    "codec_key",
    "private_key",
)
MASK = "[redacted]"


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: MASK if _sensitive(str(k)) else _masked(v) for k, v in value.items()}
    return value


def _sensitive(key: str) -> bool:
    key = key.lower()
    return any(part in key for part in SENSITIVE)


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Mask fields (also nested in dicts) whose name says personal data or a secret."""
    for key, value in list(event.items()):
        event[key] = MASK if _sensitive(key) else _masked(value)
    return event


_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
_RENDER: list[structlog.types.Processor] = [
    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
    redact,
]


def configure_logging(
    level: str = "INFO", process: str = "", stream: IO[str] | None = None
) -> None:
    """Route structlog and stdlib logging to `stream` (stderr) through one renderer."""
    stream = stream or sys.stderr
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer()
        if stream.isatty()
        # default=str: a value json cannot encode is written as text. structlog's own
        # fallback imports modules lazily, which the workflow sandbox forbids when the
        # record comes from `workflow.logger`.
        else structlog.processors.JSONRenderer(default=str)
    )
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*_SHARED, structlog.stdlib.ExtraAdder()],
            processors=[*_RENDER, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    # One line per partner request drowns the events that matter; failures still show.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if process:
        structlog.contextvars.bind_contextvars(process=process)
