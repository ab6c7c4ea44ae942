"""Every text a user reads is a Jinja2 template in ``messages/``, rendered as Telegram HTML.

Autoescape is always on, so a description containing ``<b>``, ``&`` or ``{{ x }}`` is shown literally; Jinja2's
numeric entities (&#39;) are valid Telegram HTML.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.core.dates import BULAN, HARI, format_tanggal
from bot.core.domain import category_label, status_label

_TZ = ZoneInfo("Asia/Jakarta")


#: Telegram's limit for one message, in UTF-16 code units.
LIMIT = 4096


def _local(value: datetime | str | None, tz: ZoneInfo | None = None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.astimezone(tz or _TZ)


def _local_date(value: date | datetime | str) -> date:
    """The local calendar day of a date, a datetime or their ISO text (a datetime is read in the local zone)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00")) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        local = _local(value)
        assert local is not None
        return local.date()
    return value


def tanggal(value: date | datetime | str | None) -> str:
    """'Senin, 12 Januari 2026'."""
    if value is None:
        return "-"
    return format_tanggal(_local_date(value))


def tanggal_pendek(value: date | datetime | str | None) -> str:
    """'12 Jan 2026'."""
    if value is None:
        return "-"
    day = _local_date(value)
    return f"{day.day} {BULAN[day.month - 1][:3]} {day.year}"


def waktu(value: datetime | str | None) -> str:
    """'12 Jan 2026 09.30 WIB'."""
    local = _local(value)
    if local is None:
        return "-"
    zone = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}.get(str(local.tzinfo), "")
    return f"{tanggal_pendek(local)} {local:%H.%M} {zone}".strip()


def hari(value: date) -> str:
    return HARI[value.weekday()]


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("messages", "."),
        autoescape=select_autoescape(enabled_extensions=("html", "j2", "html.j2"), default=True,
                                     default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        # Templates ship with the code and never change while the bot runs: without this, every render asked the
        # file system whether its template had changed (a stat per message part).
        auto_reload=False,
        # Every template stays compiled once used (there are over 400 messages; Jinja's default keeps 400 and
        # compiles an evicted one again, about a millisecond each, at its next use)
        cache_size=-1,
    )
    env.filters.update(
        tanggal=tanggal, tanggal_pendek=tanggal_pendek, waktu=waktu, hari=hari, kategori=category_label,
        status=status_label,
    )
    return env


def set_timezone(tz: ZoneInfo) -> None:
    """Dates are shown in the configured SAMBANG_TZ."""
    global _TZ
    _TZ = tz


def render(template: str, **context: Any) -> str:
    """Render ``messages/<feature>/<name>.html.j2`` for ``render("feature/name")``; blank lines collapse to at most
    one."""
    text = environment().get_template(f"{template}.html.j2").render(**context)
    lines = text.strip().split("\n")
    out: list[str] = []
    for line in lines:
        if not line.strip() and out and not out[-1].strip():
            continue
        out.append(line.rstrip())
    return "\n".join(out)


def u16len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units); an upper bound of the rendered text's length."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class Block:
    """A piece of a message that is never split: closed HTML. ``continued`` is the heading repeated at the top of
    the next message when a split falls inside the block's group."""

    text: str
    continued: str | None = None


_ATOM = re.compile(r"<[^>]*>|&#?\w+;|.", re.S)
_TAG = re.compile(r"<(/?)([a-zA-Z][\w-]*)[^>]*>")


def _pack(units: list[str], separator: str, limit: int, cut: Callable[[str, int], list[str]]) -> list[str]:
    """Join ``units`` with ``separator`` into pieces of at most ``limit``; a unit too long alone goes to ``cut``."""
    pieces: list[str] = []
    current: str | None = None
    for unit in units:
        if u16len(unit) > limit:
            if current is not None:
                pieces.append(current)
                current = None
            *whole, current = cut(unit, limit)  # what follows may still join the last piece
            pieces.extend(whole)
            continue
        candidate = unit if current is None else f"{current}{separator}{unit}"
        if u16len(candidate) <= limit:
            current = candidate
        else:
            if current is not None:
                pieces.append(current)
            current = unit
    if current is not None:
        pieces.append(current)
    return pieces


