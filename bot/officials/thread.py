"""The thread of an aspiration: what its kepala desa and the departments handling it write to each other.

- The official's side is written by ``OfficialsService.act`` (a Balas, a "Minta info" question) and reaches the
  kepala desa through the outbox (``asp:<id>:kades``).
- The village's side comes from here: a Telegram reply to any message about the aspiration (a Balas, a question, a
  status change, the receipt, a /status detail) or "✉️ Kirim pesan" — text, photo, voice note or document, kept by
  its Telegram ``file_id``. It is stored with a history entry and delivered, through the outbox, to the officials
  of the departments responsible now and their inbox groups (as a reply to their card), in one transaction; an
  answer to a "Minta info" starts the service-level clock again.
- Who reads it: ``audience.sees_thread`` (bot/aspirations/audience.py); ``read`` is the one read path (/status,
  /tangani, the dashboard).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.aspirations import audience
from bot.aspirations.service import Aspiration, HistoryEntry
from bot.core.clock import Clock, from_iso, to_iso
from bot.core.domain import NotFound
from bot.core.text import clean_text
from bot.core.wording import plain
from bot.media import queue as media_queue
from bot.media.queue import MediaRef
from bot.messaging import outbox
from bot.messaging.templates import render
from bot.officials.service import HISTORY_LABELS, MAX_TEXT, THREAD_HISTORY, InvalidText, OfficialsService, Outcome
from bot.people.roster import Person
from bot.storage.database import Database, Transaction

#: What a kepala desa may send into a thread.
KINDS = ("text", "photo", "voice", "document")
#: The Bot API method that sends each kind of file again, by its file_id.
_METHODS = {"photo": "sendPhoto", "voice": "sendVoice", "document": "sendDocument"}


@dataclass(frozen=True)
class Incoming:
    """A message a kepala desa sent: its text (or caption) and, for a file, what Telegram says about it."""

    kind: str  # text | photo | voice | document
    text: str | None = None
    file_id: str | None = None
    file_unique_id: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None
    duration: int | None = None


@dataclass(frozen=True)
class ThreadMessage:
    id: int
    at: str
    side: str  # desa | opd
    purpose: str  # pesan | balas | minta_info | jawab_info
    kind: str
    text: str | None
    file_id: str | None
    file_name: str | None
    duration: int | None
    #: The official's name and unit, or the kepala desa's name.
    author: str | None


class ThreadService:
    def __init__(self, db: Database, clock: Clock, officials: OfficialsService) -> None:
        self.db = db
        self.clock = clock
        self.officials = officials
        self.aspirations = officials.aspirations

    # -- which aspiration a message is about -------------------------------------------------------------------

    async def remember(self, chat_id: int, message_id: int, aspiration_id: int) -> None:
        """A message sent straight to a person (not through the outbox) is about this aspiration."""
        await self.db.execute(
            "INSERT INTO aspiration_message_refs(chat_id, message_id, aspiration_id) VALUES (?, ?, ?)"
            " ON CONFLICT(chat_id, message_id) DO UPDATE SET aspiration_id = excluded.aspiration_id",
            (chat_id, message_id, aspiration_id))

    async def aspiration_for_reply(self, chat_id: int, message_id: int) -> int | None:
        """The aspiration a message the bot sent to a kepala desa is about, for their Telegram replies."""
        ref = await self.db.fetchval(
            "SELECT ref FROM outbox WHERE chat_id = ? AND message_id = ? AND ref LIKE 'asp:%:kades'"
            " ORDER BY id DESC LIMIT 1", (chat_id, message_id))
        if ref:
            part = str(ref).split(":")[1]
            return int(part) if part.isdigit() else None
        found = await self.db.fetchval(
            "SELECT aspiration_id FROM aspiration_message_refs WHERE chat_id = ? AND message_id = ?",
            (chat_id, message_id))
        return int(found) if found is not None else None

    # -- the village writes ------------------------------------------------------------------------------------

    async def post_from_village(self, person: Person | None, aspiration_id: int, message: Incoming, *,
                                pending_of: tuple[int, int] | None = None) -> Outcome:
        """Store what the kepala desa sent and deliver it to everyone handling the aspiration now."""
        text = _checked_text(message, KINDS, "Pesan")
        now = self.clock.now()
        stamp = to_iso(now)
        async with self.db.transaction() as tx:
            aspiration = await self.aspirations.get_in(tx, aspiration_id)
            kades = self.officials.check_village_writer(person, aspiration)
            resumed = await self.officials.resume_service_level(tx, aspiration_id, now)
            purpose = "jawab_info" if resumed is not None else "pesan"
            message_id = await _store(tx, aspiration_id, stamp, kades.id, "desa", purpose, message, text)
            await tx.execute(
                "INSERT INTO aspiration_history(aspiration_id, at, actor_id, action, from_status, to_status, note)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (aspiration_id, stamp, kades.id, HISTORY_LABELS[purpose], aspiration.status, aspiration.status,
                 _summary(message.kind, text)))
            await tx.execute("UPDATE aspirations SET updated_at = ? WHERE id = ?", (stamp, aspiration_id))
            if pending_of is not None:
                await tx.execute("DELETE FROM pending_inputs WHERE telegram_id = ? AND chat_id = ?", pending_of)
            await self._deliver(tx, aspiration, kades, message, text, purpose, f"m{message_id}", now)
            if resumed is not None:
                await self.officials.refresh_cards(tx, aspiration, now, f"m{message_id}")
            handled_by = await self.officials.departments.label_for(aspiration)
        return Outcome(aspiration, "pesan", render("officials/officials_done", action="pesan", a=aspiration,
                                                   target=handled_by))

    async def post_from_department(self, person: Person | None, aspiration_id: int, message: Incoming) -> Outcome:
        """An official's Balas with a photo, voice note or document (a reply in their private chat): stored like a
        typed Balas and sent to the kepala desa, who can reply to it in turn."""
        text = _checked_text(message, tuple(_METHODS), "Balasan")
        now = self.clock.now()
        stamp = to_iso(now)
        async with self.db.transaction() as tx:
            aspiration = await self.aspirations.get_in(tx, aspiration_id)
            self.officials.check_actor(person, aspiration)
            assert person is not None
            _, _, hid = await self.aspirations.transition(
                tx, aspiration_id, action="balas", actor_id=person.id, now=now, note=_summary(message.kind, text),
                history_action=HISTORY_LABELS["balas"])
            await tx.execute(
                "UPDATE aspiration_sla SET accepted_at = COALESCE(accepted_at, ?), responded_at ="
                " COALESCE(responded_at, ?) WHERE aspiration_id = ?", (stamp, stamp, aspiration_id))
            await _store(tx, aspiration_id, stamp, person.id, "opd", "balas", message, text)
            if aspiration.submitter_telegram_id is not None:
                chat_id = aspiration.submitter_telegram_id
                caption = render("officials/officials_thread_reply", a=aspiration,
                                 unit=await self.officials.unit_label(person), kind=message.kind, text=text,
                                 duration=message.duration)
                await outbox.enqueue(tx, chat_id, _METHODS[message.kind], {
                    "chat_id": chat_id, message.kind: message.file_id, "caption": caption, "parse_mode": "HTML"},
                    now=now, ref=f"asp:{aspiration_id}:kades", dedup_key=f"asp:{aspiration_id}:h{hid}:kades")
            await self.officials.audit(tx, person.telegram_id, "asp:balas", aspiration.ticket)
            current = await self.aspirations.get_in(tx, aspiration_id)
            await self.officials.refresh_cards(tx, current, now, f"h{hid}")
        return Outcome(current, "balas", render("officials/officials_done", action="balas", a=current, target=None))

    async def _deliver(self, tx: Transaction, aspiration: Aspiration, kades: Person, message: Incoming,
                       text: str | None, purpose: str, key: str, now: datetime) -> None:
        chats = await self.officials.recipients(tx, aspiration)
        for chat_id in chats:
            values = dict(a=aspiration, author=kades.name, kind=message.kind, text=text, purpose=purpose,
                          duration=message.duration, file_name=message.file_name)
            params: dict[str, object] = {"chat_id": chat_id, "parse_mode": "HTML"}
            card = await self.officials.card_message(tx, aspiration.id, chat_id)
            if card is not None:
                params["reply_parameters"] = {"message_id": card, "allow_sending_without_reply": True}
            if message.kind == "text":
                method = "sendMessage"
                params["text"] = render("officials/officials_thread_message", limit=MAX_TEXT, **values)
                params["link_preview_options"] = {"is_disabled": True}
            else:
                method = _METHODS[message.kind]
                params[message.kind] = message.file_id
                # the caption must fit Telegram's 1,024 characters with the heading around the text
                params["caption"] = render("officials/officials_thread_message", limit=700, **values)
            await outbox.enqueue(tx, chat_id, method, params, now=now, ref=f"asp:{aspiration.id}:thread",
                                 dedup_key=f"asp:{aspiration.id}:{key}:thread:{chat_id}")

    # -- reading -----------------------------------------------------------------------------------------------

    async def read(self, person: Person, aspiration: Aspiration) -> list[ThreadMessage]:
        """The thread, oldest first, for a person allowed to read it (NotFound otherwise, like a missing ticket)."""
        if not audience.of(person).sees_thread(aspiration):
            raise NotFound("aspirations/aspirasi_tidak_ditemukan_bukan", ticket=aspiration.ticket)
        return await self.messages(aspiration.id)

    async def visible(self, person: Person, aspiration: Aspiration) -> list[ThreadMessage] | None:
        """The thread when ``person`` may read it, else None (a page or a card then shows none)."""
        if not audience.of(person).sees_thread(aspiration):
            return None
        return await self.messages(aspiration.id)

    async def messages(self, aspiration_id: int) -> list[ThreadMessage]:
        rows = await self.db.fetchall(
            "SELECT m.*, p.name AS author_name FROM aspiration_messages m LEFT JOIN people p ON p.id = m.author_id"
            " WHERE m.aspiration_id = ? ORDER BY m.id", (aspiration_id,))
        return [ThreadMessage(r["id"], r["at"], r["side"], r["purpose"], r["kind"], r["text"], r["file_id"],
                              r["file_name"], r["duration"], r["author_name"]) for r in rows]

    async def history(self, person: Person, aspiration: Aspiration) -> list[HistoryEntry]:
        """The history as /status shows it: the thread's entries (replies, questions, answers) are left out, as
        the thread is shown on its own to those who may read it."""
        return [h for h in await self.aspirations.history(aspiration.id) if h.action not in THREAD_HISTORY]

    async def waiting_on_village(self, aspiration_id: int) -> str | None:
        """Since when a department waits for the village's answer ("Minta info"), or None."""
        value = await self.db.fetchval("SELECT info_requested_at FROM aspiration_sla WHERE aspiration_id = ?",
                                       (aspiration_id,))
        return str(value) if value else None


