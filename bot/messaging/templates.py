"""Every text a user reads is a Jinja2 template in ``messages/``, rendered as Telegram HTML.

Autoescape is always on, so a description containing ``<b>``, ``&`` or ``{{ x }}`` is shown literally; Jinja2's
numeric entities (&#39;) are valid Telegram HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
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


def tanggal(value: date | datetime | str | None) -> str:
    """'Senin, 12 Januari 2026'."""
    if value is None:
        return "-"
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00")) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = _local(value)  # type: ignore[assignment]
        assert value is not None
        value = value.date()  # type: ignore[assignment]
    return format_tanggal(value)


def tanggal_pendek(value: date | datetime | str | None) -> str:
    """'12 Jan 2026'."""
    if value is None:
        return "-"
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00")) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        local = _local(value)
        assert local is not None
        value = local.date()
    return f"{value.day} {BULAN[value.month - 1][:3]} {value.year}"


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
    """Render ``messages/<template>.html.j2``; blank lines collapse to at most one."""
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


def split_blocks(blocks: list[Block], limit: int = LIMIT, separator: str = "\n") -> list[str]:
    """Join blocks with ``separator`` into messages of at most ``limit`` UTF-16 units, splitting only between
    blocks. A block that alone is too long is cut between its lines (each line is closed HTML)."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        pieces = [block.text]
        if u16len(block.text) > limit:
            pieces, buf = [], ""
            for line in block.text.split("\n"):
                while u16len(line) > limit:  # a single overlong line: plain text is assumed here
                    pieces.append(line[: limit // 2])
                    line = line[limit // 2:]
                if buf and u16len(buf) + 1 + u16len(line) > limit:
                    pieces.append(buf)
                    buf = line
                else:
                    buf = f"{buf}\n{line}" if buf else line
            if buf:
                pieces.append(buf)
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
    items; an item longer than the limit on its own is cut at a line boundary (each line being closed HTML)."""
    return split_blocks([Block(part) for part in parts], limit, separator)
