"""The AES-GCM payload codec: round trips, rotation, and errors that name the problem."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload

from crossdock.codec import ENCODING, KEY_ID, CodecKeyError, EncryptionCodec, codec_for
from crossdock.config import Settings
from crossdock.keys import new_codec_key

OLD = new_codec_key("k1")
NEW = new_codec_key("k2")


def payload(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text.encode())


async def test_round_trip_hides_the_data_and_names_the_key() -> None:
    codec = EncryptionCodec.from_text(OLD)
    original = payload('{"buyer": "Ottilie Quillfeather"}')
    [sealed] = await codec.encode([original])
    assert sealed.metadata["encoding"] == ENCODING and sealed.metadata[KEY_ID] == b"k1"
    assert b"Quillfeather" not in sealed.SerializeToString()
    assert await codec.decode([sealed]) == [original]


async def test_rotation_encrypts_with_the_newest_and_decrypts_with_any() -> None:
    [old_sealed] = await EncryptionCodec.from_text(OLD).encode([payload("old")])
    rotated = EncryptionCodec.from_text(f"{NEW},{OLD}")
    [new_sealed] = await rotated.encode([payload("new")])
    assert new_sealed.metadata[KEY_ID] == b"k2"
    assert [p.data for p in await rotated.decode([old_sealed, new_sealed])] == [b"old", b"new"]


async def test_payload_of_a_dropped_key_is_refused_by_name() -> None:
    [sealed] = await EncryptionCodec.from_text(OLD).encode([payload("x")])
    with pytest.raises(CodecKeyError, match=r"key 'k1', which is not configured \(known: k2\)"):
        await EncryptionCodec.from_text(NEW).decode([sealed])


async def test_altered_payload_or_relabelled_key_is_refused() -> None:
    codec = EncryptionCodec.from_text(f"{NEW},{OLD}")
    [sealed] = await codec.encode([payload("amount 1800")])
    flipped = Payload(
        metadata=sealed.metadata, data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    )
    with pytest.raises(CodecKeyError, match="does not decrypt with key 'k2'"):
        await codec.decode([flipped])
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID: b"k1"}, data=sealed.data)
    with pytest.raises(CodecKeyError, match="does not decrypt with key 'k1'"):
        await codec.decode([relabelled])


async def test_plain_payloads_pass_through_decode() -> None:
    # Histories from before encryption was turned on still read.
    plain = payload('"before"')
    assert await EncryptionCodec.from_text(OLD).decode([plain]) == [plain]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "at least one encryption key"),
        ("nokey", "must read 'key-id:base64'"),
        ("k1:not base64!", "'k1' is not valid base64"),
        (f"k1:{base64.b64encode(b'short').decode()}", "'k1' is 5 bytes; AES-256 needs 32"),
        (f"{OLD},{OLD}", r"ids repeat: \['k1', 'k1'\]"),
    ],
)
def test_bad_keys_are_named(text: str, message: str) -> None:
    with pytest.raises(CodecKeyError, match=message):
        EncryptionCodec.from_text(text)


async def test_generated_key_is_shared_by_every_process_of_a_state_dir(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, _env_file=None)
    [sealed] = await codec_for(settings).encode([payload("x")])
    assert (tmp_path / "keys" / "codec-keys").stat().st_mode & 0o777 == 0o600
    # Another process (a new codec from the same settings) reads the same key.
    assert (await codec_for(Settings(state_dir=tmp_path, _env_file=None)).decode([sealed]))[
        0
    ].data == b"x"


def test_configured_keys_win_over_the_state_dir(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, codec_keys=SecretStr(NEW), _env_file=None)
    codec_for(settings)
    assert not (tmp_path / "keys").exists()


def test_make_run_points_the_temporal_ui_at_the_codec_endpoint(tmp_path: Path) -> None:
    from crossdock.runner import temporal_command

    settings = Settings(state_dir=tmp_path, console_port=8123, _env_file=None)
    command = temporal_command(settings)
    assert command[command.index("--ui-codec-endpoint") + 1] == "http://127.0.0.1:8123/codec"
    plain = Settings(state_dir=tmp_path, encrypt_payloads=False, _env_file=None)
    assert "--ui-codec-endpoint" not in temporal_command(plain)


def test_processes_starting_at_once_generate_one_key(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from crossdock.keys import codec_keys_text

    settings = Settings(state_dir=tmp_path, _env_file=None)
    with ThreadPoolExecutor(max_workers=8) as pool:
        seen = set(pool.map(lambda _: codec_keys_text(settings), range(16)))
    assert len(seen) == 1
    assert [p.name for p in (tmp_path / "keys").iterdir()] == ["codec-keys"]  # no leftovers
