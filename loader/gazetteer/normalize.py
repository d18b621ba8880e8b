"""The lookup key of a name or code, so that spelling variants of one name meet.

Two texts name the same thing when they differ only in case, accents, punctuation, spacing or a
leading "the": "the Netherlands" and "NETHERLANDS", "Côte d'Ivoire" and "Cote dIvoire", "U.S."
and "US" all have one key.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["lookup_key"]

# Dropped without a trace, so that "U.S." meets "US" and "People's" meets "Peoples".
_SILENT = re.compile(r"[.'\u2019\u02bc`]")
_SEPARATORS = re.compile(r"[^0-9a-z]+")


def lookup_key(text: str) -> str:
    """The key of ``text``: ASCII lower case words, one space apart, without a leading "the"."""
    decomposed = unicodedata.normalize("NFKD", text.replace("&", " and "))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
    words = _SEPARATORS.sub(" ", _SILENT.sub("", bare)).split()
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return " ".join(words)
