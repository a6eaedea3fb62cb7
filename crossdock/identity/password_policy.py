"""What a console password must be: long, and not one attackers try first.

Length is what protects a password most (NIST SP 800-63B asks for a length floor and a
check against breached and common values, not for character classes). The shipped list
is crossdock/data/common_passwords.json; patterns catch what a list cannot hold: one
character repeated (`aaaaaaaaaaaa`), too few different characters, keyboard and digit
runs (`123456789012`, `qwertyuiopas`), a listed password padded with digits or symbols
(`Password123!`), and the account id itself.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

MIN_LENGTH = 12
# scrypt reads every byte; a megabyte "password" would be a cheap way to burn CPU.
MAX_LENGTH = 256
MIN_DISTINCT = 5
RUNS = ("abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm", "0123456789")


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common and breached passwords (lowercase)."""
    text = resources.files("crossdock").joinpath("data", "common_passwords.json").read_text()
    return frozenset(json.loads(text)["passwords"])


def password_problem(password: str, account_id: str = "") -> str:
    """Why `password` is not accepted; empty when it is."""
    if len(password) < MIN_LENGTH:
        return f"password has {len(password)} characters; use at least {MIN_LENGTH}"
    if len(password) > MAX_LENGTH:
        return f"password has {len(password)} characters; use at most {MAX_LENGTH}"
    lowered = password.lower()
    if len(set(lowered)) < MIN_DISTINCT:
        return f"password uses fewer than {MIN_DISTINCT} different characters"
    core = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", lowered)
    common = common_passwords()
    if lowered in common or core in common or re.sub(r"\s+", "", lowered) in common:
        return "password is on the list of common and breached passwords; choose another"
    if _is_run(lowered):
        return "password is a keyboard or alphabet sequence; choose another"
    if account_id and account_id.lower() in lowered:
        return "password contains the account id; choose another"
    return ""


def _is_run(text: str) -> bool:
    """A stretch of a keyboard row, the alphabet or digits, forwards or backwards,
    possibly repeated (`123456789012`)."""
    squeezed = re.sub(r"[\W_]", "", text)
    if len(squeezed) < MIN_LENGTH - 2:
        return False
    for run in RUNS:
        cycle = run * (len(squeezed) // len(run) + 2)
        if squeezed in cycle or squeezed in cycle[::-1]:
            return True
    return False
