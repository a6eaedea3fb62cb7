"""The process's secrets: from settings when configured, otherwise generated once.

On one machine (`make run`, a developer's shell) every process must agree on the payload
encryption keys, the principal signing key and the buyer key without anyone typing them:
the first process to need one writes it to `{state_dir}/keys/{name}` (mode 0600) and the
others read it. Past one machine, configure them (`CROSSDOCK_CODEC_KEYS`,
`CROSSDOCK_PRINCIPAL_KEY`, `CROSSDOCK_BUYER_KEY`) from a secret store; a generated file
is then never used.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from crossdock.config import Settings

CODEC_KEYS = "codec-keys"
PRINCIPAL_KEY = "principal-key"
BUYER_KEY = "buyer-key"
KEY_BYTES = 32


def new_codec_key(key_id: str) -> str:
    """A fresh AES-256 key in the `CROSSDOCK_CODEC_KEYS` notation: `key-id:base64`."""
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"


def codec_keys_text(settings: Settings) -> str:
    """`CROSSDOCK_CODEC_KEYS`, or the generated key file (one key, id `k1`)."""
    if settings.codec_keys is not None:
        return settings.codec_keys.get_secret_value()
    return load_or_create(settings.state_dir / "keys" / CODEC_KEYS, lambda: new_codec_key("k1"))


def principal_key(settings: Settings) -> bytes:
    """The HMAC key for principal claims: configured, or generated into the state dir."""
    if settings.principal_key is not None:
        text = settings.principal_key.get_secret_value()
    else:
        path = settings.state_dir / "keys" / PRINCIPAL_KEY
        text = load_or_create(path, lambda: secrets.token_urlsafe(KEY_BYTES))
    if len(text) < 16:
        raise ValueError(
            f"CROSSDOCK_PRINCIPAL_KEY is {len(text)} characters; use at least 16 random ones"
        )
    return text.encode()


def buyer_key(settings: Settings) -> bytes:
    """The HMAC key of pseudonymous buyer keys: configured, or generated into the state dir.

    Changing it starts every buyer's history afresh (old keys no longer match).
    """
    if settings.buyer_key is not None:
        text = settings.buyer_key.get_secret_value()
    else:
        path = settings.state_dir / "keys" / BUYER_KEY
        text = load_or_create(path, lambda: secrets.token_urlsafe(KEY_BYTES))
    if len(text) < 16:
        raise ValueError(
            f"CROSSDOCK_BUYER_KEY is {len(text)} characters; use at least 16 random ones"
        )
    return text.encode()


def load_or_create(path: Path, make: Callable[[], str]) -> str:
    """The secret in `path`; created by `make()` first if missing.

    Two processes starting at once both see the same secret: each writes its own
    temporary file and hard-links it into place, and only the first link wins.
    """
    with contextlib.suppress(FileNotFoundError):
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(make() + "\n")
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass  # another process won the race: use its secret
    finally:
        temporary.unlink()
    return path.read_text().strip()
