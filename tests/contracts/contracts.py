"""The partners' published contracts, read strictly, and an HTTP transport that checks
every request an adapter sends and every answer the sandbox gives against them.

The contracts live outside the repository (`../shared/contracts/` from its root, or
`CROSSDOCK_CONTRACTS_DIR`); they are not copied in. "Strictly" means: an object the
contract describes with `properties` takes no other field (unless it says
`additionalProperties`), its `required` fields must be there, a query parameter or form
field the operation does not declare is an error, and a route the contract does not
have is an error. Where a partner publishes no contract (eBay Post-Order's types, the
Amazon Tokens API) the checks below follow its documentation pages and say so.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import jsonschema_rs
import pytest

ROOT = Path(__file__).resolve().parents[2]
Json = dict[str, Any]


def contracts_dir() -> Path:
    """Where the contracts are; skips the calling test, saying why, when they are absent."""
    where = Path(os.environ.get("CROSSDOCK_CONTRACTS_DIR") or ROOT.parent / "shared" / "contracts")
    if not (where / "README.md").is_file():
        pytest.skip(f"the partners' contracts are not at {where} (set CROSSDOCK_CONTRACTS_DIR)")
    return where


@cache
def _load(name: str) -> Json:
    doc: Json = json.loads((contracts_dir() / name).read_text())
    return doc


def _strict(node: Any) -> Any:
    """An OpenAPI 3.0 / Swagger 2.0 schema as strict JSON Schema (draft 4): objects
    closed, `nullable` as a null type, vendor and example keys dropped."""
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _strict(v) for k, v in node.items() if not k.startswith("x-") and k != "example"}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if out.pop("nullable", False):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _pointer(doc: Json, ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _closure(doc: Json, schema: Any) -> Json:
    """`schema` with only the definitions it reaches, in the document's own places."""
    out: Json = {}
    todo, seen = list(_refs(schema)), set()
    while todo:
        ref = todo.pop()
        if ref in seen:
            continue
        seen.add(ref)
        target = _pointer(doc, ref)
        section, name = ref.removeprefix("#/").rsplit("/", 1)
        place = out
        for part in section.split("/"):
            place = place.setdefault(part, {})
        place[name] = target
        todo += _refs(target)
    return out


@dataclass(frozen=True)
class Operation:
    """One documented operation: its parameters and the schemas of its bodies."""

    spec: Spec
    method: str
    template: str
    raw: Json

    @property
    def name(self) -> str:
        return str(self.raw.get("operationId") or f"{self.method} {self.template}")

    def parameters(self, where: str) -> dict[str, Json]:
        found = self.spec.doc["paths"][self.template].get("parameters", []) + self.raw.get(
            "parameters", []
        )
        params = [_pointer(self.spec.doc, p["$ref"]) if "$ref" in p else p for p in found]
        return {p["name"]: p for p in params if p.get("in") == where}

    def request_schema(self) -> tuple[str, Any] | None:
        """(media type, schema) of the request body, if the operation has one."""
        body = self.parameters("body")
        if body:
            return "application/json", next(iter(body.values())).get("schema")
        content = (self.raw.get("requestBody") or {}).get("content") or {}
        for media, entry in content.items():
            return media, entry.get("schema")
        return None

    def response_schema(self, status: int) -> tuple[bool, Any]:
        """(documented?, schema or None) for a response with `status`."""
        responses = self.raw.get("responses") or {}
        entry = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
        entry = entry or responses.get("default")
        if entry is None:
            return False, None
        if "$ref" in entry:
            entry = _pointer(self.spec.doc, entry["$ref"])
        if "schema" in entry:
            return True, entry["schema"]
        content = entry.get("content") or {}
        json_body = content.get("application/json") or next(iter(content.values()), None)
        return True, (json_body or {}).get("schema")


