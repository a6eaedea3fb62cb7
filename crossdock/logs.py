"""structlog setup shared by every process: JSON when not a TTY, readable on a TTY.

Standard-library records (Temporal's `workflow.logger`/`activity.logger`, uvicorn) go
through the same processors, so one process writes one format.
"""

from __future__ import annotations

import logging
import sys

import structlog

_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_logging(level: str = "INFO", process: str = "") -> None:
    """Route structlog and stdlib logging to stderr through one renderer."""
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer()
        if sys.stderr.isatty()
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
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*_SHARED, structlog.stdlib.ExtraAdder()],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    # One line per partner request drowns the events that matter; failures still show.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if process:
        structlog.contextvars.bind_contextvars(process=process)
