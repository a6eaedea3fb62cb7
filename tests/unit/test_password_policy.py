"""Console passwords: long enough, not on the shipped list of common and breached ones
(padded or not), not a run of one character or a keyboard sequence, not the account id."""

from __future__ import annotations

import pytest

from crossdock.identity.password_policy import common_passwords, password_problem


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short1!", "at least 12"),
        ("x" * 300, "at most 256"),
        ("aaaaaaaaaaaa", "different characters"),
        ("abababababab", "different characters"),
        ("Password123!", "common and breached"),
        ("P@ssw0rd2024!", "common and breached"),
        ("iloveyou1234", "common and breached"),
        ("123456789012", "sequence"),
        ("qwertyuiopas", "sequence"),
        ("zyxwvutsrqpo", "sequence"),
        ("ops-7 the operator", "account id"),
    ],
)
def test_weak_passwords_are_refused_saying_why(password: str, why: str) -> None:
    assert why in password_problem(password, "ops-7")


@pytest.mark.parametrize(
    "password", ["correct horse battery", "Tr0ub4dor&3xyz", "密码是一只很蓝很蓝的猫咪呀"]
)
def test_long_uncommon_passwords_pass(password: str) -> None:
    assert password_problem(password, "ops-7") == ""


def test_the_shipped_list_is_lowercase_and_long_enough() -> None:
    listed = common_passwords()
    assert len(listed) > 150
    assert all(p == p.lower() for p in listed)
