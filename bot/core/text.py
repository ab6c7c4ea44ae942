"""The one text cleaner: what a person types, captions and names are kept without invisible characters."""

from __future__ import annotations

import re
import unicodedata

_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ZWJ = "\u200d"

MAX_CAPTION = 1000


def _pictographic(char: str) -> bool:
    """An emoji or a part of one (variation selector 16, skin tones, hair and other symbols)."""
    return char == "\ufe0f" or 0x1F000 <= ord(char) <= 0x1FAFF or unicodedata.category(char) == "So"


def _invisible(match: re.Match[str]) -> str:
    """Drop the character, except a zero-width joiner between two emoji: it makes "👨‍👩‍👧" one family."""
    text, at = match.string, match.start()
    if match.group() == _ZWJ and 0 < at < len(text) - 1 and _pictographic(text[at - 1]) \
            and _pictographic(text[at + 1]):
        return _ZWJ
    return ""


def clean_text(text: str) -> str:
    """Remove NUL, control, zero-width and direction-override characters; keep line breaks, normal text and the
    joiners inside emoji sequences."""
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub(_invisible, text)
    return text.strip()


def clean_line(text: str | None, limit: int) -> str:
    """``text`` cleaned and cut to ``limit`` characters; "" for None."""
    return clean_text(text or "")[:limit]


def clean_caption(text: str | None) -> str | None:
    """A photo or document caption as it is kept: cleaned, at most MAX_CAPTION characters, None when empty."""
    return clean_line(text, MAX_CAPTION) or None
