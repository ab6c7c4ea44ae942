"""The broadcast engine: one message to many chats, through the persistent outbox.

A broadcast is a row in ``broadcasts`` and one outbox row per recipient carrying its ``broadcast_id``, all written in
ONE transaction with a per-recipient ``dedup_key``: if the bot dies halfway through delivering, the rows still
pending are sent after the restart and nobody is queued twice. People who blocked the bot are left out (and
counted). Delivery itself — pacing within Telegram's limits, 429/5xx retries, marking chats that blocked the bot —
is the outbox sender's job. Announcements, briefings, feedback requests, commitment notices and an admin's
``/siaran`` all go through ``fan_out``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.clock import to_iso
from bot.core.domain import DomainError, Role
from bot.core.text import clean_text
from bot.core.wording import plain
from bot.messaging import outbox
from bot.people.regions import find_kecamatan
from bot.storage import audit
from bot.storage.database import Database, Row, Transaction

#: Longest /siaran text an admin may write (Telegram's limit is 4096 after the header is added).
MAX_SIARAN_LENGTH = 3500


@dataclass(frozen=True)
class Recipient:
    person_id: int | None
    telegram_id: int
    role: str
    name: str = ""
    desa_code: str | None = None
    kecamatan_code: str | None = None
    department: str | None = None
    blocked: bool = False


@dataclass(frozen=True)
class Audience:
    """Who a /siaran goes to: everyone, one kecamatan (its kepala desa and camat), or one role."""

    kind: str  # semua | kecamatan | peran
    value: str = ""
    label: str = "Semua pengguna"


@dataclass(frozen=True)
class Report:
    id: int
    kind: str
    audience: str
    text: str
    created_at: str
    created_by: int | None
    recipients: int
    sent: int
    failed: int
    pending: int
    blocked: int
    skipped_blocked: int

    @property
    def done(self) -> bool:
        return self.pending == 0

    @property
    def blocked_total(self) -> int:
        return self.blocked + self.skipped_blocked


#: What one recipient gets: (text, reply_markup or None); or several messages for long texts.
Message = tuple[str, Mapping[str, Any] | None]
MessageFor = Callable[[Recipient], Message | Sequence[Message]]

_PEOPLE = (
    "SELECT p.id, p.telegram_id, p.role, p.name, p.desa_code, COALESCE(p.kecamatan_code, d.kecamatan_code)"
    " AS kecamatan_code, p.department, p.blocked_bot_at FROM people p LEFT JOIN desa d ON d.code = p.desa_code"
    " WHERE p.active = 1 AND p.telegram_id IS NOT NULL"
)


def recipient_from_row(row: Row) -> Recipient:
    return Recipient(row["id"], row["telegram_id"], row["role"], row["name"] or "", row["desa_code"],
                     row["kecamatan_code"], row["department"], row["blocked_bot_at"] is not None)


async def people(tx: Transaction | Database, where: str = "1 = 1", params: Sequence[Any] = ()) -> list[Recipient]:
    """Registered, active people matching an SQL condition on ``p`` (people) and ``d`` (their desa)."""
    rows = await tx.fetchall(f"{_PEOPLE} AND ({where}) ORDER BY p.id", params)
    return [recipient_from_row(r) for r in rows]


async def kecamatan_audience(tx: Transaction | Database, kecamatan_code: str) -> list[Recipient]:
    """Every registered kepala desa of a kecamatan's villages and its camat."""
    return await people(
        tx, "(p.role = 'kepala_desa' AND d.kecamatan_code = ?) OR (p.role = 'camat' AND p.kecamatan_code = ?)",
        (kecamatan_code, kecamatan_code),
    )


async def audience_recipients(tx: Transaction | Database, audience: Audience) -> list[Recipient]:
    if audience.kind == "semua":
        return await people(tx)
    if audience.kind == "kecamatan":
        return await kecamatan_audience(tx, audience.value)
    if audience.kind == "peran":
        return await people(tx, "p.role = ?", (audience.value,))
    raise DomainError("visits/sasaran_siaran_tidak_dikenal")


async def resolve_audience(db: Database, kind: str, value: str = "") -> Audience:
    """An Audience from what an admin chose; raises DomainError with the reason in Indonesian."""
    if kind == "semua":
        return Audience("semua", "", "Semua pengguna terdaftar")
    if kind == "kecamatan":
        found = await find_kecamatan(db, value)
        if not found:
            raise DomainError("visits/kecamatan_tidak_ditemukan_2", value=value.strip()[:60])
        if len(found) > 1:
            names = ", ".join(k.name for k in found[:8])
            raise DomainError("visits/cocok_beberapa_kecamatan_tulis_2", value=value.strip()[:60], names=names)
        return Audience("kecamatan", found[0].code, plain("visits/log_audience_kecamatan", kecamatan=found[0].name))
    if kind == "peran":
        try:
            role = Role(value)
        except ValueError:
            raise DomainError("visits/peran_tidak_dikenal", value=value) from None
        return Audience("peran", role.value, f"Semua {role.label}")
    raise DomainError("visits/sasaran_siaran_tidak_dikenal")