@dataclass
class Spec:
    """One contract file, served under `prefix` (the path the sandbox mounts it at)."""

    name: str
    prefix: str
    base: str = ""  # the contract's own path prefix under its server URL
    fallback_error: Any = None  # the documented error body where a status has no schema
    doc: Json = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.doc = _load(self.name)
        self._templates = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", t) + "$"), t)
            for t in sorted(self.doc["paths"], key=lambda t: t.count("{"))
        ]

    def operation(self, method: str, path: str) -> Operation | None:
        """The documented operation for `method` on `path` (below the prefix)."""
        path = path.removeprefix(self.base)
        for pattern, template in self._templates:
            raw = self.doc["paths"][template].get(method.lower())
            if raw is not None and pattern.match(path):
                return Operation(self, method, template, raw)
        return None

    def validator(self, schema: Any) -> jsonschema_rs.Draft4Validator:
        key = json.dumps(schema, sort_keys=True)
        return _validator(self.name, key)


@cache
def _validator(name: str, key: str) -> jsonschema_rs.Draft4Validator:
    doc, schema = _load(name), json.loads(key)
    strict = _strict({**_closure(doc, schema), "root": schema})
    return jsonschema_rs.Draft4Validator({**strict, "$ref": "#/root"})


def _errors(spec: Spec, schema: Any, instance: Any, what: str) -> list[str]:
    return [
        f"{what}: {'/'.join(map(str, e.instance_path)) or '(body)'}: {e.message[:300]}"
        for e in spec.validator(schema).iter_errors(instance)
    ]


# --- form bodies (Stripe) ---------------------------------------------------------------


def _multipart(request: httpx.Request) -> Json:
    """A multipart body's fields: text as text, a file part as the string of its bytes
    (the contract types it `format: binary`)."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.content)
    fields: Json = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        fields[str(name)] = payload.decode("latin-1") if isinstance(payload, bytes) else ""
    return fields


def _nest(pairs: list[tuple[str, str]]) -> Json:
    """Stripe's `a[b][c]=v` form keys as nested objects (`a[]` / `a[0]` as lists)."""
    out: Json = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+|\[\]", key)
        node: Any = out
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt = None if last else parts[i + 1]
            is_list = nxt == "[]" or (nxt is not None and nxt.isdigit())
            if isinstance(node, list):
                if last or part == "[]":
                    node.append(value)
                    break
                continue
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, [] if is_list else {})
    return out


def _coerce(value: Any, schema: Any, doc: Json) -> Any:
    """A form value (always text) as the type its schema asks for."""
    if isinstance(schema, dict) and "$ref" in schema:
        schema = _pointer(doc, schema["$ref"])
    if not isinstance(schema, dict):
        return value
    for option in schema.get("anyOf", []):
        coerced = _coerce(value, option, doc)
        if coerced is not value:
            return coerced
    kind = schema.get("type")
    if isinstance(value, str):
        if kind == "integer" and re.fullmatch(r"-?\d+", value):
            return int(value)
        if kind == "boolean" and value in ("true", "false"):
            return value == "true"
        if kind == "number" and re.fullmatch(r"-?\d+(\.\d+)?", value):
            return float(value)
        return value
    if isinstance(value, dict) and "properties" in schema:
        props = schema["properties"]
        return {k: _coerce(v, props.get(k), doc) for k, v in value.items()}
    if isinstance(value, dict) and isinstance(schema.get("additionalProperties"), dict):
        return {k: _coerce(v, schema["additionalProperties"], doc) for k, v in value.items()}
    if isinstance(value, list) and "items" in schema:
        return [_coerce(v, schema["items"], doc) for v in value]
    return value


# --- the checks -------------------------------------------------------------------------


