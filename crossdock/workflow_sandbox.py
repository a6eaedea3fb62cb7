"""The workflow sandbox every Crossdock worker (and workflow test) runs workflows in.

Our own modules and pydantic are deterministic at import: passing them through the
sandbox instead of re-importing them per workflow run saves most of its cost. structlog
and rich format `workflow.logger` records, in the workflow's thread.

It lives here, not in worker.py, so that a module defining a workflow (a test probe) can
use it without importing every activity and its HTTP clients into the sandbox.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import CodeType, ModuleType
from typing import ClassVar

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "crossdock", "pydantic", "pydantic_core", "annotated_types", "structlog", "rich"
    )
)

# The packages whose modules the sandbox imports afresh for every workflow run.
REIMPORTED = frozenset({"workflows"})


class _CompiledOnce(importlib.machinery.SourceFileLoader):
    """A source loader that compiles each file once per process.

    Code objects are immutable, so every import of the module (each a fresh namespace,
    as the sandbox requires) can execute the same one.
    """

    compiled: ClassVar[dict[str, CodeType]] = {}

    def get_code(self, fullname: str) -> CodeType:
        code = self.compiled.get(self.path)
        if code is None:
            code = super().get_code(fullname)
            assert code is not None  # a source file always compiles or raises
            self.compiled[self.path] = code
        return code


class _CompiledOnceFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname.partition(".")[0] not in REIMPORTED:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            return spec
        spec.loader = _CompiledOnce(fullname, spec.loader.path)
        return spec


def compile_workflows_once() -> None:
    """Make the sandbox's re-imports of workflow modules skip compiling.

    The sandbox imports every workflow module again for each workflow run it starts.
    Without .pyc files (PYTHONDONTWRITEBYTECODE, a read-only install) each of those
    imports compiles the source again: bench/README.md measured that at about a tenth
    of the worker's CPU under load. Keeping the code objects in memory removes it, and
    with .pyc files it still saves reading and unmarshalling them.
    """
    if not any(isinstance(finder, _CompiledOnceFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _CompiledOnceFinder())
