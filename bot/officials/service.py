"""What officials do with an aspiration, and what everyone hears about it.

- On submission (a submit hook, inside the submission transaction) the aspiration is routed to its departments and
  forwarded at once, through the outbox, to their officials and inbox groups: photos, documents and location first,
  then a card with the action buttons (Terima, Proses, Selesai, Balas, Alihkan, Tolak, Tidak dapat ditindaklanjuti).
- Every action re-checks the caller and the aspiration's current status inside one transaction that also writes
  the history entry, the notification to the kepala desa and the edits of every card already sent.
- Service levels in working days: overdue aspirations are escalated to leadership once; after "Selesai" the
  kepala desa confirms (or reopens with a comment), and silence closes it after the configured working days.

No ``telegram`` imports: handlers call these methods; messages are outbox rows rendered from ``messages/``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

from bot.aspirations import audience as audiences
from bot.aspirations.service import Aspiration, AspirationService, Attachment, check_transition, normalise_ticket
from bot.core.clock import Clock, from_iso, to_iso
from bot.core.domain import CLOSED_STATUSES, DomainError, NotAllowed, NotFound, Role, Status
from bot.core.text import clean_text
from bot.core.wording import phrases, plain
from bot.core.workdays import add_working_days, is_working_day, working_days_between
from bot.messaging import callbacks, limits, outbox
from bot.messaging.templates import Block, render, split_blocks, tanggal_pendek
from bot.officials.departments import (
    AUDIENCE_ADMINS,
    AUDIENCE_DEPARTMENTS,
    AUDIENCE_LEADERSHIP,
    DepartmentService,
    normalise_code,
)
from bot.people.roster import Person, person_from_row
from bot.storage import audit, jobs
from bot.storage.database import Database, Transaction
from bot.storage.jobs import claim

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

#: Actions officials take with a button; the ones in NEEDS_TEXT ask for a reason or a reply first.
OFFICIAL_ACTIONS = ("terima", "proses", "selesai", "balas", "alihkan", "tolak", "tdt", "lepas", "info", "duplikat")
#: Asked for by the buttons; "selesai" asks for a short result note (optionally with a photo), which the service
#: also accepts without (a call from the command line or a test).
NEEDS_TEXT = frozenset({"tolak", "tdt", "balas", "alihkan", "buka_kembali", "selesai", "lepas", "info", "duplikat",
                        "pesan"})
_BUTTONS = phrases("officials/buttons")
BUTTON_LABELS = {action: _BUTTONS[action] for action in OFFICIAL_ACTIONS}
CONFIRM_YES = _BUTTONS["confirm_yes"]
CONFIRM_NO = _BUTTONS["confirm_no"]
#: Under a Balas or a question to the kepala desa (and in /status): write to the departments.
WRITE_BUTTON = _BUTTONS["write"]
#: What the typed text of each prompt is called in a refusal ("Balasan terlalu pendek").
_TEXT_KINDS = phrases("officials/text_kinds")
#: How the history (and /status) names each step.
HISTORY_LABELS = {
    "terima": "diterima",
    "proses": "diproses",
    "selesai": "dinyatakan selesai",
    "tolak": "ditolak",
    "tdt": "tidak dapat ditindaklanjuti",
    "balas": "dibalas",
    "alihkan": "dialihkan",
    "konfirmasi": "dikonfirmasi tuntas",
    "buka_kembali": "dibuka kembali",
    "tutup_otomatis": "ditutup otomatis (desa tidak menjawab)",
    "eskalasi": "eskalasi ke pimpinan",
    "lepas": "dinyatakan bukan kewenangan",
    "info": "minta info dari desa",
    "duplikat": "digabung sebagai duplikat",
    "pesan": "pesan dari desa",
    "jawab_info": "info dari desa diterima",
}
#: History entries that belong to the thread (their notes are shown only to those who see the thread).
THREAD_HISTORY = frozenset({HISTORY_LABELS["balas"], HISTORY_LABELS["info"], HISTORY_LABELS["pesan"],
                            HISTORY_LABELS["jawab_info"]})
#: Changes of a main aspiration that the kepala desa of its duplicates hear about too.
FOLLOWED_ACTIONS = frozenset({"terima", "proses", "selesai", "tolak", "tdt", "alihkan", "tutup_otomatis"})
#: Typed decisions that change the status: re-checked against what others did while the text was written.
_DECISIONS = frozenset({"tolak", "tdt", "alihkan", "selesai"})
PENDING_TTL = timedelta(hours=2)
#: The consolidated escalation: once a day, one message to leadership (grouped by department) and one to each
#: department, listing the escalations made since the previous one (job_runs: job, local date).
ESCALATION_JOB = "escalation:summary"
_ESCALATION_SEEN = "escalation_summary:last_history_id"
MIN_TEXT = 5
MAX_TEXT = 1500
_OFFICIAL_ROLES = (Role.PEJABAT, Role.PIMPINAN, Role.ADMIN)


class InvalidText(DomainError):
    """The reason or reply typed is unusable; the prompt stays open so the user can write it again."""


@dataclass(frozen=True)
class Outcome:
    aspiration: Aspiration
    action: str
    #: A short confirmation for the person who acted (Indonesian).
    message: str


@dataclass(frozen=True)
class PendingInput:
    telegram_id: int
    chat_id: int
    kind: str
    aspiration_id: int
    target: str | None
    ticket: str
    #: The aspiration's newest history entry when the prompt was opened (None: unknown, an older prompt): a status
    #: changed by someone else after it is not overridden unseen.
    seen_history_id: int | None = None


@dataclass(frozen=True)
class Sla:
    audience: str
    accept_due: str
    respond_due: str
    accepted_at: str | None
    responded_at: str | None
    confirm_due: str | None
    #: Since when the department waits for information from the village ("Minta info"): the clock stands still.
    info_requested_at: str | None = None

    @property
    def waiting_on_village(self) -> bool:
        return self.info_requested_at is not None

    def overdue(self, status: str, today: str) -> list[str]:
        """What is late today: 'terima' (not accepted or redirected in time) and/or 'tanggapan'. Nothing is late
        while the department waits for the village."""
        if Status(status) not in (Status.BARU, Status.DITERIMA, Status.DIPROSES) or self.waiting_on_village:
            return []
        late = []
        if self.accepted_at is None and self.accept_due < today:
            late.append("terima")
        if self.responded_at is None and self.respond_due < today:
            late.append("tanggapan")
        return late


def card_buttons(aspiration: Aspiration) -> list[list[tuple[str, str]]]:
    """The action buttons that make sense for the aspiration's current status (each press is re-checked)."""
    status = Status(aspiration.status)
    if status in CLOSED_STATUSES:
        return []
    if status is Status.SELESAI:
        wanted = [["balas"]]
    else:
        first = ["terima", "proses"] if status is Status.BARU else ["proses"] if status is Status.DITERIMA else []
        wanted = [first + ["selesai"], ["balas", "info"] + ([] if aspiration.confidential else ["alihkan"]),
                  ["tolak", "tdt"], ["duplikat"]]
        if len(aspiration.departments) > 1:  # a co-department may step aside without ending the others' work
            wanted.append(["lepas"])
    return [[(BUTTON_LABELS[a], callbacks.build("asp", "act", aspiration.id, a)) for a in row] for row in wanted if row]


def validate_text(text: str, kind: str) -> str:
    cleaned = clean_text(text)
    what = _TEXT_KINDS.get(kind, _TEXT_KINDS["reason"])
    if len(cleaned) < MIN_TEXT:
        raise InvalidText("officials/terlalu_pendek_tuliskan_minimal", what=what, min_text=MIN_TEXT)
    if len(cleaned) > MAX_TEXT:
        raise InvalidText("officials/terlalu_panjang_karakter_batasnya", what=what, length=len(cleaned),
                          max_text=MAX_TEXT)
    return cleaned