@dataclass
class Contracts:
    """The specs by the path prefix they are served under, and what was checked."""

    specs: list[Spec]
    violations: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    def operation(self, request: httpx.Request) -> Operation | None:
        path = request.url.path
        for spec in self.specs:  # several specs may share a prefix (SP-API's)
            if path.startswith(spec.prefix + "/"):
                found = spec.operation(request.method, path.removeprefix(spec.prefix))
                if found is not None:
                    return found
        return None

    def covers(self, request: httpx.Request) -> bool:
        path = request.url.path
        if "/_sandbox/" in path or path.startswith(UNCONTRACTED):
            return False
        return any(path.startswith(s.prefix + "/") for s in self.specs)

    def check_request(self, request: httpx.Request) -> list[str]:
        """What in `request` the contract does not allow."""
        if not self.covers(request):
            return []
        op = self.operation(request)
        if op is None:
            return [f"{request.method} {request.url.path}: no such operation in the contract"]
        self.seen.add(op.name)
        where = f"{op.name} request"
        found = self._query(op, request, where)
        body = request.content
        declared = op.request_schema()
        if not body:
            if declared and (op.raw.get("requestBody") or {}).get("required"):
                found.append(f"{where}: the body is required")
            return found
        if declared is None:
            return [*found, f"{where}: the operation takes no body"]
        media, schema = declared
        if media == "multipart/form-data":
            instance: Any = _multipart(request)
        elif "form" in media:
            form = _nest(parse_qsl(body.decode(), keep_blank_values=True))
            instance = _coerce(form, schema, op.spec.doc)
        else:
            instance = json.loads(body)
        if schema is not None:
            found += _errors(op.spec, schema, instance, where)
        return found

    def _query(self, op: Operation, request: httpx.Request, where: str) -> list[str]:
        declared = op.parameters("query")
        given = {re.sub(r"\[.*", "", k) for k in request.url.params}
        found = [f"{where}: unknown query parameter {k!r}" for k in sorted(given - set(declared))]
        found += [
            f"{where}: required query parameter {k!r} missing"
            for k, p in declared.items()
            if p.get("required") and k not in given
        ]
        return found

    def check_response(self, request: httpx.Request, response: httpx.Response) -> list[str]:
        """What in the answer to `request` the contract does not allow."""
        if not self.covers(request):
            return []
        op = self.operation(request)
        if op is None:
            return []  # reported with the request
        where = f"{op.name} {response.status_code}"
        documented, schema = op.response_schema(response.status_code)
        if schema is None and response.status_code >= 400:
            schema = op.spec.fallback_error
            documented = documented or schema is not None
        if not documented:
            return [f"{where}: status not in the contract"]
        if schema is None or not response.content:
            return []
        return _errors(op.spec, schema, response.json(), f"{where} response")

    def check_object(self, spec: Spec, pointer: str, instance: Any, what: str) -> list[str]:
        """`instance` (a webhook's object, say) against the schema at `pointer`."""
        return _errors(spec, {"$ref": pointer}, instance, what)


# APIs with no published model in the contracts folder: checked by their own tests
# against the partner's documentation (tests/contracts/test_amazon_tokens.py).
UNCONTRACTED = ("/amazon/tokens/",)


class ContractTransport(httpx.AsyncBaseTransport):
    """Checks every request and response passing through `inner` against `contracts`."""

    def __init__(self, inner: httpx.AsyncBaseTransport, contracts: Contracts) -> None:
        self._inner = inner
        self.contracts = contracts

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()  # a multipart upload streams until read
        self.contracts.violations += self.contracts.check_request(request)
        response = await self._inner.handle_async_request(request)
        await response.aread()
        self.contracts.violations += self.contracts.check_response(request, response)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def stripe() -> Spec:
    return Spec("stripe_spec3_2023-08-16.json", "/stripe")


def ebay_fulfillment() -> Spec:
    return Spec(
        "ebay/sell_fulfillment_v1_oas3.json",
        "/ebay/sell/fulfillment/v1",
        fallback_error={
            "type": "object",
            "properties": {
                "errors": {"type": "array", "items": {"$ref": "#/components/schemas/Error"}}
            },
        },
    )


def amazon(name: str) -> Spec:
    return Spec(f"amazon/{name}", "/amazon")


def all_specs() -> list[Spec]:
    """Every contract with a sandbox counterpart the checks know how to read."""
    return [
        stripe(),
        ebay_fulfillment(),
        amazon("ordersV0.json"),
        amazon("feeds_2021-06-30.json"),
        amazon("reports_2021-06-30.json"),
    ]
