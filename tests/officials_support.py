"""Helpers for the officials' end-to-end tests: people, quick submissions, cards and button presses."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.aspirations.service import Aspiration, Attachment, Draft
from bot.officials.service import BUTTON_LABELS
from bot.people import roster
from tests.fake_telegram import Call, FakeGroup, FakeUser
from tests.harness import BotHarness

LABEL = BUTTON_LABELS  # action -> button text
WIB = ZoneInfo("Asia/Jakarta")


async def at(h: BotHarness, month: int, day: int, hour: int, minute: int = 0) -> None:
    """Set the clock to a local (WIB) moment in 2026 and run what is due, as the JobQueue ticker would."""
    h.clock.set(datetime(2026, month, day, hour, minute, tzinfo=WIB))
    await h.tick()
    await h.settle()


def digest_texts(h: BotHarness, chat: int, marker: str) -> list[str]:
    """The texts the bot sent to ``chat`` that contain ``marker``."""
    return [t for t in h.server.texts(chat) if marker in t]


async def official(h: BotHarness, user_id: int, department: str, name: str = "Andi") -> FakeUser:
    user = h.user(user_id, name)
    await h.register(user, "pejabat", department=department)
    return user


async def leader(h: BotHarness, user_id: int = 70, title: str = "Bupati", name: str = "Pak Bupati") -> FakeUser:
    user = h.user(user_id, name)
    await h.register(user, "pimpinan", title=title)
    return user


async def inbox(h: BotHarness, by: FakeUser, chat_id: int, title: str, arg: str = "") -> FakeGroup:
    group = h.server.group(chat_id, title)
    mark = h.server.mark()
    by.send(f"/inbox {arg}".strip(), chat=group)
    await h.server.wait_for_text(group.id, "kotak masuk", since=mark)
    return group


async def submit(h: BotHarness, kades: FakeUser, category: str, description: str, *, photos: int = 0,
                 location: bool = False, documents: int = 0, key: str | None = None) -> Aspiration:
    """Submit as the kepala desa would after confirming the summary (the service the handler calls), so the
    submission hooks forward it through the real outbox to the fake Bot API."""
    person = await roster.get_person(h.svc.db, kades.id)
    assert person is not None
    attachments = [Attachment("photo", f"AgACphoto{kades.id}x{i}", f"u{kades.id}x{i}") for i in range(photos)]
    attachments += [Attachment("document", f"BQACdoc{kades.id}x{i}", f"d{kades.id}x{i}", f"surat{i}.pdf",
                               "application/pdf", 2048) for i in range(documents)]
    if location:
        attachments.append(Attachment("location", latitude=-7.8712, longitude=113.3021))
    draft = Draft(category=category, description=description, attachments=attachments)
    aspiration, _ = await h.svc.aspirations.submit(person, draft, key or f"{kades.id}:{draft.token}")
    return aspiration


def card(h: BotHarness, chat: int | FakeUser | FakeGroup, ticket: str) -> dict[str, Any]:
    """The current state of the newest aspiration card for ``ticket`` in a chat."""
    chat_id = chat if isinstance(chat, int) else chat.id
    pattern = re.compile(rf"Aspirasi {re.escape(ticket)}( — RAHASIA)?\nDari: ")
    for message in h.server.bot_messages(chat_id, newest_first=True):
        if pattern.search(message.get("text") or ""):
            return message
    raise AssertionError(f"no card for {ticket} in chat {chat_id}:\n{h.server.recent(chat_id)}")


def buttons(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


def data_of(message: dict[str, Any], label: str) -> str:
    markup = message.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []):
        for b in row:
            if b["text"] == label:
                return str(b["callback_data"])
    raise AssertionError(f"no button {label!r} in {buttons(message)}")


async def press_on(h: BotHarness, user: FakeUser, message: dict[str, Any], data: str) -> Call:
    """Press ``data`` on ``message`` and return Telegram's answerCallbackQuery call for it."""
    mark = h.server.mark()
    user.press(message, data)
    return await h.server.wait_for(
        lambda c: c.method == "answerCallbackQuery", chat_id=int(message["chat"]["id"]), since=mark,
        what="answerCallbackQuery")


async def press_card(h: BotHarness, user: FakeUser, chat: int | FakeUser | FakeGroup, ticket: str,
                     action: str) -> Call:
    message = card(h, chat, ticket)
    return await press_on(h, user, message, data_of(message, LABEL[action]))


async def refusals(h: BotHarness) -> list[str]:
    rows = await h.svc.db.fetchall("SELECT detail FROM audit_log WHERE action = 'refused' ORDER BY id")
    return [r["detail"] for r in rows]


async def status_of(h: BotHarness, ticket: str) -> str:
    return str(await h.svc.db.fetchval("SELECT status FROM aspirations WHERE ticket = ?", (ticket,)))


async def finish(h: BotHarness, user: FakeUser, chat: int | FakeUser | FakeGroup, ticket: str,
                 note: str = "Sudah kami perbaiki bersama warga.") -> Call:
    """Press "Selesai" on the card and type the result note it asks for (as a reply in a group)."""
    chat_id = chat if isinstance(chat, int) else chat.id
    mark = h.server.mark()
    await press_card(h, user, chat, ticket, "selesai")
    prompt = await h.server.wait_for_text(chat_id, "catatan hasil", since=mark)
    mark = h.server.mark()
    if chat_id < 0:
        user.reply(prompt, note)
    else:
        user.send(note)
    return await h.server.wait_for_text(chat_id, "dinyatakan selesai", since=mark)
