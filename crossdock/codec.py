"""Payload encryption: an AES-GCM PayloadCodec with key rotation.

Every payload (workflow inputs, results, activity arguments, update arguments, query
answers, memos) leaves the process encrypted, so Temporal's database and anyone reading
raw histories see no buyer's name, e-mail or address. Search attributes are not
payloads the codec touches; they hold no personal data (workflows/search.py).

Keys come from `CROSSDOCK_CODEC_KEYS` ("k2:base64,k1:base64", newest first) or are
generated into the state dir (crossdock/keys.py). The newest key encrypts; any listed
key decrypts, its id travels in the payload's metadata. To rotate: put a new key first,
keep the old ones until no history that needs them is retained.

The Temporal UI and CLI decode through the console's `/codec/decode` (starter/codec_server.py).

Each payload also names, in clear metadata, the workflow it belongs to when the SDK
says (its serialization context): so the codec server can audit which workflow a person
decrypted and refuse accounts scoped to other marketplaces, even for the Temporal UI,
which names only the namespace. Workflow ids carry no personal data, and the id is
authenticated with the ciphertext, so relabelling a payload to another workflow breaks
it. Payloads written before (without the field) still decrypt.
"""

from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
)

from crossdock.config import Settings
from crossdock.keys import codec_keys_text

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
WORKFLOW_ID = "crossdock-workflow-id"
NONCE_BYTES = 12


class CodecKeyError(ValueError):
    """Keys that cannot be used, or a payload no configured key can decrypt."""


class EncryptionCodec(PayloadCodec, WithSerializationContext):
    """AES-256-GCM over whole serialized payloads.

    Args:
        keys: (key id, 32-byte key) pairs, newest first; the first encrypts.
    """

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise CodecKeyError("at least one encryption key is needed")
        for key_id, key in keys:
            if len(key) != 32:
                raise CodecKeyError(f"key {key_id!r} is {len(key)} bytes; AES-256 needs 32")
        self._encrypt_id, newest = keys[0]
        self._encryptor = AESGCM(newest)
        self._decryptors = {key_id: AESGCM(key) for key_id, key in keys}
        self._workflow_id = ""

    def with_context(self, context: SerializationContext) -> EncryptionCodec:
        """This codec stamping the workflow the SDK is encoding for."""
        workflow_id = getattr(context, "workflow_id", None) or ""
        if workflow_id == self._workflow_id:
            return self
        stamped = copy.copy(self)
        stamped._workflow_id = workflow_id
        return stamped

    @classmethod
    def from_text(cls, text: str) -> EncryptionCodec:
        """Keys in the `CROSSDOCK_CODEC_KEYS` notation: `id:base64,id:base64`, newest first."""
        return cls(parse_keys(text))

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        associated = _associated(self._encrypt_id, self._workflow_id)
        sealed = self._encryptor.encrypt(nonce, payload.SerializeToString(), associated)
        metadata = {"encoding": ENCODING, KEY_ID: self._encrypt_id.encode()}
        if self._workflow_id:
            metadata[WORKFLOW_ID] = self._workflow_id.encode()
        return Payload(metadata=metadata, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written before encryption was on, or by a plain client
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        decryptor = self._decryptors.get(key_id)
        if decryptor is None:
            known = ", ".join(sorted(self._decryptors))
            raise CodecKeyError(
                f"payload was encrypted with key {key_id!r}, which is not configured "
                f"(known: {known}); add it back to CROSSDOCK_CODEC_KEYS"
            )
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        associated = _associated(key_id, workflow_of(payload))
        try:
            return Payload.FromString(decryptor.decrypt(nonce, sealed, associated))
        # Garbage (too short, not sealed by us, not a payload inside) is the caller's
        # error, never the server's: the codec server answers it with a 4xx.
        except (InvalidTag, ValueError, DecodeError):
            raise CodecKeyError(
                f"payload does not decrypt with key {key_id!r}: altered, or the key changed"
            ) from None


def workflow_of(payload: Payload) -> str:
    """The workflow an encrypted payload says it belongs to ("" for older payloads)."""
    return payload.metadata.get(WORKFLOW_ID, b"").decode(errors="replace")


def _associated(key_id: str, workflow_id: str) -> bytes:
    # The key id is authenticated too: a payload cannot be relabelled to another key (or,
    # when it names one, another workflow). Older payloads authenticated the key id alone.
    return key_id.encode() + (b"\n" + workflow_id.encode() if workflow_id else b"")


def parse_keys(text: str) -> list[tuple[str, bytes]]:
    """`id:base64,id:base64` into (id, key) pairs, naming what is wrong."""
    keys = []
    for position, item in enumerate(part.strip() for part in text.split(",") if part.strip()):
        key_id, sep, encoded = item.partition(":")
        if not sep or not key_id:
            raise CodecKeyError(f"codec key {position + 1} must read 'key-id:base64', got no id")
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise CodecKeyError(f"codec key {key_id!r} is not valid base64") from None
        keys.append((key_id, key))
    ids = [key_id for key_id, _ in keys]
    if len(set(ids)) != len(ids):
        raise CodecKeyError(f"codec key ids repeat: {ids}")
    return keys


def codec_for(settings: Settings) -> EncryptionCodec:
    """The codec for this deployment's keys (configured or generated)."""
    return EncryptionCodec.from_text(codec_keys_text(settings))


class StampingDataConverter(DataConverter):
    """The SDK's `DataConverter`, cheap to give a serialization context.

    Our codec is stamped with every workflow's id, so the SDK asks for a new converter
    for each workflow and activity it serializes for. The SDK's own `with_context`
    copies through `dataclasses.replace`, whose `__post_init__` builds a whole pydantic
    payload converter and failure converter only to throw them away (bench/README.md:
    about 4% of the worker's CPU). A shallow copy shares them instead; they hold no
    per-workflow state.
    """

    def with_context(self, context: SerializationContext) -> StampingDataConverter:
        parts = {
            "payload_converter": self.payload_converter,
            "payload_codec": self.payload_codec,
            "failure_converter": self.failure_converter,
            "external_storage": self.external_storage,
        }
        changed = {
            name: stamped
            for name, part in parts.items()
            if isinstance(part, WithSerializationContext)
            and (stamped := part.with_context(context)) is not part
        }
        if not changed:
            return self
        clone = copy.copy(self)
        for name, part in changed.items():
            object.__setattr__(clone, name, part)
        return clone


def data_converter(settings: Settings) -> DataConverter:
    """The pydantic converter, encrypting unless `CROSSDOCK_ENCRYPT_PAYLOADS=false`."""
    if not settings.encrypt_payloads:
        return pydantic_data_converter
    fields = {
        f.name: getattr(pydantic_data_converter, f.name)
        for f in dataclasses.fields(DataConverter)
        if f.init
    }
    return StampingDataConverter(**{**fields, "payload_codec": codec_for(settings)})
