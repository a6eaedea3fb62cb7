"""Pseudonymous buyer keys: stable per buyer and channel, never the e-mail itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from crossdock.buyers import buyer_identity, buyer_key
from crossdock.config import Settings
from crossdock.keys import buyer_key as buyer_key_secret
from crossdock.models.order import Buyer, Channel

SECRET = b"0123456789abcdef0123456789abcdef"


def test_the_same_buyer_gets_the_same_key_whatever_the_e_mail_case() -> None:
    one = buyer_key(SECRET, Channel.EBAY, Buyer(name="Demo buyer 1", email="Buyer-1@Example.com"))
    two = buyer_key(SECRET, Channel.EBAY, Buyer(name="other name", email=" buyer-1@example.com "))
    assert one == two
    assert len(one) == 64 and "example" not in one


def test_channels_and_secrets_keep_keys_apart() -> None:
    buyer = Buyer(name="Demo buyer 1", email="buyer-1@example.com")
    ebay = buyer_key(SECRET, Channel.EBAY, buyer)
    assert ebay != buyer_key(SECRET, Channel.STOREFRONT, buyer)
    assert ebay != buyer_key(SECRET[::-1], Channel.EBAY, buyer)


def test_the_name_identifies_a_buyer_without_e_mail() -> None:
    assert buyer_identity(Buyer(name="  Demo   Buyer 7 ")) == "name:demo buyer 7"
    named = buyer_key(SECRET, Channel.AMAZON, Buyer(name="Demo Buyer 7"))
    assert named == buyer_key(SECRET, Channel.AMAZON, Buyer(name="demo  buyer 7"))
    # A name never collides with an e-mail that spells it (built unvalidated: the contract
    # now refuses such an e-mail, the key must still keep the two apart).
    spelled = Buyer.model_construct(name="x", email="demo buyer 7")
    assert named != buyer_key(SECRET, Channel.AMAZON, spelled)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="3 bytes; use at least 16"):
        buyer_key(b"abc", Channel.EBAY, Buyer(name="Demo buyer 1"))


def test_the_secret_is_generated_once_into_the_state_dir(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, _env_file=None)
    first = buyer_key_secret(settings)
    assert buyer_key_secret(settings) == first
    assert (tmp_path / "keys" / "buyer-key").stat().st_mode & 0o777 == 0o600
    configured = Settings(state_dir=tmp_path, buyer_key=SecretStr("k" * 20), _env_file=None)
    assert buyer_key_secret(configured) == b"k" * 20
    with pytest.raises(ValueError, match="CROSSDOCK_BUYER_KEY is 5 characters"):
        buyer_key_secret(Settings(state_dir=tmp_path, buyer_key=SecretStr("short"), _env_file=None))
