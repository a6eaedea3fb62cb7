"""Placeholder: being written."""

from fastapi import APIRouter

from crossdock.sandbox.context import SandboxContext


def build(ctx: SandboxContext) -> APIRouter:
    return APIRouter()
