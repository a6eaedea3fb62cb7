"""The operator console: a JSON API (`/api`, OpenAPI at `/openapi.json`) and web pages
(`/console`) for the approvals inbox, case lists, case detail and operators' actions,
served by the intake app's process. Every action carries the authenticated operator,
signed for the workflow it acts on, and every attempt is written to the audit log."""

from crossdock.console.app import install_console

__all__ = ["install_console"]
