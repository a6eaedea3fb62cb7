"""Buyer messages in the buyer's language: the templates (data in
`crossdock/data/messages/`), the language chosen for a buyer, and rendering with Babel.

See docs/customer-service.md.
"""

from crossdock.messages.catalogue import (
    LANGUAGES,
    MessageText,
    amazon_action,
    english,
    missing_translations,
    template_text,
    term,
)
from crossdock.messages.language import babel_locale, language_for

__all__ = [
    "LANGUAGES",
    "MessageText",
    "amazon_action",
    "babel_locale",
    "english",
    "language_for",
    "missing_translations",
    "template_text",
    "term",
]
