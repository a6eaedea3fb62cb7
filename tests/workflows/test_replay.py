"""Recorded histories in tests/histories/ must keep replaying: a workflow change that
would break running workflows fails here (use `workflow.patched` instead)."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from crossdock.identity import ClaimSigner, ClaimVerifier
from crossdock.identity.interceptor import PrincipalVerification
from crossdock.workflow_sandbox import RUNNER
from worker import WORKFLOWS

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("*.json"))
TEXTS = {path: path.read_text() for path in HISTORIES}
# Workers always run it (crossdock.identity.interceptor: once-only claims, intent signals
# behind the `signed-signals` patch), so histories replay through it.
KEY = b"replay-key-0123456789abcdef"
VERIFICATION = PrincipalVerification(ClaimVerifier(KEY), ClaimSigner(KEY))


def test_there_are_histories_to_replay() -> None:
    assert len(HISTORIES) >= 3


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, TEXTS[path])
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=pydantic_data_converter,
        workflow_runner=RUNNER,
        interceptors=[VERIFICATION],
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
