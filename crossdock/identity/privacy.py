"""Who sees buyers' personal data, and what the others see instead.

Operators, finance and admins work on orders and need the buyer's name and address
(an address correction, a return label, a dispute's evidence); a viewer (reporting, a
support trainee, an auditor of timings) does not. The console's API, pages and CLI show
viewers every case with names, e-mails, phone numbers and street addresses masked, and
the codec server decrypts payloads only for the roles that see personal data.

Masking works on the JSON shape of an answer, so it holds for any model: a dict that
looks like a person or an address (it has an e-mail, a street line, a phone or a postal
code) has those fields and its `name` masked, and every string that repeats one of the
masked values (a review subject naming the buyer, a timeline note) has it masked too.
The country stays: it is what routing, customs and the lists filter on.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel

from crossdock.models.approval import Role

PERSONAL_DATA_ROLES = frozenset({Role.OPERATOR, Role.FINANCE, Role.ADMIN})
# Fields that make a dict a person or an address, and the ones masked in it.
MARKERS = frozenset({"email", "line1", "phone", "postal_code"})
PERSONAL = frozenset({"name", "email", "phone", "line1", "line2", "city", "region", "postal_code"})
MASK = "•••"
SHORTEST = 3  # shorter values would mask unrelated text ("DE", "7")
M = TypeVar("M", bound=BaseModel)


def sees_personal_data(role: Role) -> bool:
    """Whether `role` is shown buyers' names, contacts and addresses."""
    return role in PERSONAL_DATA_ROLES


def masked_value(value: str) -> str:
    """`Maria Rossi` → `M•••`, `maria@example.com` → `m•••@•••`: enough to tell two apart
    in a list, not enough to find the person."""
    if not value:
        return value
    if "@" in value:
        return f"{value[0]}{MASK}@{MASK}"
    return f"{value[0]}{MASK}"


def for_role(data: Any, role: Role) -> Any:
    """`data` (a JSON-shaped answer) as `role` may see it."""
    if sees_personal_data(role):
        return data
    found: set[str] = set()
    shaped = _mask_fields(data, found)
    if not found:
        return shaped
    pattern = re.compile("|".join(re.escape(v) for v in sorted(found, key=len, reverse=True)))
    return _mask_text(shaped, pattern)


def _mask_fields(data: Any, found: set[str]) -> Any:
    if isinstance(data, dict):
        personal = bool(MARKERS & data.keys())
        out = {}
        for key, value in data.items():
            if isinstance(value, str) and (key == "email" or (personal and key in PERSONAL)):
                if len(value) >= SHORTEST:
                    found.add(value)
                out[key] = masked_value(value)
            else:
                out[key] = _mask_fields(value, found)
        return out
    if isinstance(data, list):
        return [_mask_fields(item, found) for item in data]
    return data


def _mask_text(data: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(data, str):
        return pattern.sub(lambda m: masked_value(m.group(0)), data)
    if isinstance(data, dict):
        return {key: _mask_text(value, pattern) for key, value in data.items()}
    if isinstance(data, list):
        return [_mask_text(item, pattern) for item in data]
    return data


def shown_to(answer: M, role: Role) -> M:
    """A response model as `role` may see it (the same object when nothing is hidden)."""
    if sees_personal_data(role):
        return answer
    return type(answer).model_validate(for_role(answer.model_dump(mode="json"), role))


def all_shown_to(answers: list[M], role: Role) -> list[M]:
    """`shown_to` over a list; values masked in one item are masked in all of them."""
    if sees_personal_data(role):
        return answers
    dumped = for_role([a.model_dump(mode="json") for a in answers], role)
    return [type(a).model_validate(d) for a, d in zip(answers, dumped, strict=True)]
