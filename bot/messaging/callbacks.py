"""The one callback-data codec: what a button carries back when it is pressed.

Callback data is short and prefixed, its fields joined by ``:`` (``asp:act:<id>:<action>``, ``fb:<visit>:<aspect>:
<n>``, ``jnj:<id>:ok``). Buttons outlive a release in chats already in use, so the formats are pinned by tests.
A handler re-checks permission and state from the database, never from the button: the numbers it carries are
only ids and choices, and one out of range (forged, or from a keyboard of long ago) is refused as a stale button.
"""

from __future__ import annotations

#: A number on a button is a row id, a count of days or a choice; nothing the bot offers comes near this.
MAX_NUMBER = 2**31 - 1
#: Telegram's limit on callback data, in bytes.
MAX_BYTES = 64
SEPARATOR = ":"


def build(*fields: str | int) -> str:
    """Callback data from its fields: ``build("asp", "act", 12, "ok")`` is ``"asp:act:12:ok"``."""
    for field in fields:
        if isinstance(field, int) and not 0 <= field <= MAX_NUMBER:
            raise ValueError(f"a button number out of range: {field}")
    data = SEPARATOR.join(str(field) for field in fields)
    if len(data.encode("utf-8")) > MAX_BYTES:
        raise ValueError(f"callback data longer than {MAX_BYTES} bytes: {data!r}")
    return data


def fits(*fields: str | int) -> bool:
    """True if ``build(*fields)`` makes callback data (within Telegram's limit, numbers in range)."""
    try:
        build(*fields)
    except ValueError:
        return False
    return True


def fields(data: str | None) -> list[str]:
    """The fields of callback data, as text."""
    return (data or "").split(SEPARATOR)


def field(data: str | None, index: int) -> str:
    """Field ``index`` of callback data, as text; empty when the data has no such field."""
    parts = fields(data)
    return parts[index] if -len(parts) <= index < len(parts) else ""


def rest(data: str | None, index: int) -> str:
    """The fields of callback data from ``index`` on, joined again (a choice that may itself hold the separator)."""
    return SEPARATOR.join(fields(data)[index:])


def head(data: str | None, count: int) -> str:
    """The first ``count`` fields of callback data, joined again (a button's kind without its ids or choice)."""
    return SEPARATOR.join(fields(data)[:count])


def numbers_valid(data: str | None) -> bool:
    """False if a field looks like a number but is not one a button of ours carries: negative or signed, huge, or
    written with other digits than 0-9 (forged, or from a keyboard of long ago)."""
    for field in fields(data):
        body = field[1:] if field[:1] in "+-" else field
        if not body or not all(char.isdigit() for char in body):
            continue  # not a number: the handler's pattern decides
        if not (field.isascii() and field.isdigit() and int(field) <= MAX_NUMBER):
            return False
    return True


def number(data: str, index: int) -> int:
    """Field ``index`` as a number in 0..MAX_NUMBER; ValueError for anything else (the guards refuse such presses
    before a handler runs, see ``numbers_valid``)."""
    field = fields(data)[index]
    if not (field.isascii() and field.isdigit() and int(field) <= MAX_NUMBER):
        raise ValueError(f"not a button number: {field!r}")
    return int(field)
