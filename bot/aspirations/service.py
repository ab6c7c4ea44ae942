"""Aspirations: drafts while a kepala desa writes, submission with a ticket number, and who may see what.

A submission, its attachments, its first history entry and every notification it causes commit in one transaction.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.aspirations import audience, similar
from bot.core.clock import Clock, to_iso
from bot.core.domain import (
    CATEGORY_BY_CODE,
    CLOSED_STATUSES,
    OPEN_STATUSES,
    DomainError,
    NotAllowed,
    NotFound,
    Role,
    Status,
)
from bot.core.text import clean_text
from bot.messaging import outbox
from bot.people.roster import Person
from bot.storage.database import Database, Row, Transaction
from bot.storage.drafts import DraftTable

MAX_PHOTOS = 5
MAX_DOCUMENTS = 3
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # what a bot can download from Telegram
#: Videos and video notes ("video bulat") per aspiration, and their size: what a bot can download from Telegram.
MAX_VIDEOS = 2
MAX_VIDEO_BYTES = 20 * 1024 * 1024
#: Voice notes per aspiration (at the description step, or with the attachments).
MAX_VOICES = 3
MIN_DESCRIPTION = 10
TICKET_RE = re.compile(r"^ASP-(\d{4})-(\d{5,})$", re.IGNORECASE)
#: What people type for a ticket: the full number, a short one ("ASP-2026-7") or only the sequence number ("7").
_TICKET_INPUT_RE = re.compile(r"^#?(?:ASP-(\d{4})-)?(\d{1,9})$", re.IGNORECASE)

def normalise_ticket(text: str, year: int) -> str | None:
    """The ticket number ``text`` means, written in full: "ASP-2026-00007" for "asp-2026-00007", "ASP-2026-7"
    or a bare "7" (a sequence number of ``year``, the current year); None when it is not a ticket number."""
    match = _TICKET_INPUT_RE.match(text.strip())
    if match is None:
        return None
    return f"ASP-{match.group(1) or year}-{int(match.group(2)):05d}"


#: Documents a kepala desa may attach, by extension, each with the MIME types clients send for it. Executables,
#: scripts, archives and macro-enabled Office files (.docm, .xlsm, .pptm) are not among them.
DOCUMENT_TYPES: dict[str, frozenset[str]] = {
    ext: frozenset(mimes) for ext, mimes in {
        "pdf": ("application/pdf",),
        "jpg": ("image/jpeg", "image/jpg", "image/pjpeg"),
        "jpeg": ("image/jpeg", "image/jpg", "image/pjpeg"),
        "png": ("image/png",),
        "webp": ("image/webp",),
        "heic": ("image/heic", "image/heif"),
        "heif": ("image/heif", "image/heic"),
        "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
        "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",),
        "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation",),
        "doc": ("application/msword",),
        "xls": ("application/vnd.ms-excel",),
        "ppt": ("application/vnd.ms-powerpoint",),
        "odt": ("application/vnd.oasis.opendocument.text",),
        "ods": ("application/vnd.oasis.opendocument.spreadsheet",),
        "odp": ("application/vnd.oasis.opendocument.presentation",),
        "txt": ("text/plain",),
        "csv": ("text/csv", "text/plain", "text/comma-separated-values", "text/x-csv", "application/csv",
                "application/vnd.ms-excel"),
    }.items()
}


def document_accepted(file_name: str | None, mime_type: str | None) -> bool:
    """True if both the extension and the MIME type are of a document type in ``DOCUMENT_TYPES``."""
    name = (file_name or "").strip().lower()
    ext = name.rsplit(".", 1)[1] if "." in name else ""
    mime = (mime_type or "").split(";")[0].strip().lower()
    return mime in DOCUMENT_TYPES.get(ext, ())


@dataclass
class Attachment:
    kind: str  # photo | document | location
    file_id: str | None = None
    file_unique_id: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    #: What the kepala desa wrote under the photo or document, if anything.
    caption: str | None = None
    #: Length in seconds of a voice note or video.
    duration: int | None = None


class _WithAttachments:
    """Photos, documents, voice notes, videos and the location among ``attachments``."""

    attachments: Any
    description: Any

    @property
    def photos(self) -> list[Attachment]:
        return [a for a in self.attachments if a.kind == "photo"]

    @property
    def documents(self) -> list[Attachment]:
        return [a for a in self.attachments if a.kind == "document"]

    @property
    def location(self) -> Attachment | None:
        return next((a for a in self.attachments if a.kind == "location"), None)

    @property
    def voices(self) -> list[Attachment]:
        """Voice notes: they may tell the aspiration instead of (or besides) the written description."""
        return [a for a in self.attachments if a.kind == "voice"]

    @property
    def videos(self) -> list[Attachment]:
        """Videos and video notes."""
        return [a for a in self.attachments if a.kind in ("video", "video_note")]

    @property
    def described(self) -> bool:
        """Told in writing or by voice."""
        return bool(self.description) or bool(self.voices)


@dataclass
class Draft(_WithAttachments):
    """What a kepala desa has written so far; saved to SQLite at every step."""

    category: str | None = None
    suggested: str | None = None
    description: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    copy_to_camat: bool = False
    visit_id: int | None = None
    #: Identifies this draft's submission: confirming it twice stores one aspiration.
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    #: The message id of the summary shown last, so that its buttons can be taken off when it is left.
    summary_message: int | None = None

    def remove_photo(self, file_unique_id: str) -> int | None:
        """Remove the photo with this unique id; its number (1-based) among the photos, or None if not there."""
        for number, photo in enumerate(self.photos, start=1):
            if photo.file_unique_id == file_unique_id:
                self.attachments.remove(photo)
                return number
        return None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Draft:
        data = json.loads(text)
        data["attachments"] = [Attachment(**a) for a in data.get("attachments", [])]
        return cls(**data)


@dataclass(frozen=True)
class Aspiration(_WithAttachments):
    id: int
    ticket: str
    desa_code: str
    desa_name: str
    kecamatan_code: str
    kecamatan_name: str
    submitter_id: int
    submitter_name: str
    submitter_telegram_id: int | None
    category: str
    description: str
    status: str
    copy_to_camat: bool
    confidential: bool
    department: str | None
    visit_id: int | None
    created_at: str
    updated_at: str
    closed_at: str | None
    attachments: tuple[Attachment, ...] = ()
    #: Codes of the departments responsible now (routing; several for e.g. Pelayanan Publik), in assignment order.
    departments: tuple[str, ...] = ()
    #: Departments that were responsible before a redirect (they may still read it).
    former_departments: tuple[str, ...] = ()
    #: The main aspiration this one was merged into as a duplicate (None: not a duplicate).
    duplicate_of: int | None = None
    #: People ids of the kepala desa whose aspirations were merged into this one: they follow it.
    follower_ids: tuple[int, ...] = ()

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES


@dataclass(frozen=True)
class HistoryEntry:
    at: str
    action: str
    from_status: str | None
    to_status: str | None
    note: str | None
    actor_name: str | None
    actor_role: str | None


#: Called inside the submission transaction: forwards, copies, announcements.
SubmitHook = Callable[[Transaction, Aspiration, datetime], Awaitable[None]]

#: What officials (and leadership, admins) can do to an open aspiration: action -> (statuses it may start from,
#: the status it leads to; None keeps the status). A redirect hands it to another department as new.
_WORKING = frozenset({Status.BARU, Status.DITERIMA, Status.DIPROSES})
TRANSITIONS: dict[str, tuple[frozenset[Status], Status | None]] = {
    "terima": (frozenset({Status.BARU}), Status.DITERIMA),
    "proses": (frozenset({Status.BARU, Status.DITERIMA}), Status.DIPROSES),
    "selesai": (_WORKING, Status.SELESAI),
    "tolak": (_WORKING, Status.DITOLAK),
    "tdt": (_WORKING, Status.TIDAK_DAPAT),
    "balas": (frozenset(OPEN_STATUSES), None),
    "alihkan": (_WORKING, Status.BARU),
    # one of several departments steps aside ("bukan kewenangan kami"): the others carry on, the status stays
    "lepas": (_WORKING, None),
    # a question to the village ("Minta info"): the status stays, the service-level clock stops until the answer
    "info": (_WORKING, None),
    # merged into another open aspiration about the same problem
    "duplikat": (_WORKING, Status.DUPLIKAT),
    # the kepala desa's answer to "Sudah tertangani?", and the same answer given by silence
    "konfirmasi": (frozenset({Status.SELESAI}), Status.DITUTUP),
    "buka_kembali": (frozenset({Status.SELESAI}), Status.DIPROSES),
    "tutup_otomatis": (frozenset({Status.SELESAI}), Status.DITUTUP),
}

_SELECT = (
    "SELECT a.*, d.name AS desa_name, k.name AS kecamatan_name, p.name AS submitter_name,"
    " CASE WHEN p.active = 1 THEN p.telegram_id END AS submitter_telegram_id,"  # a deactivated submitter hears no more
    " (SELECT group_concat(department, ',') FROM (SELECT department FROM aspiration_departments"
    "   WHERE aspiration_id = a.id AND active = 1 ORDER BY assigned_at, rowid)) AS dept_codes,"
    " (SELECT group_concat(department, ',') FROM aspiration_departments"
    "   WHERE aspiration_id = a.id AND active = 0) AS former_dept_codes,"
    " (SELECT group_concat(f.submitter_id, ',') FROM aspirations f WHERE f.duplicate_of = a.id) AS follower_codes"
    " FROM aspirations a"
    " JOIN desa d ON d.code = a.desa_code JOIN kecamatan k ON k.code = a.kecamatan_code"
    " JOIN people p ON p.id = a.submitter_id"
)


def _aspiration(row: Row, attachments: tuple[Attachment, ...] = ()) -> Aspiration:
    return Aspiration(
        id=row["id"], ticket=row["ticket"], desa_code=row["desa_code"], desa_name=row["desa_name"],
        kecamatan_code=row["kecamatan_code"], kecamatan_name=row["kecamatan_name"],
        submitter_id=row["submitter_id"], submitter_name=row["submitter_name"],
        submitter_telegram_id=row["submitter_telegram_id"], category=row["category"],
        description=row["description"], status=row["status"], copy_to_camat=bool(row["copy_to_camat"]),
        confidential=bool(row["confidential"]), department=row["department"], visit_id=row["visit_id"],
        created_at=row["created_at"], updated_at=row["updated_at"], closed_at=row["closed_at"],
        attachments=attachments,
        departments=tuple(row["dept_codes"].split(",")) if row["dept_codes"] else (),
        former_departments=tuple(row["former_dept_codes"].split(",")) if row["former_dept_codes"] else (),
        duplicate_of=row["duplicate_of"],
        follower_ids=tuple(int(x) for x in row["follower_codes"].split(",")) if row["follower_codes"] else (),
    )


def _attachment(row: Row) -> Attachment:
    return Attachment(row["kind"], row["file_id"], row["file_unique_id"], row["file_name"], row["mime_type"],
                      row["file_size"], row["latitude"], row["longitude"], row["caption"], row["duration"])


def _words(text: str) -> list[str]:
    """Lower-case words of letters and digits (emoji, punctuation, "&" and "dan" dropped)."""
    folded = unicodedata.normalize("NFKD", text).casefold()
    return [w for w in re.findall(r"[^\W_]+", folded) if w != "dan"]


def match_category(text: str) -> str | None:
    """The category a short typed text names ("lingkungan & bencana", "🏥 kesehatan", "infra"), or None.

    Every word typed must begin a word of the category's name (or code), and only one category may fit, so a
    description ("jalan desa rusak parah") never counts as a category choice.
    """
    typed = _words(text)
    if not typed or len(text) > 60 or len("".join(typed)) < 3:
        return None
    fits = []
    for cat in CATEGORY_BY_CODE.values():
        names = set(_words(cat.label)) | set(_words(cat.code.replace("_", " ")))
        if all(any(name.startswith(word) for name in names) for word in typed):
            fits.append(cat.code)
    return fits[0] if len(fits) == 1 else None


def validate_description(text: str, max_length: int) -> str:
    """The cleaned description, or a DomainError telling the kepala desa what to fix."""
    cleaned = clean_text(text)
    if len(cleaned) < MIN_DESCRIPTION:
        raise DomainError(
            "aspirations/uraian_terlalu_pendek_karakter", length=len(cleaned), min_description=MIN_DESCRIPTION
        )
    if len(cleaned) > max_length:
        raise DomainError(
            "aspirations/uraian_terlalu_panjang_karakter", length=len(cleaned), max_length=max_length
        )
    return cleaned


class AspirationService:
    """Stores and reads aspirations; the only place that knows how they sit in SQLite."""

    def __init__(self, db: Database, clock: Clock, tz: ZoneInfo) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz
        self.submit_hooks: list[SubmitHook] = []
        self.drafts = DraftTable(db, clock, "drafts", Draft.from_json)

    # -- drafts -------------------------------------------------------------------------------------------------

    async def load_draft(self, telegram_id: int) -> Draft | None:
        return await self.drafts.load(telegram_id)

    async def save_draft(self, telegram_id: int, draft: Draft) -> None:
        await self.drafts.save(telegram_id, draft)

    async def discard_draft(self, telegram_id: int) -> bool:
        return await self.drafts.discard(telegram_id)

    async def offer_text(self, telegram_id: int, text: str) -> None:
        """Keep text typed outside any flow, for the button that turns it into an aspiration."""
        await self.db.execute(
            "INSERT INTO offered_texts(telegram_id, text, created_at) VALUES (?, ?, ?) ON CONFLICT(telegram_id)"
            " DO UPDATE SET text = excluded.text, created_at = excluded.created_at",
            (telegram_id, text, to_iso(self.clock.now())),
        )

    async def take_offered_text(self, telegram_id: int) -> str | None:
        """The offered text, removed so that it starts one aspiration; None if there is none (any more)."""
        async with self.db.transaction(inline=True) as tx:
            text = await tx.fetchval("SELECT text FROM offered_texts WHERE telegram_id = ?", (telegram_id,))
            await tx.execute("DELETE FROM offered_texts WHERE telegram_id = ?", (telegram_id,))
        return str(text) if text is not None else None

    # -- submission ---------------------------------------------------------------------------------------------

    async def submit(self, person: Person, draft: Draft, submission_key: str,
                     *, summary_message: tuple[int, int] | None = None) -> tuple[Aspiration, bool]:
        """Store the draft as an aspiration with a ticket number; (aspiration, created).

        ``submission_key`` identifies this confirmation (e.g. the button press): pressing it twice stores one
        aspiration. The draft is deleted in the same transaction. ``summary_message`` (chat id, message id) is the
        summary the kepala desa confirmed: its buttons are taken off through the outbox, queued in the same
        transaction, so the receipt (the answer the person waits for) is the only message sent at once.
        """
        if person.role is not Role.KEPALA_DESA or not person.desa_code:
            raise NotAllowed("aspirations/hanya_kepala_desa_terdaftar")
        if draft.category not in CATEGORY_BY_CODE:
            raise DomainError("aspirations/kategori_belum_dipilih")
        if not draft.described:
            raise DomainError("aspirations/uraian_aspirasi_belum_diisi")
        category = CATEGORY_BY_CODE[draft.category]
        existing = await self.db.lookup_val("SELECT id FROM aspirations WHERE submission_key = ?", (submission_key,))
        if existing:
            return await self.get(existing), False
        now = self.clock.now()
        stamp = to_iso(now)
        year = now.astimezone(self.tz).year
        async with self.db.transaction(inline=True) as tx:  # short, and the kepala desa waits for the receipt
            again = await tx.fetchval("SELECT id FROM aspirations WHERE submission_key = ?", (submission_key,))
            if again:
                created = False
                asp_id = again
            else:
                created = True
                kec = await tx.fetchval("SELECT kecamatan_code FROM desa WHERE code = ?", (person.desa_code,))
                await tx.execute(
                    "INSERT INTO ticket_counters(year, last) VALUES (?, 1)"
                    " ON CONFLICT(year) DO UPDATE SET last = last + 1",
                    (year,),
                )
                number = await tx.fetchval("SELECT last FROM ticket_counters WHERE year = ?", (year,))
                ticket = f"ASP-{year}-{number:05d}"
                copy = bool(draft.copy_to_camat) and not category.confidential
                asp_id = await tx.execute(
                    "INSERT INTO aspirations(ticket, desa_code, kecamatan_code, submitter_id, category, description,"
                    " status, copy_to_camat, confidential, visit_id, submission_key, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, 'baru', ?, ?, ?, ?, ?, ?)",
                    (ticket, person.desa_code, kec, person.id, category.code, draft.description or "", int(copy),
                     int(category.confidential), draft.visit_id, submission_key, stamp, stamp),
                )
                await tx.executemany(
                    "INSERT INTO attachments(aspiration_id, position, kind, file_id, file_unique_id, file_name,"
                    " mime_type, file_size, latitude, longitude, caption, duration)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (asp_id, i, a.kind, a.file_id, a.file_unique_id, a.file_name, a.mime_type, a.file_size,
                         a.latitude, a.longitude, a.caption, a.duration)
                        for i, a in enumerate(draft.attachments)
                    ],
                )
                await tx.execute(
                    "INSERT INTO aspiration_history(aspiration_id, at, actor_id, action, from_status, to_status)"
                    " VALUES (?, ?, ?, 'dikirim', NULL, 'baru')",
                    (asp_id, stamp, person.id),
                )
                aspiration = await self._get_in(tx, asp_id)
                for hook in self.submit_hooks:
                    await hook(tx, aspiration, now)
                if summary_message is not None:
                    chat_id, message_id = summary_message
                    await outbox.enqueue(tx, chat_id, "editMessageReplyMarkup",
                                         {"chat_id": chat_id, "message_id": message_id}, now=now,
                                         dedup_key=f"summary-buttons:{asp_id}")
            await tx.execute("DELETE FROM drafts WHERE telegram_id = ?", (person.telegram_id,))
        return await self.get(asp_id), created

    # -- reads --------------------------------------------------------------------------------------------------

    async def _get_in(self, tx: Transaction, aspiration_id: int) -> Aspiration:
        row = await tx.fetchone(_SELECT + " WHERE a.id = ?", (aspiration_id,))
        if row is None:
            raise NotFound("aspirations/aspirasi_tidak_ditemukan")
        atts = await tx.fetchall("SELECT * FROM attachments WHERE aspiration_id = ? ORDER BY position",
                                 (aspiration_id,))
        return _aspiration(row, tuple(_attachment(a) for a in atts))

    async def get(self, aspiration_id: int) -> Aspiration:
        # two reads by primary key and index, on the loop's thread (``lookup_*``): made for nearly every step of an
        # official's or a kepala desa's work on an aspiration
        row = await self.db.lookup_one(_SELECT + " WHERE a.id = ?", (aspiration_id,))
        if row is None:
            raise NotFound("aspirations/aspirasi_tidak_ditemukan")
        atts = await self.db.lookup_all("SELECT * FROM attachments WHERE aspiration_id = ? ORDER BY position",
                                        (aspiration_id,))
        return _aspiration(row, tuple(_attachment(a) for a in atts))

    async def by_ticket(self, ticket: str) -> Aspiration | None:
        row = await self.db.fetchone(_SELECT + " WHERE a.ticket = ?", (ticket.strip().upper(),))
        if row is None:
            return None
        return await self.get(row["id"])

    async def history(self, aspiration_id: int) -> list[HistoryEntry]:
        rows = await self.db.fetchall(
            "SELECT h.*, p.name AS actor_name, p.role AS actor_role FROM aspiration_history h"
            " LEFT JOIN people p ON p.id = h.actor_id WHERE h.aspiration_id = ? ORDER BY h.at, h.id",
            (aspiration_id,),
        )
        return [HistoryEntry(r["at"], r["action"], r["from_status"], r["to_status"], r["note"], r["actor_name"],
                             r["actor_role"]) for r in rows]

    async def list_for(self, person: Person, *, limit: int = 20) -> list[Aspiration]:
        """The newest aspirations a person may see (bot/aspirations/audience.py): what /status lists."""
        where, params = audience.of(person).where()
        rows = await self.db.fetchall(
            _SELECT + f" WHERE {where} ORDER BY a.created_at DESC, a.id DESC LIMIT ?", [*params, limit]
        )
        attached: dict[int, list[Attachment]] = {}
        if rows:  # the list names voice notes and counts attachments: one query for all of them
            marks = ",".join("?" * len(rows))
            for att in await self.db.fetchall(
                f"SELECT * FROM attachments WHERE aspiration_id IN ({marks}) ORDER BY aspiration_id, position",
                [r["id"] for r in rows],
            ):
                attached.setdefault(att["aspiration_id"], []).append(_attachment(att))
        return [_aspiration(r, tuple(attached.get(r["id"], ()))) for r in rows]

    def can_view(self, person: Person, aspiration: Aspiration) -> bool:
        """Whether a person may read an aspiration: the audience rule of bot/aspirations/audience.py."""
        return audience.of(person).sees(aspiration)

    def handles(self, person: Person, aspiration: Aspiration) -> bool:
        """Whether an official's department is responsible for it now. Confidential ones never go to officials."""
        return (
            person.role is Role.PEJABAT and bool(person.department) and not aspiration.confidential
            and person.department in aspiration.departments
        )

    def can_act(self, person: Person, aspiration: Aspiration) -> bool:
        """Who may act on an aspiration: leadership, admins, and officials of a responsible department."""
        if not person.active:
            return False
        if person.role in (Role.ADMIN, Role.PIMPINAN):
            return True
        return self.handles(person, aspiration)

    async def transition(
        self, tx: Transaction, aspiration_id: int, *, action: str, actor_id: int | None, now: datetime,
        note: str | None = None, history_action: str | None = None,
    ) -> tuple[Status, Status | None, int]:
        """Apply ``action`` (see TRANSITIONS) inside ``tx``: check the current status, change it, add a history
        entry. Returns (from, to, history id); raises DomainError (Indonesian) when the status does not allow it."""
        row = await tx.fetchone("SELECT ticket, status FROM aspirations WHERE id = ?", (aspiration_id,))
        if row is None:
            raise NotFound("aspirations/aspirasi_tidak_ditemukan")
        current = Status(row["status"])
        to = check_transition(row["ticket"], current, action)
        stamp = to_iso(now)
        if to is not None:
            closed = to_iso(now) if to in CLOSED_STATUSES else None
            await tx.execute(
                "UPDATE aspirations SET status = ?, updated_at = ?, closed_at = ? WHERE id = ?",
                (to.value, stamp, closed, aspiration_id),
            )
        else:
            await tx.execute("UPDATE aspirations SET updated_at = ? WHERE id = ?", (stamp, aspiration_id))
        history_id = await tx.execute(
            "INSERT INTO aspiration_history(aspiration_id, at, actor_id, action, from_status, to_status, note)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (aspiration_id, stamp, actor_id, history_action or action, current.value,
             (to or current).value, note),
        )
        return current, to, history_id

    async def get_in(self, tx: Transaction, aspiration_id: int) -> Aspiration:
        """The aspiration as this transaction sees it."""
        return await self._get_in(tx, aspiration_id)

    async def viewable(self, person: Person, ticket: str) -> Aspiration:
        """The aspiration behind ``ticket`` if ``person`` may see it; the same answer for missing and forbidden."""
        aspiration = await self.by_ticket(ticket)
        if aspiration is None or not self.can_view(person, aspiration):
            raise NotFound("aspirations/aspirasi_tidak_ditemukan_bukan", ticket=ticket.upper())
        return aspiration

    async def possible_duplicates(self, person: Person, draft: Draft) -> list[similar.PossibleDuplicate]:
        """Before "Kirim": open aspirations of the kecamatan about the same problem (same category, similar
        description) that the kepala desa may be shown (``audience.sees_duplicate_hint``)."""
        who = audience.of(person)
        category = CATEGORY_BY_CODE.get(draft.category or "")
        if who.kind != audience.KEPALA_DESA or not who.kecamatan_code or category is None or category.confidential \
                or not draft.description:
            return []
        return await similar.possible_duplicates(self.db, who, category.code, draft.description)

    async def status_counts(self) -> dict[str, int]:
        rows = await self.db.fetchall("SELECT status, COUNT(*) AS n FROM aspirations GROUP BY status")
        return {r["status"]: r["n"] for r in rows}


def check_transition(ticket: str, status: str, action: str) -> Status | None:
    """The status ``action`` leads to from ``status`` (None: unchanged); DomainError when it does not apply."""
    current = Status(status)
    allowed_from, to = TRANSITIONS[action]
    if current not in allowed_from:
        if current in CLOSED_STATUSES:
            raise DomainError("aspirations/aspirasi_ditutup_tidak_diubah", ticket=ticket, label=current.label)
        raise DomainError("aspirations/aspirasi_sekarang_berstatus_tombol", ticket=ticket, label=current.label)
    return to


def is_open(status: str) -> bool:
    return Status(status) not in CLOSED_STATUSES