def _cut_atoms(text: str, limit: int) -> list[str]:
    """Anywhere, but never inside a tag or an entity."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for atom in _ATOM.findall(text):
        n = u16len(atom)
        if current and size + n > limit:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(atom)
        size += n
    if current:
        pieces.append("".join(current))
    return pieces


def _cut_words(text: str, limit: int) -> list[str]:
    return _pack(text.split(" "), " ", limit, _cut_atoms)


def _cut_lines(text: str, limit: int) -> list[str]:
    return _pack(text.split("\n"), "\n", limit, _cut_words)


def _cut_paragraphs(text: str, limit: int) -> list[str]:
    return _pack(text.split("\n\n"), "\n\n", limit, _cut_lines)


def _balance(pieces: list[str]) -> list[str]:
    """Close the tags still open at the end of each piece and open them again at the start of the next."""
    stack: list[tuple[str, str]] = []  # (name, opening tag) of the tags open so far
    out = []
    for piece in pieces:
        prefix = "".join(tag for _, tag in stack)
        for m in _TAG.finditer(piece):
            name = m.group(2).lower()
            if not m.group(1):
                stack.append((name, m.group()))
                continue
            for i in range(len(stack) - 1, -1, -1):
                if stack[i][0] == name:
                    del stack[i]
                    break
        out.append(prefix + piece + "".join(f"</{name}>" for name, _ in reversed(stack)))
    return out


def visible_len(text: str, *, html: bool = True) -> int:
    """Length as Telegram counts it once the HTML is parsed (tags gone, entities one character)."""
    return u16len(unescape(_TAG.sub("", text))) if html else u16len(text)


def _visible(text: str, html: bool) -> bool:
    return bool((_TAG.sub("", text) if html else text).strip())


def split_text(text: str, limit: int = LIMIT, *, html: bool = True) -> list[str]:
    """One text as messages of at most ``limit`` UTF-16 units: cut between paragraphs where it can, else between
    lines, else between words, else anywhere but inside a tag or an entity. In HTML, tags open at a cut are closed
    at its end and opened again in the next message, so each message is valid on its own."""
    if u16len(text) <= limit:
        return [text]
    budget = limit
    while True:
        raw = _cut_paragraphs(text, budget)
        pieces = _balance(raw) if html else raw
        pieces = [p.strip("\n") for p in pieces if _visible(p, html)]
        if all(u16len(p) <= limit for p in pieces) or budget <= limit // 4:
            return pieces
        budget -= max(64, limit // 16)  # the tags added at the cuts made a piece too long: cut smaller


def shorten(text: str, limit: int, pointer: str, *, html: bool = True) -> str:
    """``text`` if it fits in ``limit``, else as much of it as fits (cut like ``split_text``) and then ``pointer``
    (e.g. where the rest is) on a line of its own."""
    if visible_len(text, html=html) <= limit:
        return text
    return f"{split_text(text, limit - u16len(pointer) - 1, html=html)[0]}\n{pointer}"


def split_blocks(blocks: list[Block], limit: int = LIMIT, separator: str = "\n") -> list[str]:
    """Join blocks with ``separator`` into messages of at most ``limit`` UTF-16 units, splitting only between
    blocks. A block that alone is too long is cut as ``split_text`` cuts (between lines where it can)."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        pieces = [block.text] if u16len(block.text) <= limit else split_text(block.text, limit)
        for piece in pieces:
            candidate = f"{current}{separator}{piece}" if current else piece.lstrip("\n")
            if u16len(candidate) <= limit:
                current = candidate
                continue
            if current.strip():
                messages.append(current.strip("\n"))
            start = piece.lstrip("\n")
            if block.continued and u16len(block.continued) + 1 + u16len(start) <= limit:
                start = f"{block.continued}\n{start}"
            current = start
    if current.strip():
        messages.append(current.strip("\n"))
    return messages


def split_message(parts: list[str], limit: int = LIMIT, separator: str = "\n\n") -> list[str]:
    """Join rendered items into messages no longer than ``limit`` (as Telegram counts), splitting only between
    items; an item longer than the limit on its own is cut as ``split_text`` cuts."""
    return split_blocks([Block(part) for part in parts], limit, separator)
