"""Audit: who decided what, when and why.

`timeline` renders a workflow's Temporal history as a human timeline (payloads decoded);
`log` is the hash-chained table of every decision attempt, accepted or refused, which
the console appends to because Temporal keeps no trace of a refused update.
"""

from crossdock.audit.log import AuditEntry, AuditLog, DecisionAttempt, Outcome, Verification

__all__ = ["AuditEntry", "AuditLog", "DecisionAttempt", "Outcome", "Verification"]