class OfficialsService:
    def __init__(
        self, db: Database, clock: Clock, tz: ZoneInfo, aspirations: AspirationService,
        departments: DepartmentService, *, day_starts: time = time(7, 0),
    ) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz
        self.aspirations = aspirations
        self.departments = departments
        #: Escalations and automatic closing wait for the working morning (not at midnight).
        self.day_starts = day_starts

    def today(self, now: datetime | None = None) -> date:
        return (now or self.clock.now()).astimezone(self.tz).date()

    # -- routing and forwarding (submit hook) ----------------------------------------------------------------

    async def on_submit(self, tx: Transaction, aspiration: Aspiration, now: datetime) -> None:
        """Route a new aspiration and forward it to everyone who handles it — inside the submission."""
        audience, codes = await self.departments.audience_for(tx, aspiration.category)
        await self._assign(tx, aspiration, audience, codes, now)
        current = await self.aspirations.get_in(tx, aspiration.id)
        await self._forward(tx, current, now, key="new")

    async def adopt_unrouted(self) -> int:
        """Open aspirations stored before routing existed (an upgraded installation) are routed and forwarded
        once, with service levels counted from now. Returns how many."""
        rows = await self.db.fetchall(
            "SELECT a.id FROM aspirations a WHERE a.status IN ('baru', 'diterima', 'diproses', 'selesai')"
            " AND NOT EXISTS (SELECT 1 FROM aspiration_sla s WHERE s.aspiration_id = a.id) ORDER BY a.id")
        now = self.clock.now()
        for row in rows:
            async with self.db.transaction() as tx:
                if await tx.fetchval("SELECT 1 FROM aspiration_sla WHERE aspiration_id = ?", (row["id"],)):
                    continue
                aspiration = await self.aspirations.get_in(tx, row["id"])
                audience, codes = await self.departments.audience_for(tx, aspiration.category)
                await self._assign(tx, aspiration, audience, codes, now)
                await self._forward(tx, await self.aspirations.get_in(tx, row["id"]), now, key="adopt")
        if rows:
            log.info("routed and forwarded %s aspirations stored before routing existed", len(rows))
        return len(rows)

    async def _assign(self, tx: Transaction, aspiration: Aspiration, audience: str, codes: list[str],
                      now: datetime) -> None:
        stamp = to_iso(now)
        for code in codes:
            await tx.execute(
                "INSERT INTO aspiration_departments(aspiration_id, department, active, assigned_at) VALUES (?, ?, 1, ?)"
                " ON CONFLICT(aspiration_id, department) DO UPDATE SET active = 1, assigned_at = excluded.assigned_at,"
                " released_at = NULL", (aspiration.id, code, stamp))
        await tx.execute("UPDATE aspirations SET department = ? WHERE id = ?", (codes[0] if codes else None,
                                                                                aspiration.id))
        level = self.departments.service_level(aspiration.category)
        today = self.today(now)
        await tx.execute(
            "INSERT INTO aspiration_sla(aspiration_id, audience, started_at, accept_due, respond_due) VALUES"
            " (?, ?, ?, ?, ?) ON CONFLICT(aspiration_id) DO UPDATE SET audience = excluded.audience,"
            " started_at = excluded.started_at, accept_due = excluded.accept_due, respond_due = excluded.respond_due,"
            " accepted_at = NULL, responded_at = NULL, escalated_accept_at = NULL, escalated_respond_at = NULL,"
            " confirm_due = NULL, info_requested_at = NULL, info_reminded_at = NULL",
            (aspiration.id, audience, stamp, add_working_days(today, level.accept).isoformat(),
             add_working_days(today, level.respond).isoformat()))

    async def _people(self, tx: Transaction, where: str, params: tuple[object, ...]) -> list[Person]:
        rows = await tx.fetchall(
            "SELECT p.*, NULL AS desa_name, NULL AS kecamatan_name FROM people p WHERE p.active = 1"
            f" AND p.telegram_id IS NOT NULL AND {where} ORDER BY p.id", params)
        return [person_from_row(r) for r in rows]

    async def _leadership_chats(self, tx: Transaction) -> list[int]:
        """Leadership's private chats; the admins when no leader has joined yet (nothing may go unheard)."""
        leaders = await self._people(tx, "p.role = 'pimpinan'", ())
        if leaders:
            return [p.telegram_id for p in leaders if p.telegram_id]
        return [p.telegram_id for p in await self._people(tx, "p.role = 'admin'", ()) if p.telegram_id]

    async def _department_chats(self, tx: Transaction, codes: tuple[str, ...] | list[str]) -> list[int]:
        chats: list[int] = []
        for code in codes:
            chats += [p.telegram_id for p in await self._people(tx, "p.role = 'pejabat' AND p.department = ?",
                                                                  (code,)) if p.telegram_id]
            inbox = await tx.fetchval("SELECT chat_id FROM department_inboxes WHERE department = ?", (code,))
            if inbox is not None:
                chats.append(int(inbox))
        return list(dict.fromkeys(chats))

    async def _recipients(self, tx: Transaction, aspiration: Aspiration) -> tuple[list[int], bool]:
        """The chats that handle an aspiration now, and whether the admins stand in for a department that has
        no registered official or inbox yet."""
        if aspiration.departments:
            chats = await self._department_chats(tx, aspiration.departments)
            if chats:
                return chats, False
            admins = [p.telegram_id for p in await self._people(tx, "p.role = 'admin'", ()) if p.telegram_id]
            return admins, True
        if aspiration.confidential:
            return await self._leadership_chats(tx), False
        return [p.telegram_id for p in await self._people(tx, "p.role = 'admin'", ()) if p.telegram_id], False

    async def _chat_can_act(self, tx: Transaction, chat_id: int, aspiration: Aspiration) -> bool:
        if chat_id < 0:
            if aspiration.confidential:
                return False
            rows = await tx.fetchall("SELECT department FROM department_inboxes WHERE chat_id = ?", (chat_id,))
            return any(r["department"] in aspiration.departments for r in rows)
        row = await tx.fetchone("SELECT p.*, NULL AS desa_name, NULL AS kecamatan_name FROM people p"
                                " WHERE p.telegram_id = ? AND p.active = 1", (chat_id,))
        return row is not None and self.aspirations.can_act(person_from_row(row), aspiration)

    async def _sla(self, tx: Transaction, aspiration_id: int) -> Sla | None:
        row = await tx.fetchone("SELECT * FROM aspiration_sla WHERE aspiration_id = ?", (aspiration_id,))
        if row is None:
            return None
        return Sla(row["audience"], row["accept_due"], row["respond_due"], row["accepted_at"], row["responded_at"],
                   row["confirm_due"], row["info_requested_at"])

    async def _unit_label(self, person: Person | None) -> str:
        """How the kepala desa hears who acted: the department, the leader's title, or the admin."""
        if person is None:
            return "Sambang"
        if person.role is Role.PEJABAT and person.department:
            names = await self.departments.names()
            return names.get(person.department, person.department)
        if person.role is Role.PIMPINAN:
            return person.title or "Pimpinan Daerah"
        if person.role is Role.ADMIN:
            return "Admin Sambang"
        return person.name or person.role.label

    async def _actor_label(self, person: Person | None) -> str:
        if person is None:
            return plain("officials/actor_label", automatic=True)
        unit = await self._unit_label(person)
        return plain("officials/actor_label", automatic=False, kepala_desa=person.role is Role.KEPALA_DESA,
                     name=person.name, unit=unit)

    async def _card(self, tx: Transaction, aspiration: Aspiration, *, header: str | None = None,
                    fallback: bool = False) -> str:
        last_row = await tx.fetchone(
            "SELECT h.*, p.telegram_id AS actor_tg FROM aspiration_history h LEFT JOIN people p ON p.id = h.actor_id"
            " WHERE h.aspiration_id = ? ORDER BY h.id DESC LIMIT 1", (aspiration.id,))
        last = None
        if last_row is not None and last_row["action"] != "dikirim":
            actor = None
            if last_row["actor_id"] is not None:
                row = await tx.fetchone("SELECT p.*, NULL AS desa_name, NULL AS kecamatan_name FROM people p"
                                        " WHERE p.id = ?", (last_row["actor_id"],))
                actor = person_from_row(row) if row else None
            # what the village wrote stays in the thread: every card (a former department's too) shows only that
            # it came
            village = last_row["action"] in (HISTORY_LABELS["pesan"], HISTORY_LABELS["jawab_info"])
            last = {"action": last_row["action"], "actor": await self._actor_label(actor), "at": last_row["at"],
                    "note": None if village else last_row["note"]}
        sla = await self._sla(tx, aspiration.id)
        overdue = sla.overdue(aspiration.status, self.today().isoformat()) if sla else []
        handled_by = await self.departments.label_for(aspiration)

        def card(description: str) -> str:
            return render("officials/officials_card", a=replace(aspiration, description=description),
                          handled_by=handled_by,
                          last=last, sla=sla, overdue=overdue, header=Markup(header) if header else None,
                          fallback=fallback)

        # the card is edited at every step, so it stays one message: a description too long for that is cut short
        # with a pointer to /status, which shows it whole
        return limits.one_message(card, aspiration.description,
                                  render("notice/description_cut", ticket=aspiration.ticket))

    async def _send_attachments(self, tx: Transaction, chat_id: int, aspiration: Aspiration, now: datetime,
                                key: str) -> None:
        ref = f"asp:{aspiration.id}:att"
        base = f"asp:{aspiration.id}:fwd:{key}:{chat_id}"
        photos = aspiration.photos
        caption = plain("officials/attachment_caption", ticket=aspiration.ticket, desa=aspiration.desa_name)

        def photo_caption(number: int, photo: Attachment) -> str:
            # the kepala desa's own words under the photo travel with it (plain text: no parse mode is set)
            head = caption if number == 1 else plain("officials/attachment_photo", number=number)
            return f"{head}\n{photo.caption}"[:1024] if photo.caption else head

        if len(photos) == 1:
            await outbox.enqueue(tx, chat_id, "sendPhoto", {"chat_id": chat_id, "photo": photos[0].file_id,
                                                            "caption": photo_caption(1, photos[0])}, now=now,
                                 ref=ref, dedup_key=f"{base}:photos")
        elif photos:
            media = [{"type": "photo", "media": p.file_id} for p in photos[:10]]
            for number, (item, photo) in enumerate(zip(media, photos, strict=False), start=1):
                if number == 1 or photo.caption:
                    item["caption"] = photo_caption(number, photo)
            await outbox.enqueue(tx, chat_id, "sendMediaGroup", {"chat_id": chat_id, "media": media}, now=now,
                                 ref=ref, dedup_key=f"{base}:photos")
        for i, doc in enumerate(aspiration.documents):
            await outbox.enqueue(tx, chat_id, "sendDocument", {
                "chat_id": chat_id, "document": doc.file_id,
                "caption": (f"{aspiration.ticket} · {doc.file_name or 'dokumen'}"
                            + (f"\n{doc.caption}" if doc.caption else ""))[:1024]},
                now=now, ref=ref, dedup_key=f"{base}:doc{i}")
        # voice notes and videos by their file_id: the officials listen and watch in Telegram
        for i, voice in enumerate(aspiration.voices):
            await outbox.enqueue(tx, chat_id, "sendVoice", {
                "chat_id": chat_id, "voice": voice.file_id,
                "caption": (caption + (f"\n{voice.caption}" if voice.caption else ""))[:1024]}, now=now, ref=ref,
                dedup_key=f"{base}:voice{i}")
        for i, video in enumerate(aspiration.videos):
            if video.kind == "video_note":  # a round video carries no caption
                params: dict[str, Any] = {"chat_id": chat_id, "video_note": video.file_id}
                method = "sendVideoNote"
            else:
                params = {"chat_id": chat_id, "video": video.file_id,
                          "caption": (caption + (f"\n{video.caption}" if video.caption else ""))[:1024]}
                method = "sendVideo"
            await outbox.enqueue(tx, chat_id, method, params, now=now, ref=ref, dedup_key=f"{base}:video{i}")
        location = aspiration.location
        if location is not None and location.latitude is not None and location.longitude is not None:
            await outbox.enqueue(tx, chat_id, "sendLocation", {
                "chat_id": chat_id, "latitude": location.latitude, "longitude": location.longitude},
                now=now, ref=ref, dedup_key=f"{base}:loc")

    async def _forward(self, tx: Transaction, aspiration: Aspiration, now: datetime, *, key: str,
                       chats: list[int] | None = None, header: str | None = None,
                       attachments: bool = True) -> list[int]:
        """Send the attachments and the action card to ``chats`` (default: everyone who handles it now)."""
        fallback = False
        if chats is None:
            chats, fallback = await self._recipients(tx, aspiration)
        # every recipient gets the same card (only the buttons depend on the chat): it is made once
        text = await self._card(tx, aspiration, header=header, fallback=fallback) if chats else ""
        for chat_id in chats:
            if attachments:
                await self._send_attachments(tx, chat_id, aspiration, now, key)
            await self._enqueue_card(tx, chat_id, aspiration, now, key=key, text=text)
        return chats

    async def _enqueue_card(self, tx: Transaction, chat_id: int, aspiration: Aspiration, now: datetime, *,
                            key: str | None, text: str | None = None) -> None:
        """The action card to ``chat_id`` (``text``: the card already made for this aspiration)."""
        if text is None:
            text = await self._card(tx, aspiration)
        buttons = card_buttons(aspiration) if await self._chat_can_act(tx, chat_id, aspiration) else []
        await outbox.enqueue_text(
            tx, chat_id, text, now=now, reply_markup=outbox.inline_keyboard(buttons) if buttons else None,
            ref=f"asp:{aspiration.id}:fwd", dedup_key=f"asp:{aspiration.id}:fwd:{key}:{chat_id}" if key else None)

    async def _refresh_cards(self, tx: Transaction, aspiration: Aspiration, now: datetime, key: str) -> None:
        """Every card of this aspiration shows the current status and who acted: sent ones are edited, queued
        ones are rewritten before they go out. Buttons only where the chat may still act."""
        rows = await tx.fetchall(
            "SELECT id, chat_id, message_id, status FROM outbox WHERE ref = ? AND status IN ('pending', 'sent')"
            " ORDER BY id", (f"asp:{aspiration.id}:fwd",))
        text = await self._card(tx, aspiration)
        for row in rows:
            chat_id = row["chat_id"]
            buttons = card_buttons(aspiration) if await self._chat_can_act(tx, chat_id, aspiration) else []
            params: dict[str, object] = {"chat_id": chat_id, "text": text, "parse_mode": "HTML",
                                         "link_preview_options": {"is_disabled": True}}
            if buttons:
                params["reply_markup"] = outbox.inline_keyboard(buttons)
            if row["status"] == "pending":
                await tx.execute("UPDATE outbox SET params = ? WHERE id = ? AND status = 'pending'",
                                 (json.dumps(params, ensure_ascii=False), row["id"]))
            elif row["message_id"] is not None:
                await outbox.enqueue(tx, chat_id, "editMessageText", {**params, "message_id": row["message_id"]},
                                     now=now, ref=f"asp:{aspiration.id}:edit",
                                     dedup_key=f"asp:{aspiration.id}:edit:{key}:{chat_id}:{row['message_id']}")

    async def _card_message(self, tx: Transaction, aspiration_id: int, chat_id: int) -> int | None:
        message_id: int | None = await tx.fetchval(
            "SELECT message_id FROM outbox WHERE ref = ? AND chat_id = ? AND status = 'sent' AND message_id IS NOT"
            " NULL ORDER BY id DESC LIMIT 1", (f"asp:{aspiration_id}:fwd", chat_id))
        return message_id

    async def _notify_kades(self, tx: Transaction, aspiration: Aspiration, action: str, now: datetime, *,
                            actor: Person | None, note: str | None, key: str, target: str | None = None,
                            photo: str | None = None) -> None:
        if aspiration.submitter_telegram_id is None:
            return
        if photo:  # the result photo first, the question under it
            chat = aspiration.submitter_telegram_id
            await outbox.enqueue(tx, chat, "sendPhoto", {
                "chat_id": chat, "photo": photo,
                "caption": render("officials/officials_result_photo_caption", a=aspiration)[:1024]},
                now=now, ref=f"asp:{aspiration.id}:kades", dedup_key=f"asp:{aspiration.id}:{key}:kades:photo")
        sla = await self._sla(tx, aspiration.id)
        text = render("officials/officials_kades_update", a=aspiration, action=action,
                      unit=await self._unit_label(actor),
                      note=note, target=target, confirm_days=self.departments.confirm_days,
                      confirm_due=sla.confirm_due if sla else None)
        markup = None
        if action == "selesai":
            markup = outbox.inline_keyboard([[(CONFIRM_YES, callbacks.build("asp", "cfm", aspiration.id, "ya")),
                                              (CONFIRM_NO, callbacks.build("asp", "cfm", aspiration.id, "belum"))]])
        elif action in ("info", "balas"):  # answered by a Telegram reply, or with this button
            markup = outbox.inline_keyboard([[(WRITE_BUTTON, callbacks.build("asp", "msg", aspiration.id, "new"))]])
        await outbox.enqueue_text(tx, aspiration.submitter_telegram_id, text, now=now, reply_markup=markup,
                                  ref=f"asp:{aspiration.id}:kades", dedup_key=f"asp:{aspiration.id}:{key}:kades")
        if action in FOLLOWED_ACTIONS:
            await self._notify_followers(tx, aspiration, action, now, unit=await self._unit_label(actor), note=note,
                                         key=key, target=target)

    async def _notify_followers(self, tx: Transaction, aspiration: Aspiration, action: str, now: datetime, *,
                                unit: str, note: str | None, key: str, target: str | None) -> None:
        """The kepala desa whose aspirations were merged into this one hear what happens to it."""
        rows = await tx.fetchall(
            "SELECT a.id, a.ticket, p.telegram_id FROM aspirations a JOIN people p ON p.id = a.submitter_id"
            " WHERE a.duplicate_of = ? AND p.active = 1 AND p.telegram_id IS NOT NULL ORDER BY a.id",
            (aspiration.id,))
        for row in rows:
            text = render("officials/officials_kades_follow", a=aspiration, own=row["ticket"], action=action,
                          unit=unit, note=note, target=target)
            await outbox.enqueue_text(tx, row["telegram_id"], text, now=now, ref=f"asp:{row['id']}:follow",
                                      dedup_key=f"asp:{aspiration.id}:{key}:follow:{row['id']}")

    def check_actor(self, person: Person | None, aspiration: Aspiration) -> None:
        """NotAllowed unless ``person`` may act on the aspiration (see ``_check_actor``)."""
        self._check_actor(person, aspiration)

    async def unit_label(self, person: Person | None) -> str:
        return await self._unit_label(person)

    async def audit(self, tx: Transaction, telegram_id: int | None, action: str, detail: str) -> None:
        await self._audit(tx, telegram_id, action, detail)

    async def recipients(self, tx: Transaction, aspiration: Aspiration) -> list[int]:
        """The chats that handle an aspiration now (officials and inbox groups; the admins standing in)."""
        return (await self._recipients(tx, aspiration))[0]

    async def card_message(self, tx: Transaction, aspiration_id: int, chat_id: int) -> int | None:
        """The newest card of the aspiration sent to this chat, to reply to it."""
        return await self._card_message(tx, aspiration_id, chat_id)

    async def refresh_cards(self, tx: Transaction, aspiration: Aspiration, now: datetime, key: str) -> None:
        """Bring every card of the aspiration up to date (see ``_refresh_cards``)."""
        await self._refresh_cards(tx, aspiration, now, key)

    async def _notice(self, tx: Transaction, aspiration: Aspiration, text: str, now: datetime, key: str) -> None:
        """A message to everyone handling the aspiration, as a reply to their card when it is known."""
        chats, _ = await self._recipients(tx, aspiration)
        for chat_id in chats:
            params: dict[str, object] = {"chat_id": chat_id, "text": text, "parse_mode": "HTML",
                                         "link_preview_options": {"is_disabled": True}}
            card = await self._card_message(tx, aspiration.id, chat_id)
            if card is not None:
                params["reply_parameters"] = {"message_id": card, "allow_sending_without_reply": True}
            await outbox.enqueue(tx, chat_id, "sendMessage", params, now=now, ref=f"asp:{aspiration.id}:notice",
                                 dedup_key=f"asp:{aspiration.id}:{key}:notice:{chat_id}")

    async def _audit(self, tx: Transaction, telegram_id: int | None, action: str, detail: str) -> None:
        await audit.record(tx, telegram_id, action, detail, now=self.clock.now())

    async def log_refusal(self, telegram_id: int | None, what: str, why: str) -> None:
        """Every refused press or reply is kept in the audit log (and the application log)."""
        log.warning("refused %s for user %s: %s", what[:64], telegram_id, why)
        async with self.db.transaction() as tx:
            await self._audit(tx, telegram_id, "refused", f"{what[:64]} — {why}")

    # -- permission checks -----------------------------------------------------------------------------------

    def _check_actor(self, person: Person | None, aspiration: Aspiration) -> None:
        if person is None:
            raise NotAllowed("officials/belum_terdaftar_sambang")
        if person.role not in _OFFICIAL_ROLES:
            raise NotAllowed("officials/tombol_hanya_pejabat_opd")
        if not self.aspirations.can_act(person, aspiration):
            if aspiration.confidential:
                raise NotAllowed("officials/aspirasi_rahasia_hanya_pimpinan")
            raise NotAllowed("officials/aspirasi_tidak_ditangani_opd", ticket=aspiration.ticket,
                             department=person.department or "-")

    def _check_step_aside(self, person: Person, aspiration: Aspiration) -> None:
        """Only an official of one of several responsible departments steps aside for their department."""
        if person.role is not Role.PEJABAT or person.department not in aspiration.departments:
            raise NotAllowed("officials/lepas_hanya_opd_penanggung", ticket=aspiration.ticket)
        if len(aspiration.departments) < 2:
            raise DomainError("officials/lepas_opd_satu_satunya", ticket=aspiration.ticket)

    async def _target(self, tx: Transaction, person: Person, aspiration: Aspiration, target: str | None) -> str:
        if aspiration.confidential:
            raise DomainError("officials/aspirasi_rahasia_tidak_dialihkan")
        code = normalise_code(target or "")
        row = await tx.fetchone("SELECT code FROM departments WHERE code = ? AND active = 1", (code,))
        if row is None:
            raise DomainError("officials/opd_tujuan_tidak_dikenal")
        if code in aspiration.departments:
            raise DomainError("officials/aspirasi_ditangani", ticket=aspiration.ticket, code=code)
        return code

    async def check(self, person: Person | None, aspiration_id: int, action: str,
                    target: str | None = None) -> Aspiration:
        """Whether ``person`` may start ``action`` now (before asking for a reason); DomainError if not."""
        if action not in OFFICIAL_ACTIONS:
            raise DomainError("officials/tombol_tidak_dikenal")
        aspiration = await self.aspirations.get(aspiration_id)
        self._check_actor(person, aspiration)
        check_transition(aspiration.ticket, aspiration.status, action)
        if action == "alihkan" and aspiration.confidential:
            raise DomainError("officials/aspirasi_rahasia_tidak_dialihkan")
        if action == "lepas":
            assert person is not None
            self._check_step_aside(person, aspiration)
        if target is not None:
            async with self.db.transaction() as tx:
                assert person is not None
                await self._target(tx, person, aspiration, target)
        return aspiration

    async def redirect_options(self, aspiration: Aspiration) -> list[tuple[str, str]]:
        """(code, name) of the active departments it can be redirected to."""
        return [(d.code, d.name) for d in await self.departments.list() if d.code not in aspiration.departments]

    # -- actions ---------------------------------------------------------------------------------------------

    async def act(
        self, person: Person | None, aspiration_id: int, action: str, *, note: str | None = None,
        target: str | None = None, pending_of: tuple[int, int] | None = None, photo: str | None = None,
    ) -> Outcome:
        """Carry out an official's action. Everything — status, history, SLA, notification to the kepala desa,
        edited cards, forwards after a redirect, the audit entry — commits together or not at all. ``photo``: the
        Telegram file id of a photo of the result ("selesai" only), shown to the kepala desa with the note."""
        if action not in OFFICIAL_ACTIONS:
            raise DomainError("officials/tombol_tidak_dikenal")
        if action == "duplikat":
            return await self.mark_duplicate(person, aspiration_id, note or "", pending_of=pending_of)
        if action in NEEDS_TEXT and (action != "selesai" or note is not None or photo is not None):
            note = validate_text(note or "", action)
        if action != "selesai":
            photo = None
        now = self.clock.now()
        stamp = to_iso(now)
        async with self.db.transaction() as tx:
            aspiration = await self.aspirations.get_in(tx, aspiration_id)
            self._check_actor(person, aspiration)
            assert person is not None
            target_code = None
            if action == "alihkan":
                target_code = await self._target(tx, person, aspiration, target)
            if action == "lepas":
                self._check_step_aside(person, aspiration)
            label = HISTORY_LABELS[action]
            history_note = note
            if target_code:
                history_note = f"ke {target_code}: {note}"
            elif action == "lepas":
                history_note = f"{person.department}: {note}"
            if action in ("balas", "info"):  # the official's side of the thread
                await tx.execute(
                    "INSERT INTO aspiration_messages(aspiration_id, at, author_id, side, purpose, kind, text)"
                    " VALUES (?, ?, ?, 'opd', ?, 'text', ?)",
                    (aspiration_id, stamp, person.id, "minta_info" if action == "info" else "balas", note))
            _, _, hid = await self.aspirations.transition(tx, aspiration_id, action=action, actor_id=person.id,
                                                          now=now, note=history_note, history_action=label)
            key = f"h{hid}"
            if photo:
                await tx.execute("UPDATE aspiration_history SET photo_file_id = ? WHERE id = ?", (photo, hid))
            if action in ("terima", "proses"):
                await tx.execute("UPDATE aspiration_sla SET accepted_at = COALESCE(accepted_at, ?)"
                                 " WHERE aspiration_id = ?", (stamp, aspiration_id))
            elif action in ("selesai", "tolak", "tdt", "balas"):
                confirm_due = None
                if action == "selesai":
                    confirm_due = add_working_days(self.today(now), self.departments.confirm_days).isoformat()
                await tx.execute(
                    "UPDATE aspiration_sla SET accepted_at = COALESCE(accepted_at, ?), responded_at ="
                    " COALESCE(responded_at, ?), confirm_due = COALESCE(?, confirm_due) WHERE aspiration_id = ?",
                    (stamp, stamp, confirm_due, aspiration_id))
                if action != "balas":  # finished or refused: nobody waits on the village any more
                    await tx.execute("UPDATE aspiration_sla SET info_requested_at = NULL, info_reminded_at = NULL"
                                     " WHERE aspiration_id = ?", (aspiration_id,))
            elif action == "info":  # the clock stops until the village answers (a repeated question: still stopped)
                await tx.execute(
                    "UPDATE aspiration_sla SET info_requested_at = COALESCE(info_requested_at, ?),"
                    " info_reminded_at = NULL WHERE aspiration_id = ?", (stamp, aspiration_id))
            elif action == "alihkan":
                assert target_code is not None
                released = list(aspiration.departments)
                if person.role is Role.PEJABAT:
                    released = [person.department] if person.department else []
                for code in released:
                    await tx.execute("UPDATE aspiration_departments SET active = 0, released_at = ? WHERE"
                                     " aspiration_id = ? AND department = ?", (stamp, aspiration_id, code))
                remaining = [c for c in aspiration.departments if c not in released]
                await self._assign(tx, aspiration, AUDIENCE_DEPARTMENTS, remaining + [target_code], now)
            elif action == "lepas":
                await tx.execute("UPDATE aspiration_departments SET active = 0, released_at = ? WHERE"
                                 " aspiration_id = ? AND department = ?", (stamp, aspiration_id, person.department))
                remaining = [c for c in aspiration.departments if c != person.department]
                await tx.execute("UPDATE aspirations SET department = ? WHERE id = ?", (remaining[0], aspiration_id))
            await self._audit(tx, person.telegram_id, f"asp:{action}", f"{aspiration.ticket}"
                              + (f" -> {target_code}" if target_code else ""))
            if pending_of is not None:
                await tx.execute("DELETE FROM pending_inputs WHERE telegram_id = ? AND chat_id = ?", pending_of)
            current = await self.aspirations.get_in(tx, aspiration_id)
            target_name = None
            if target_code:
                target_name = (await self.departments.names()).get(target_code, target_code)
            elif action == "lepas":
                target_name = await self.departments.label_for(current)
            await self._notify_kades(tx, current, action, now, actor=person, note=note, key=key, target=target_name,
                                     photo=photo)
            await self._refresh_cards(tx, current, now, key)
            if action == "alihkan":
                assert target_code is not None
                new_chats = await self._department_chats(tx, [target_code])
                if not new_chats:
                    new_chats = [p.telegram_id for p in await self._people(tx, "p.role = 'admin'", ())
                                 if p.telegram_id]
                await self._forward(tx, current, now, key=key, chats=new_chats,
                                    header=render("officials/officials_redirect_header",
                                                  source=await self._actor_label(person),
                                                  note=note))
        return Outcome(current, action, render("officials/officials_done", action=action, a=current,
                                               target=target_name))

    # -- the kepala desa closes the loop ---------------------------------------------------------------------

    def _check_kades(self, person: Person | None, aspiration: Aspiration) -> Person:
        if person is None or person.role is not Role.KEPALA_DESA or not self.aspirations.can_view(person, aspiration):
            raise NotAllowed("officials/tombol_hanya_kepala_desa")
        return person

    async def confirm(self, person: Person | None, aspiration_id: int) -> Outcome:
        """The kepala desa answers "Ya, sudah tertangani": closed as resolved."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            aspiration = await self.aspirations.get_in(tx, aspiration_id)
            kades = self._check_kades(person, aspiration)
            _, _, hid = await self.aspirations.transition(
                tx, aspiration_id, action="konfirmasi", actor_id=kades.id, now=now,
                history_action=HISTORY_LABELS["konfirmasi"])
            await self._audit(tx, kades.telegram_id, "asp:konfirmasi", aspiration.ticket)
            current = await self.aspirations.get_in(tx, aspiration_id)
            await self._refresh_cards(tx, current, now, f"h{hid}")
            await self._notify_followers(tx, current, "konfirmasi", now, unit="", note=None, key=f"h{hid}",
                                         target=None)
        return Outcome(current, "konfirmasi", render("officials/officials_done", action="konfirmasi", a=current,
                                                     target=None))

    async def reopen(self, person: Person | None, aspiration_id: int, comment: str, *,
                     pending_of: tuple[int, int] | None = None) -> Outcome:
        """The kepala desa answers "Belum" with a comment: reopened for the same departments, with a fresh
        response deadline; the departments get the comment."""
        comment = validate_text(comment, "buka_kembali")
        now = self.clock.now()
        async with self.db.transaction() as tx:
            aspiration = await self.aspirations.get_in(tx, aspiration_id)
            kades = self._check_kades(person, aspiration)
            _, _, hid = await self.aspirations.transition(
                tx, aspiration_id, action="buka_kembali", actor_id=kades.id, now=now, note=comment,
                history_action=HISTORY_LABELS["buka_kembali"])
            level = self.departments.service_level(aspiration.category)
            await tx.execute(
                "UPDATE aspiration_sla SET responded_at = NULL, escalated_respond_at = NULL, confirm_due = NULL,"
                " respond_due = ? WHERE aspiration_id = ?",
                (add_working_days(self.today(now), level.respond).isoformat(), aspiration_id))
            await self._audit(tx, kades.telegram_id, "asp:buka_kembali", aspiration.ticket)
            if pending_of is not None:
                await tx.execute("DELETE FROM pending_inputs WHERE telegram_id = ? AND chat_id = ?", pending_of)
            current = await self.aspirations.get_in(tx, aspiration_id)
            await self._refresh_cards(tx, current, now, f"h{hid}")
            await self._notice(tx, current, render("officials/officials_reopened", a=current, comment=comment,
                                                   kades=kades.name), now, f"h{hid}")
            await self._notify_followers(tx, current, "buka_kembali", now, unit="", note=None, key=f"h{hid}",
                                         target=None)
        return Outcome(current, "buka_kembali", render("officials/officials_done", action="buka_kembali", a=current,
                                                       target=await self.departments.label_for(current)))

    def check_village_writer(self, person: Person | None, aspiration: Aspiration) -> Person:
        """The kepala desa may write to the departments about an open aspiration of theirs (the thread)."""
        kades = self._check_kades(person, aspiration)
        if not audiences.of(kades).sees_thread(aspiration):
            raise NotAllowed("officials/tombol_hanya_kepala_desa")
        if aspiration.is_closed:
            raise DomainError("aspirations/aspirasi_ditutup_tidak_diubah", ticket=aspiration.ticket,
                              label=Status(aspiration.status).label)
        return kades

    async def mark_duplicate(self, person: Person | None, aspiration_id: int, main_ticket: str, *,
                             pending_of: tuple[int, int] | None = None) -> Outcome:
        """An official merges an aspiration into another open one about the same problem (the main one): it is
        closed as a duplicate, its kepala desa is told and from then on hears the main one's changes."""
        now = self.clock.now()
        ticket = normalise_ticket(main_ticket, now.astimezone(self.tz).year)
        if ticket is None:
            raise InvalidText("officials/duplikat_nomor_tiket", text=main_ticket.strip()[:40])
        async with self.db.transaction() as tx:
            aspiration = await self.aspirations.get_in(tx, aspiration_id)
            self._check_actor(person, aspiration)
            assert person is not None
            main_id = await tx.fetchval("SELECT COALESCE(duplicate_of, id) FROM aspirations WHERE ticket = ?",
                                        (ticket,))
            main = await self.aspirations.get_in(tx, int(main_id)) if main_id is not None else None
            if main is None or not self.aspirations.can_view(person, main):
                raise InvalidText("officials/duplikat_tidak_ditemukan", ticket=ticket)
            if main.id == aspiration.id:
                raise InvalidText("officials/duplikat_diri_sendiri", ticket=ticket)
            if main.is_closed:
                raise InvalidText("officials/duplikat_utama_ditutup", ticket=main.ticket,
                                  label=Status(main.status).label)
            _, _, hid = await self.aspirations.transition(
                tx, aspiration_id, action="duplikat", actor_id=person.id, now=now,
                note=plain("officials/history_duplicate_of", ticket=main.ticket),
                history_action=HISTORY_LABELS["duplikat"])
            # its own followers follow the main one too
            await tx.execute("UPDATE aspirations SET duplicate_of = ? WHERE id = ? OR duplicate_of = ?",
                             (main.id, aspiration_id, aspiration_id))
            await tx.execute(
                "INSERT INTO aspiration_history(aspiration_id, at, actor_id, action, from_status, to_status, note)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (main.id, to_iso(now), person.id, "duplikat digabungkan", main.status, main.status,
                 plain("officials/history_duplicate_merged", ticket=aspiration.ticket, desa=aspiration.desa_name)))
            await self._audit(tx, person.telegram_id, "asp:duplikat", f"{aspiration.ticket} -> {main.ticket}")
            if pending_of is not None:
                await tx.execute("DELETE FROM pending_inputs WHERE telegram_id = ? AND chat_id = ?", pending_of)
            current = await self.aspirations.get_in(tx, aspiration_id)
            await self._notify_kades(tx, current, "duplikat", now, actor=person, note=None, key=f"h{hid}",
                                     target=main.ticket)
            await self._refresh_cards(tx, current, now, f"h{hid}")
        return Outcome(current, "duplikat", render("officials/officials_done", action="duplikat", a=current,
                                                   target=main.ticket))

    async def resume_service_level(self, tx: Transaction, aspiration_id: int, now: datetime) -> int | None:
        """The village answered a "Minta info": the clock runs again, its deadlines moved by the working days it
        stood still (the answer's day counted, weekends and holidays not). None when nobody was waiting."""
        row = await tx.fetchone("SELECT * FROM aspiration_sla WHERE aspiration_id = ?", (aspiration_id,))
        if row is None or row["info_requested_at"] is None:
            return None
        asked = from_iso(row["info_requested_at"]).astimezone(self.tz).date()
        days = working_days_between(asked, self.today(now))

        def moved(due: str, done: str | None) -> str:
            return due if done is not None or not days else add_working_days(date.fromisoformat(due), days).isoformat()

        await tx.execute(
            "UPDATE aspiration_sla SET accept_due = ?, respond_due = ?, info_requested_at = NULL,"
            " info_reminded_at = NULL, paused_days = paused_days + ? WHERE aspiration_id = ?",
            (moved(row["accept_due"], row["accepted_at"]), moved(row["respond_due"], row["responded_at"]), days,
             aspiration_id))
        return days

    async def remind_waiting_villages(self, now: datetime, after_days: int = 2) -> int:
        """One reminder to the kepala desa when a "Minta info" is unanswered after ``after_days`` working days
        (from the working morning on). Returns how many were queued."""
        local = now.astimezone(self.tz)
        if local.time() < self.day_starts:
            return 0
        rows = await self.db.fetchall(
            "SELECT s.aspiration_id, s.info_requested_at FROM aspiration_sla s JOIN aspirations a"
            " ON a.id = s.aspiration_id WHERE s.info_requested_at IS NOT NULL AND s.info_reminded_at IS NULL"
            " AND a.status IN ('baru', 'diterima', 'diproses') ORDER BY s.aspiration_id")
        sent = 0
        for row in rows:
            asked = from_iso(row["info_requested_at"]).astimezone(self.tz).date()
            if working_days_between(asked, local.date()) < after_days:
                continue
            async with self.db.transaction() as tx:
                if not await jobs.claim(tx, "officials:info-reminder",
                                        f"{row['aspiration_id']}:{row['info_requested_at']}", now):
                    continue
                await tx.execute("UPDATE aspiration_sla SET info_reminded_at = ? WHERE aspiration_id = ?",
                                 (to_iso(now), row["aspiration_id"]))
                aspiration = await self.aspirations.get_in(tx, row["aspiration_id"])
                if aspiration.submitter_telegram_id is None:
                    continue
                question = await tx.fetchval(
                    "SELECT text FROM aspiration_messages WHERE aspiration_id = ? AND purpose = 'minta_info'"
                    " ORDER BY id DESC LIMIT 1", (aspiration.id,))
                await outbox.enqueue_text(
                    tx, aspiration.submitter_telegram_id,
                    render("officials/officials_info_reminder", a=aspiration, question=question, days=after_days),
                    now=now, ref=f"asp:{aspiration.id}:kades",
                    reply_markup=outbox.inline_keyboard([[(WRITE_BUTTON, callbacks.build("asp", "msg", aspiration.id,
                                                                                         "new"))]]),
                    dedup_key=f"asp:{aspiration.id}:info-reminder:{row['info_requested_at']}")
                sent += 1
        return sent

    # -- prompts: a reason, a reply, a comment ---------------------------------------------------------------

    async def begin_input(self, person: Person | None, chat_id: int, kind: str, aspiration_id: int,
                          target: str | None = None) -> Aspiration:
        """Check that ``person`` may do ``kind`` now, then wait for their text in this chat."""
        if kind == "buka_kembali":
            aspiration = await self.aspirations.get(aspiration_id)
            self._check_kades(person, aspiration)
            check_transition(aspiration.ticket, aspiration.status, "buka_kembali")
        elif kind == "pesan":  # the kepala desa writes to the departments (the thread)
            aspiration = await self.aspirations.get(aspiration_id)
            self.check_village_writer(person, aspiration)
        elif kind in NEEDS_TEXT:
            aspiration = await self.check(person, aspiration_id, kind, target)
        else:
            raise DomainError("officials/tombol_tidak_dikenal")
        assert person is not None and person.telegram_id is not None
        async with self.db.transaction() as tx:
            seen = await tx.fetchval("SELECT MAX(id) FROM aspiration_history WHERE aspiration_id = ?",
                                     (aspiration_id,))
            await tx.execute(
                "INSERT INTO pending_inputs(telegram_id, chat_id, kind, aspiration_id, target, created_at,"
                " seen_history_id) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(telegram_id, chat_id) DO UPDATE SET"
                " kind = excluded.kind, aspiration_id = excluded.aspiration_id, target = excluded.target,"
                " created_at = excluded.created_at, seen_history_id = excluded.seen_history_id",
                (person.telegram_id, chat_id, kind, aspiration_id, normalise_code(target) if target else None,
                 to_iso(self.clock.now()), seen))
        return aspiration

    async def pending_input(self, telegram_id: int, chat_id: int) -> PendingInput | None:
        row = await self.db.lookup_one(
            "SELECT p.*, a.ticket FROM pending_inputs p JOIN aspirations a ON a.id = p.aspiration_id"
            " WHERE p.telegram_id = ? AND p.chat_id = ?", (telegram_id, chat_id))
        if row is None:
            return None
        if from_iso(row["created_at"]) + PENDING_TTL < self.clock.now():
            await self.cancel_input(telegram_id, chat_id)
            return None
        return PendingInput(row["telegram_id"], row["chat_id"], row["kind"], row["aspiration_id"], row["target"],
                            row["ticket"], row["seen_history_id"])

    async def cancel_input(self, telegram_id: int, chat_id: int) -> bool:
        async with self.db.transaction() as tx:
            return await tx.execute_rowcount("DELETE FROM pending_inputs WHERE telegram_id = ? AND chat_id = ?",
                                             (telegram_id, chat_id)) > 0

    async def complete_input(self, person: Person | None, pending: PendingInput, text: str, *,
                             photo: str | None = None) -> Outcome:
        """The awaited text arrived (for "selesai" it may come as the caption of a ``photo``, a Telegram file id):
        carry out the action. A too-short text keeps the prompt open; any other refusal (status changed meanwhile,
        rights lost) closes it."""
        key = (pending.telegram_id, pending.chat_id)
        try:
            if pending.kind in _DECISIONS:
                await self._check_unchanged(person, pending, text)
            if pending.kind == "buka_kembali":
                return await self.reopen(person, pending.aspiration_id, text, pending_of=key)
            return await self.act(person, pending.aspiration_id, pending.kind, note=text, target=pending.target,
                                  pending_of=key, photo=photo)
        except InvalidText:
            raise
        except DomainError:
            await self.cancel_input(*key)
            raise

    async def _check_unchanged(self, person: Person | None, pending: PendingInput, text: str) -> None:
        """A decision typed after someone else changed the status (a colleague pressed Terima while the reason was
        being written) is not carried out unseen: refused, naming who changed what, with the typed text given back
        so it is not lost; pressing the button again decides with the current status in view."""
        if pending.seen_history_id is None:
            return
        row = await self.db.fetchone(
            "SELECT h.to_status, h.action, h.actor_id FROM aspiration_history h WHERE h.aspiration_id = ?"
            " AND h.id > ? AND h.from_status <> h.to_status AND (h.actor_id IS NULL OR h.actor_id <> ?)"
            " ORDER BY h.id DESC LIMIT 1",
            (pending.aspiration_id, pending.seen_history_id, person.id if person is not None else -1))
        if row is None:
            return
        actor = None
        if row["actor_id"] is not None:
            found = await self.db.fetchone("SELECT p.*, NULL AS desa_name, NULL AS kecamatan_name FROM people p"
                                           " WHERE p.id = ?", (row["actor_id"],))
            actor = person_from_row(found) if found else None
        raise DomainError("officials/status_berubah_saat_menulis", ticket=pending.ticket,
                          action=row["action"], by=await self._actor_label(actor) if actor else "",
                          label=Status(row["to_status"]).label, kind=pending.kind, text=clean_text(text)[:MAX_TEXT])

    # -- replies and cards on request ------------------------------------------------------------------------

    async def aspiration_for_message(self, chat_id: int, message_id: int) -> int | None:
        """Which aspiration a card (or its photos, or a notice about it) in this chat was, for Telegram replies.
        Only those messages count: a reply to a digest or a prompt is not a reply to a kepala desa."""
        ref = await self.db.fetchval(
            "SELECT ref FROM outbox WHERE chat_id = ? AND message_id = ? AND (ref LIKE 'asp:%:fwd'"
            " OR ref LIKE 'asp:%:att' OR ref LIKE 'asp:%:notice' OR ref LIKE 'asp:%:thread') ORDER BY id DESC LIMIT 1",
            (chat_id, message_id))
        if not ref:
            return None
        part = str(ref).split(":")[1]
        return int(part) if part.isdigit() else None

    async def send_card(self, person: Person, chat_id: int, ticket: str) -> Aspiration:
        """/tangani: the action card of one aspiration, in this chat (and kept up to date like the others): a
        private chat, or the inbox group of a department that handles it; never any other group."""
        elsewhere = NotAllowed("officials/kartu_aspirasi_hanya_ditampilkan")
        if chat_id < 0 and not await self.departments.inbox_departments(chat_id):
            raise elsewhere
        aspiration = await self.aspirations.by_ticket(ticket)
        if aspiration is None or not self.aspirations.can_view(person, aspiration):
            raise NotFound("officials/aspirasi_tidak_ditemukan_bukan", ticket=ticket.upper())
        if aspiration.confidential and chat_id < 0:
            raise NotAllowed("officials/aspirasi_rahasia_tidak_ditampilkan")
        now = self.clock.now()
        async with self.db.transaction() as tx:
            if chat_id < 0 and not await self._chat_can_act(tx, chat_id, aspiration):
                raise elsewhere
            if chat_id > 0:
                await self._send_attachments(tx, chat_id, aspiration, now, f"card{now.timestamp()}")
            await self._enqueue_card(tx, chat_id, aspiration, now, key=None)
            if audiences.of(person).sees_thread(aspiration):  # the conversation with the village, under the card
                rows = await tx.fetchall(
                    "SELECT m.*, p.name AS author FROM aspiration_messages m LEFT JOIN people p ON p.id = m.author_id"
                    " WHERE m.aspiration_id = ? ORDER BY m.id", (aspiration.id,))
                if rows:
                    await outbox.enqueue_text(tx, chat_id, render("officials/officials_thread", a=aspiration,
                                                                  messages=[dict(r) for r in rows]),
                                              now=now, ref=f"asp:{aspiration.id}:thread")
        return aspiration

    # -- service levels --------------------------------------------------------------------------------------

    async def run_service_levels(self, now: datetime) -> tuple[int, int]:
        """Close unanswered "Selesai" after the confirmation days, escalate overdue ones to leadership once.
        Runs from the working morning on. Returns (closed, escalated)."""
        local = now.astimezone(self.tz)
        if local.time() < self.day_starts:
            return 0, 0
        today = local.date().isoformat()
        closed = 0
        rows = await self.db.fetchall(
            "SELECT a.id FROM aspirations a JOIN aspiration_sla s ON s.aspiration_id = a.id"
            " WHERE a.status = 'selesai' AND s.confirm_due IS NOT NULL AND s.confirm_due < ? ORDER BY a.id", (today,))
        for row in rows:
            closed += await self._auto_close(row["id"], now)
        escalated = 0
        rows = await self.db.fetchall(
            "SELECT a.id FROM aspirations a JOIN aspiration_sla s ON s.aspiration_id = a.id"
            " WHERE a.status IN ('baru', 'diterima', 'diproses') AND s.audience != 'pimpinan'"
            " AND s.info_requested_at IS NULL AND ("
            " (s.accepted_at IS NULL AND s.escalated_accept_at IS NULL AND s.accept_due < ?)"
            " OR (s.responded_at IS NULL AND s.escalated_respond_at IS NULL AND s.respond_due < ?)) ORDER BY a.id",
            (today, today))
        for row in rows:
            escalated += await self._escalate(row["id"], now, today)
        await self._escalation_summary(now, local)
        return closed, escalated

    async def _auto_close(self, aspiration_id: int, now: datetime) -> int:
        async with self.db.transaction() as tx:
            aspiration = await self.aspirations.get_in(tx, aspiration_id)
            if aspiration.status != Status.SELESAI.value:
                return 0
            _, _, hid = await self.aspirations.transition(
                tx, aspiration_id, action="tutup_otomatis", actor_id=None, now=now,
                note=plain("officials/history_auto_closed", days=self.departments.confirm_days),
                history_action=HISTORY_LABELS["tutup_otomatis"])
            current = await self.aspirations.get_in(tx, aspiration_id)
            await self._notify_kades(tx, current, "tutup_otomatis", now, actor=None, note=None, key=f"h{hid}")
            await self._refresh_cards(tx, current, now, f"h{hid}")
        return 1

    async def _escalate(self, aspiration_id: int, now: datetime, today: str) -> int:
        stamp = to_iso(now)
        async with self.db.transaction() as tx:
            aspiration = await self.aspirations.get_in(tx, aspiration_id)
            sla = await self._sla(tx, aspiration_id)
            if sla is None:
                return 0
            row = await tx.fetchone("SELECT escalated_accept_at, escalated_respond_at FROM aspiration_sla WHERE"
                                    " aspiration_id = ?", (aspiration_id,))
            assert row is not None  # the service levels just read come from this row
            late = [k for k in sla.overdue(aspiration.status, today)
                    if (k == "terima" and row["escalated_accept_at"] is None)
                    or (k == "tanggapan" and row["escalated_respond_at"] is None)]
            if not late:
                return 0
            await tx.execute(
                "UPDATE aspiration_sla SET escalated_accept_at = CASE WHEN ? THEN ? ELSE escalated_accept_at END,"
                " escalated_respond_at = CASE WHEN ? THEN ? ELSE escalated_respond_at END WHERE aspiration_id = ?",
                ("terima" in late, stamp, "tanggapan" in late, stamp, aspiration_id))
            level = self.departments.service_level(aspiration.category)
            note = plain("officials/history_escalated", late=late, level=level,
                         accept_due=tanggal_pendek(sla.accept_due), respond_due=tanggal_pendek(sla.respond_due))
            hid = await tx.execute(
                "INSERT INTO aspiration_history(aspiration_id, at, actor_id, action, from_status, to_status, note)"
                " VALUES (?, ?, NULL, ?, ?, ?, ?)",
                (aspiration_id, stamp, HISTORY_LABELS["eskalasi"], aspiration.status, aspiration.status, note))
            # the cards show it is late; leadership and the departments hear it in the day's one consolidated
            # escalation (``_escalation_summary``), not one message per aspiration
            await self._refresh_cards(tx, aspiration, now, f"esc{hid}")
            if aspiration.submitter_telegram_id is not None:  # the village hears it once, however often it escalates
                await outbox.enqueue_text(tx, aspiration.submitter_telegram_id,
                                          render("officials/officials_kades_overdue", a=aspiration), now=now,
                                          ref=f"asp:{aspiration.id}:kades",
                                          dedup_key=f"asp:{aspiration.id}:overdue:kades")
            await self._audit(tx, None, "asp:eskalasi", f"{aspiration.ticket}: {note}")
        return 1

    async def _escalation_summary(self, now: datetime, local: datetime) -> int:
        """Once a local day: the escalations made since the previous summary in one message to leadership,
        grouped by department, and one to each department (its officials and inbox group; admins for what has no
        department) with its own. Nothing when there is nothing new; escalations after today's summary wait for
        tomorrow's. Sent on working days: what is escalated on a weekend or holiday goes out on the next working
        morning. Returns how many escalations it reported."""
        if not is_working_day(local.date()):
            return 0
        seen = await self.db.fetchval("SELECT value FROM app_state WHERE key = ?", (_ESCALATION_SEEN,))
        # the first summary (a new or upgraded installation) reports what was escalated since the previous working
        # day ended (on Monday: the weekend's and today's), not older ones already sent as cards
        since = ""
        if seen is None:
            start = add_working_days(local.date(), -1) + timedelta(days=1)
            since = to_iso(datetime.combine(start, time(0, 0), self.tz))
        rows = await self.db.fetchall(
            "SELECT h.id AS hid, h.note, a.id, a.ticket, a.category, d.name AS desa, k.name AS kecamatan,"
            " (SELECT group_concat(department, ',') FROM aspiration_departments WHERE aspiration_id = a.id"
            "  AND active = 1) AS departments"
            " FROM aspiration_history h JOIN aspirations a ON a.id = h.aspiration_id"
            " JOIN desa d ON d.code = a.desa_code JOIN kecamatan k ON k.code = a.kecamatan_code"
            " WHERE h.action = ? AND h.id > ? AND h.at >= ? AND a.confidential = 0 ORDER BY h.id",
            (HISTORY_LABELS["eskalasi"], int(seen or 0), since))
        if not rows:
            return 0
        names = await self.departments.names()
        day = local.date()
        groups: dict[str, list[dict[str, object]]] = {}
        for r in rows:
            item = {"ticket": r["ticket"], "category": r["category"], "desa": r["desa"],
                    "kecamatan": r["kecamatan"], "note": r["note"]}
            for code in (r["departments"] or "").split(",") if r["departments"] else [""]:
                groups.setdefault(code, []).append(item)
        order = sorted(groups, key=lambda c: (-len(groups[c]), c == "", names.get(c, c)))

        def messages(codes: list[str], audience: str) -> list[str]:
            total = len({i["ticket"] for c in codes for i in groups[c]})
            blocks = [Block(render("officials/escalation_summary_header", audience=audience, day=day, total=total,
                                   department=names.get(codes[0], codes[0]) if audience == "opd" else None))]
            for code in codes:
                heading = render("officials/escalation_summary_department", code=code, name=names.get(code, code),
                                 count=len(groups[code])) if audience == "pimpinan" else None
                for index, item in enumerate(groups[code]):
                    text = render("officials/escalation_summary_item", item=item)
                    if heading and index == 0:
                        text = f"\n{heading}\n{text}"
                    blocks.append(Block(text, continued=heading))
            blocks.append(Block("\n" + render("officials/escalation_summary_footer", audience=audience)))
            return split_blocks(blocks)

        period = day.isoformat()
        async with self.db.transaction() as tx:
            if not await claim(tx, ESCALATION_JOB, period, now):
                return 0  # today's went out already: these wait for tomorrow's
            outgoing: list[tuple[int, list[str]]] = [(chat, messages(order, "pimpinan"))
                                                      for chat in await self._leadership_chats(tx)]
            for code in order:
                chats = (await self._department_chats(tx, [code]) if code else [])
                if not chats:  # no department, or none of its people registered yet: the admins stand in
                    chats = [p.telegram_id for p in await self._people(tx, "p.role = 'admin'", ()) if p.telegram_id]
                outgoing += [(chat, messages([code], "opd")) for chat in chats]
            for chat, texts in outgoing:
                for i, text in enumerate(texts):
                    await outbox.enqueue_text(tx, chat, text, now=now, ref=f"escalation:{period}",
                                              dedup_key=f"escalation:{period}:{chat}:{i}")
            await tx.execute("INSERT INTO app_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET"
                             " value = excluded.value", (_ESCALATION_SEEN, str(max(r["hid"] for r in rows))))
        log.info("escalation summary %s: %s escalations to %s chats", period, len(rows), len(outgoing))
        return len(rows)


__all__ = [
    "AUDIENCE_ADMINS", "AUDIENCE_LEADERSHIP", "BUTTON_LABELS", "CONFIRM_NO", "CONFIRM_YES", "InvalidText",
    "OfficialsService", "Outcome", "PendingInput", "card_buttons",
]
