"""Aspirations and the outbox as services: tickets, visibility, escaping, and delivery under failures."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.aspirations import notifications
from bot.aspirations.service import AspirationService, Attachment, Draft, validate_description
from bot.core.clock import FakeClock
from bot.core.domain import DomainError, NotFound
from bot.messaging import outbox
from bot.messaging.outbox import ChatUnreachable, OutboxSender, RetryLater, TransientError
from bot.messaging.templates import render, split_message
from bot.people import roster
from bot.storage.database import Database

TZ = ZoneInfo("Asia/Jakarta")


async def _kades(db: Database, clock: FakeClock, tg: int, desa: str) -> roster.Person:
    inv = await roster.create_invitation(db, clock, role="kepala_desa", desa=desa)
    return await roster.redeem_invitation(db, clock, inv.code, tg, f"Kades {tg}")


async def _camat(db: Database, clock: FakeClock, tg: int, kec: str) -> roster.Person:
    inv = await roster.create_invitation(db, clock, role="camat", kecamatan=kec)
    return await roster.redeem_invitation(db, clock, inv.code, tg, f"Camat {tg}")


@pytest.fixture
def service(db: Database, clock: FakeClock) -> AspirationService:
    svc = AspirationService(db, clock, TZ)
    svc.submit_hooks.append(notifications.copy_to_camat)
    return svc


async def test_ticket_numbers_count_per_year(db: Database, clock: FakeClock, service: AspirationService) -> None:
    kades = await _kades(db, clock, 10, "35.13.02.2001")
    tickets = []
    for i in range(3):
        draft = Draft(category="infrastruktur", description=f"Jalan desa rusak parah nomor {i}")
        asp, created = await service.submit(kades, draft, f"k{i}")
        assert created
        tickets.append(asp.ticket)
    assert tickets == ["ASP-2026-00001", "ASP-2026-00002", "ASP-2026-00003"]


async def test_same_confirmation_stores_once(db: Database, clock: FakeClock, service: AspirationService) -> None:
    kades = await _kades(db, clock, 10, "35.13.02.2001")
    draft = Draft(category="kesehatan", description="Banyak balita stunting di dusun Krajan",
                  attachments=[Attachment("photo", "f1", "u1"), Attachment("location", latitude=-7.9,
                                                                             longitude=113.2)])
    first, created1 = await service.submit(kades, draft, "same")
    second, created2 = await service.submit(kades, draft, "same")
    assert created1 and not created2 and first.id == second.id
    assert await db.fetchval("SELECT COUNT(*) FROM aspirations") == 1
    assert len(first.photos) == 1 and first.location is not None and first.location.latitude == -7.9


async def test_description_limits() -> None:
    with pytest.raises(DomainError, match="terlalu pendek"):
        validate_description("rusak", 2000)
    with pytest.raises(DomainError, match="terlalu panjang: 2001 karakter, batasnya 2000"):
        validate_description("a" * 2001, 2000)
    assert validate_description("Jalan\u200b rusak\x00 parah di dusun", 2000) == "Jalan rusak parah di dusun"


async def test_camat_sees_only_copies_and_never_confidential(
    db: Database, clock: FakeClock, service: AspirationService
) -> None:
    kades = await _kades(db, clock, 10, "35.13.02.2001")  # Ledokombo, Kec. Sumber
    camat = await _camat(db, clock, 20, "Sumber")
    other_camat = await _camat(db, clock, 21, "Tiris")
    plain, _ = await service.submit(kades, Draft(category="infrastruktur", description="Jembatan putus total"), "a")
    copied, _ = await service.submit(
        kades, Draft(category="infrastruktur", description="Jalan makadam rusak", copy_to_camat=True), "b")
    secret, _ = await service.submit(
        kades, Draft(category="kinerja_kecamatan", description="Camat minta uang untuk rekomendasi",
                     copy_to_camat=True), "c")
    assert not service.can_view(camat, plain)
    assert service.can_view(camat, copied)
    assert not service.can_view(other_camat, copied)
    assert secret.confidential and not secret.copy_to_camat
    assert not service.can_view(camat, secret)
    assert service.can_view(kades, secret)
    assert [a.ticket for a in await service.list_for(camat)] == [copied.ticket]
    with pytest.raises(NotFound):
        await service.viewable(camat, plain.ticket)
    # exactly one copy was queued, to the right camat, for the right aspiration
    rows = await db.fetchall("SELECT chat_id, params FROM outbox WHERE method = 'sendMessage' AND ref LIKE 'asp:%'")
    assert [(r["chat_id"], copied.ticket in json.loads(r["params"])["text"]) for r in rows] == [(20, True)]


def test_user_text_is_escaped_in_templates() -> None:
    text = render("aspirations/camat_copy", aspiration=type("A", (), {
        "ticket": "ASP-2026-00001", "desa_name": "<b>Desa</b>", "kecamatan_name": "Sumber",
        "category": "lainnya", "description": "<b>tebal</b> </a> & {{ x }}", "voices": []})())
    assert "&lt;b&gt;tebal&lt;/b&gt; &lt;/a&gt; &amp; {{ x }}" in text
    assert "<b>Desa</b>" not in text


def test_split_message_never_splits_items() -> None:
    items = [f"<b>Item {i}</b> " + "x" * 300 for i in range(40)]
    parts = split_message(items, limit=4096)
    assert len(parts) > 1
    assert all(len(p) <= 4096 for p in parts)
    assert sum(p.count("<b>Item") for p in parts) == 40
    assert all(p.count("<b>") == p.count("</b>") for p in parts)


class FlakyTransport:
    """Answers like Telegram would: scripted failures first, then success."""

    def __init__(self, script: Mapping[int, list[Exception]] | None = None) -> None:
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.delivered: list[tuple[int, str]] = []
        self.attempts = 0

    async def send(self, chat_id: int, method: str, params: Mapping[str, Any], upload: bytes | None,
                   upload_name: str | None) -> int | None:
        self.attempts += 1
        failures = self.script.get(chat_id)
        if failures:
            raise failures.pop(0)
        self.delivered.append((chat_id, params.get("text", "")))
        return len(self.delivered)


async def _queue(db: Database, clock: FakeClock, chat_ids: list[int], text: str = "halo") -> None:
    async with db.transaction() as tx:
        for chat_id in chat_ids:
            await outbox.enqueue_text(tx, chat_id, f"{text} {chat_id}", now=clock.now())


async def test_outbox_retries_429_and_5xx_then_delivers(db: Database, clock: FakeClock) -> None:
    transport = FlakyTransport({1: [RetryLater(0.2)], 2: [TransientError("502 Bad Gateway"),
                                                          TransientError("timeout")]})
    sender = OutboxSender(db, transport, chat_interval=0.0, rate=1000)
    await _queue(db, clock, [1, 2, 3])
    sender.start()
    try:
        await sender.drain(timeout=8)
    finally:
        await sender.stop()
    assert sorted(c for c, _ in transport.delivered) == [1, 2, 3]
    assert (await outbox.counts(db))["sent"] == 3
    assert transport.attempts == 6


async def test_outbox_marks_blocked_users_and_skips_them(db: Database, clock: FakeClock) -> None:
    kades = await _kades(db, clock, 7, "35.13.02.2001")
    transport = FlakyTransport({7: [ChatUnreachable("Forbidden: bot was blocked by the user")]})
    sender = OutboxSender(db, transport, chat_interval=0.0, rate=1000)
    await _queue(db, clock, [7, 7, 8])
    sender.start()
    try:
        await sender.drain(timeout=5)
    finally:
        await sender.stop()
    assert [c for c, _ in transport.delivered] == [8]
    assert await db.fetchval("SELECT blocked_bot_at IS NOT NULL FROM people WHERE id = ?", (kades.id,)) == 1
    assert (await outbox.counts(db))["blocked"] == 2


async def test_outbox_paces_each_private_chat(db: Database, clock: FakeClock) -> None:
    transport = FlakyTransport()
    sender = OutboxSender(db, transport, chat_interval=0.25, rate=1000)
    times: list[float] = []
    original = transport.send

    async def timed(*args: Any) -> int | None:
        times.append(asyncio.get_running_loop().time())
        return await original(*args)

    transport.send = timed
    await _queue(db, clock, [5, 5, 5])
    sender.start()
    try:
        await sender.drain(timeout=5)
    finally:
        await sender.stop()
    assert [t for _, t in transport.delivered] == ["halo 5", "halo 5", "halo 5"]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert all(g >= 0.24 for g in gaps), gaps


async def test_pending_messages_survive_a_restart(db: Database, clock: FakeClock) -> None:
    await _queue(db, clock, [1, 2])
    # a crash left one row mid-send
    await db.execute("UPDATE outbox SET status = 'sending' WHERE chat_id = 1")
    transport = FlakyTransport()
    sender = OutboxSender(db, transport, chat_interval=0.0, rate=1000)
    assert await sender.recover() == 1
    sender.start()
    try:
        await sender.drain(timeout=5)
    finally:
        await sender.stop()
    assert sorted(c for c, _ in transport.delivered) == [1, 2]


async def test_dedup_key_queues_once(db: Database, clock: FakeClock) -> None:
    for _ in range(2):
        async with db.transaction() as tx:
            await outbox.enqueue_text(tx, 1, "pengumuman", now=clock.now(), dedup_key="visit:1:h-7:1")
    assert await db.fetchval("SELECT COUNT(*) FROM outbox") == 1
