"""Stripe's Files API, as far as disputes need it: an upload with purpose
`dispute_evidence` becomes a File (`file_...`) that evidence fields reference.

    POST /stripe/v1/files        multipart: purpose, file   (Stripe serves this from
                                 files.stripe.com; the sandbox from its one host)
    GET  /stripe/v1/files/{id}

Stripe takes PDF, JPEG and PNG as dispute evidence, up to 5 MB a file; the sandbox tells
them by their first bytes, as a browser-supplied content type proves nothing.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.store import Table
from crossdock.sandbox.stripe.endpoints import get, post
from crossdock.sandbox.stripe.form import refuse_unknown
from crossdock.sandbox.stripe.shapes import PARTNER, InvalidRequest, Json, Params

PURPOSES = frozenset(
    """account_requirement additional_verification business_icon business_logo
    customer_signature dispute_evidence identity_document pci_document
    tax_document_user_upload terminal_reader_splashscreen""".split()
)
EVIDENCE_TYPES = {b"%PDF-": "pdf", b"\xff\xd8\xff": "jpg", b"\x89PNG\r\n\x1a\n": "png"}
MAX_SIZE = 5 * 1024 * 1024


@dataclass
class StoredFile:
    id: str
    purpose: str
    size: int
    type: str
    filename: str
    sha256: str
    created: int = field(default_factory=lambda: int(time.time()))

    def to_json(self) -> Json:
        return {
            "id": self.id,
            "object": "file",
            "created": self.created,
            "expires_at": None,
            "filename": self.filename,
            "links": {
                "object": "list",
                "data": [],
                "has_more": False,
                "url": f"/v1/file_links?file={self.id}",
            },
            "purpose": self.purpose,
            "size": self.size,
            "title": None,
            "type": self.type,
            "url": f"https://files.stripe.com/v1/files/{self.id}/contents",
        }


async def _multipart(request: Request) -> Params:
    """The upload's fields; the file as its name, type and digest (the bytes are kept
    aside for the action, under `_content`)."""
    form = await request.form()
    params: Params = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            content = await value.read()
            params[name] = {
                "filename": value.filename or "upload",
                "sha256": hashlib.sha256(content).hexdigest(),
                "_content": content,
            }
        else:
            params[name] = value
    return params


class FileStore:
    """Uploaded files by id; evidence fields check their references here."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.files: Table[StoredFile] = ctx.store.table(PARTNER, "file", StoredFile)

    def upload(self, params: Params) -> Json:
        refuse_unknown(params, frozenset({"purpose", "file", "expand"}))
        purpose = params.get("purpose")
        if purpose not in PURPOSES:
            raise InvalidRequest(
                400,
                f"Invalid purpose: must be one of {', '.join(sorted(PURPOSES))}",
                code="parameter_invalid_empty" if not purpose else None,
                param="purpose",
            )
        upload = params.get("file")
        if not isinstance(upload, dict):
            raise InvalidRequest(
                400, "Missing required param: file.", code="parameter_missing", param="file"
            )
        content: bytes = upload["_content"]
        kind = next((t for magic, t in EVIDENCE_TYPES.items() if content.startswith(magic)), "")
        if purpose == "dispute_evidence" and not kind:
            raise InvalidRequest(
                400, "Dispute evidence must be a PDF, JPEG or PNG file.", param="file"
            )
        if len(content) > MAX_SIZE:
            raise InvalidRequest(400, "The file is larger than 5 MB.", param="file")
        stored = StoredFile(
            id=f"file_{secrets.token_hex(12)}",
            purpose=str(purpose),
            size=len(content),
            type=kind or "txt",
            filename=str(upload["filename"]),
            sha256=str(upload["sha256"]),
        )
        self.files[stored.id] = stored
        return stored.to_json()

    def get(self, file_id: str, param: str = "file") -> StoredFile:
        found = self.files.get(file_id)
        if found is None:
            raise InvalidRequest(
                404 if param == "file" else 400,
                f"No such file upload: '{file_id}'",
                code="resource_missing",
                param=param,
            )
        return found


def build(ctx: SandboxContext, files: FileStore) -> APIRouter:
    """The Files routes (mounted under /stripe)."""
    router = APIRouter()

    @router.post("/v1/files")
    async def upload(request: Request) -> JSONResponse:
        """Upload a file (multipart: purpose, file)."""
        return await post(ctx, request, lambda p, k: files.upload(p), _multipart)

    @router.get("/v1/files/{file_id}")
    async def retrieve(file_id: str, request: Request) -> JSONResponse:
        """Retrieve a file's object."""
        return get(request, lambda: files.get(file_id).to_json())

    return router