def _checked_text(message: Incoming, kinds: tuple[str, ...], what: str) -> str | None:
    """The message's text (or caption), cleaned; InvalidText for another kind, an empty text or a too long one."""
    if message.kind not in kinds or (message.kind != "text" and not message.file_id):
        raise InvalidText("officials/pesan_jenis_tidak_didukung")
    text = clean_text(message.text or "") or None
    if message.kind == "text" and not text:
        raise InvalidText("officials/terlalu_pendek_tuliskan_minimal", what=what, min_text=1)
    if text and len(text) > MAX_TEXT:
        raise InvalidText("officials/terlalu_panjang_karakter_batasnya", what=what, length=len(text),
                          max_text=MAX_TEXT)
    return text


async def _store(tx: Transaction, aspiration_id: int, stamp: str, author_id: int, side: str, purpose: str,
                 message: Incoming, text: str | None) -> int:
    """The message in the thread; its file, if any, queued for the media archive in the same transaction."""
    if message.file_id and message.file_unique_id:
        await media_queue.enqueue(tx, [MediaRef(message.kind, message.file_id, message.file_unique_id,
                                                message.file_name, message.mime_type)],
                                  owner=f"asp:{aspiration_id}:thread", now=from_iso(stamp))
    return await tx.execute(
        "INSERT INTO aspiration_messages(aspiration_id, at, author_id, side, purpose, kind, text, file_id,"
        " file_unique_id, file_name, mime_type, file_size, duration) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (aspiration_id, stamp, author_id, side, purpose, message.kind, text, message.file_id,
         message.file_unique_id, message.file_name, message.mime_type, message.file_size, message.duration))


def _summary(kind: str, text: str | None) -> str:
    """The history note of a thread message: "[foto] its caption", the text, …"""
    return plain("officials/history_thread_note", kind=kind, text=text)