async def count_audience(db: Database, audience: Audience) -> tuple[int, int]:
    """(reachable, blocked) people in an audience, for the confirmation before sending."""
    everyone = await audience_recipients(db, audience)
    blocked = sum(1 for r in everyone if r.blocked)
    return len(everyone) - blocked, blocked


async def fan_out(
    tx: Transaction,
    *,
    kind: str,
    audience: str,
    text: str,
    recipients: Iterable[Recipient],
    message_for: MessageFor,
    now: datetime,
    ref: str | None = None,
    dedup_prefix: str | None = None,
    created_by: int | None = None,
    request_key: str | None = None,
) -> int:
    """Create a broadcast and queue its message for every recipient, inside the caller's transaction.

    Each recipient is queued at most once (by chat) with dedup key ``<dedup_prefix>:<chat>`` (default
    ``bcast:<id>:<chat>``); people who blocked the bot are skipped and counted. Returns the broadcast id.
    """
    broadcast_id = await tx.execute(
        "INSERT INTO broadcasts(kind, audience, text, ref, created_by, request_key, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (kind, audience, text, ref, created_by, request_key, to_iso(now)),
    )
    prefix = dedup_prefix or f"bcast:{broadcast_id}"
    queued = skipped = 0
    seen: set[int] = set()
    for recipient in recipients:
        if recipient.telegram_id in seen:
            continue
        seen.add(recipient.telegram_id)
        if recipient.blocked:
            skipped += 1
            continue
        produced = message_for(recipient)
        messages: Sequence[Message] = [produced] if isinstance(produced, tuple) else produced
        for part, (body, markup) in enumerate(messages):
            key = f"{prefix}:{recipient.telegram_id}" + (f":{part}" if part else "")
            row = await outbox.enqueue_text(tx, recipient.telegram_id, body, now=now, reply_markup=markup,
                                            dedup_key=key, broadcast_id=broadcast_id, ref=ref)
            if row:
                queued += 1
    await tx.execute("UPDATE broadcasts SET recipients = ?, skipped_blocked = ? WHERE id = ?",
                     (queued, skipped, broadcast_id))
    return broadcast_id


async def existing_request(db: Database, request_key: str) -> int | None:
    found: int | None = await db.fetchval("SELECT id FROM broadcasts WHERE request_key = ?", (request_key,))
    return found


async def report(db: Database, broadcast_id: int) -> Report | None:
    row = await db.fetchone("SELECT * FROM broadcasts WHERE id = ?", (broadcast_id,))
    if row is None:
        return None
    counts = await outbox.counts(db, broadcast_id)
    return Report(
        id=row["id"], kind=row["kind"], audience=row["audience"], text=row["text"], created_at=row["created_at"],
        created_by=row["created_by"], recipients=row["recipients"], sent=counts["sent"], failed=counts["failed"],
        pending=counts["pending"] + counts["sending"], blocked=counts["blocked"],
        skipped_blocked=row["skipped_blocked"],
    )


async def recent_reports(db: Database, *, limit: int = 10, kind: str | None = None) -> list[Report]:
    sql, params = "SELECT id FROM broadcasts", []
    if kind:
        sql += " WHERE kind = ?"
        params.append(kind)
    rows = await db.fetchall(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
    reports = [await report(db, r["id"]) for r in rows]
    return [r for r in reports if r is not None]


async def send_siaran(db: Database, *, audience: Audience, text: str, sender_telegram_id: int | None,
                      sender_name: str, now: datetime, request_key: str) -> tuple[int, bool]:
    """An admin's /siaran: queue ``text`` for everyone in ``audience``. Confirming the same draft twice sends it
    once. Returns (broadcast id, created)."""
    from bot.messaging.templates import render

    body = clean_text(text)
    if not body:
        raise DomainError("visits/pesan_siaran_kosong")
    if len(body) > MAX_SIARAN_LENGTH:
        raise DomainError("visits/pesan_siaran_terlalu_panjang", length=len(body), max_siaran_length=MAX_SIARAN_LENGTH)
    existing = await existing_request(db, request_key)
    if existing:
        return existing, False
    message = render("visits/siaran_message", text=body, sender=sender_name)
    async with db.transaction() as tx:
        again = await tx.fetchval("SELECT id FROM broadcasts WHERE request_key = ?", (request_key,))
        if again:
            return again, False
        recipients = await audience_recipients(tx, audience)
        broadcast_id = await fan_out(
            tx, kind="siaran", audience=audience.label, text=body, recipients=recipients,
            message_for=lambda r: (message, None), now=now, ref="siaran", created_by=sender_telegram_id,
            request_key=request_key)
        await audit.record(tx, sender_telegram_id, "siaran", f"{broadcast_id} {audience.kind} {audience.value}".strip(),
                           now=now)
    return broadcast_id, True
