"""Broadcast: one announcement to the 330 villages of Kabupaten Probolinggo and to the 8,494 of Jawa Timur, through
the persistent outbox with the real pacing (30 messages a second overall, one a second per chat), the real
``TelegramTransport`` and a PTB bot carrying the same ``AIORateLimiter(max_retries=0)`` as the running Sambang.

The announcement goes through the broadcast engine (``/siaran`` to every kepala desa, ``queue_announcement``); the
application's own Bot and an ``OutboxSender`` with the configured pacing deliver it. The fake server counts every
send against Telegram's limits (``violations``).
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fake_telegram import FakeTelegram

from .common import OUT, TOKEN, Figures, cpu_seconds, log

FIRST_CHAT = 60_000_000
PROBOLINGGO = "35.13"
TEXT = ("<b>Pengumuman Bupati</b>\nBupati akan berkantor di Kecamatan Sumber pada Senin, 12 Januari 2026 pukul"
        " 08.00 WIB di Kantor Kecamatan Sumber. Kepala desa diundang menyampaikan aspirasi desanya.")


@dataclass
class BroadcastResult:
    recipients: int
    sent: int
    elapsed: float  # first send to last send, as the server saw them
    wall: float  # queueing to drained
    violations: Counter[str]
    duplicates: int
    missing: int
    failed_rows: int
    cpu: float
    path: str

    @property
    def per_second(self) -> float:
        return (self.sent - 1) / self.elapsed if self.elapsed > 0 and self.sent > 1 else 0.0


async def prepare(db_path: Path, wilayah: str) -> list[int]:
    """A database of ``wilayah`` with one registered kepala desa in every village (bulk, not via the bot)."""
    from bot.people.regions import load_regions
    from bot.storage.database import Database

    db = await Database.open(db_path)
    try:
        await load_regions(db, wilayah)
        desa = [r["code"] for r in await db.fetchall("SELECT code FROM desa ORDER BY code")]
        stamp = "2026-01-05T01:00:00.000000Z"
        async with db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO people(telegram_id, name, role, desa_code, created_at, updated_at)"
                " VALUES (?, ?, 'kepala_desa', ?, ?, ?)",
                [(FIRST_CHAT + i, f"Kades {i}", code, stamp, stamp) for i, code in enumerate(desa)])
        rows = await db.fetchall("SELECT telegram_id FROM people WHERE role = 'kepala_desa' ORDER BY id")
    finally:
        await db.close()
    return [r["telegram_id"] for r in rows]


async def queue_announcement(services: Any, chats: list[int]) -> tuple[int, str]:
    """Queue the announcement for every kepala desa through the broadcast engine (``/siaran`` to the role
    kepala_desa). Returns (broadcast id, which path)."""
    from bot.visits import broadcast as engine

    audience = await engine.resolve_audience(services.db, "peran", "kepala_desa")
    broadcast_id, _ = await engine.send_siaran(
        services.db, audience=audience, text=TEXT, sender_telegram_id=None, sender_name="Admin Kabupaten",
        now=services.clock.now(), request_key=f"bench:{len(chats)}")
    return broadcast_id, "broadcast_engine"


async def broadcast(server: FakeTelegram, db_path: Path, wilayah: str, chats: list[int]) -> BroadcastResult:
    """The bot as ``sambang run`` builds it (its Application's Bot with the rate limiter, the outbox sender with
    the configured pacing), without polling: queue the announcement, deliver it, check what the server got."""
    from bot.app import build_application, open_services
    from bot.config import Config
    from bot.messaging.outbox import OutboxSender
    from bot.telegram.transport import TelegramTransport

    config = Config(token=TOKEN, db_path=db_path, base_url=server.base_url, base_file_url=server.base_file_url,
                    wilayah=wilayah)
    services = await open_services(config)
    app = build_application(services)
    await app.initialize()
    sender = OutboxSender(services.db, TelegramTransport(app.bot), chat_interval=config.outbox_chat_interval,
                          group_interval=config.outbox_group_interval, rate=config.outbox_rate)
    mark, first_violation = server.mark(), len(server.violations)
    cpu0 = cpu_seconds()
    wall0 = time.monotonic()
    try:
        await sender.recover()
        broadcast_id, path = await queue_announcement(services, chats)
        log(f"queued through {path}")
        sender.start()
        await sender.drain(timeout=3600)
        await sender.stop()
    finally:
        await app.shutdown()
        await services.db.close()
    wall = time.monotonic() - wall0
    cpu = cpu_seconds() - cpu0
    wanted = set(chats)
    sends = [c for c in server.calls[mark:] if c.method == "sendMessage" and c.ok and c.chat_id in wanted]
    per_chat = Counter(c.chat_id for c in sends)
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        not_sent = con.execute("SELECT COUNT(*) FROM outbox WHERE broadcast_id = ? AND status <> 'sent'",
                               (broadcast_id,)).fetchone()[0]
    finally:
        con.close()
    return BroadcastResult(
        recipients=len(chats),
        sent=len(sends),
        elapsed=(sends[-1].at - sends[0].at) if len(sends) > 1 else 0.0,
        wall=wall,
        violations=Counter(v.kind for v in server.violations[first_violation:]),
        duplicates=sum(n - 1 for n in per_chat.values() if n > 1),
        missing=len(wanted - set(per_chat)),
        failed_rows=not_sent,
        cpu=cpu,
        path=path,
    )


async def run_broadcast(figures: Figures, *, quick: bool) -> None:
    work = OUT / "broadcast"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    areas = [("330", PROBOLINGGO)] + ([] if quick else [("8494", "35")])
    server = FakeTelegram(token=TOKEN)
    await server.start()
    try:
        for label, wilayah in areas:
            db_path = work / f"sambang-{wilayah}.db"
            chats = await prepare(db_path, wilayah)
            log(f"broadcast to the {len(chats)} kepala desa of {wilayah} (about {len(chats) / 30:.0f}s at 30/s)")
            result = await broadcast(server, db_path, wilayah, chats)
            prefix = f"broadcast.{label}"
            figures.add(f"{prefix}.recipients", result.recipients)
            figures.add(f"{prefix}.messages_per_s", result.per_second, "msg/s (limit 30)")
            figures.add(f"{prefix}.ratio_of_limit", result.per_second / 30)
            figures.add(f"{prefix}.seconds", result.wall, "s")
            figures.add(f"{prefix}.violations", sum(result.violations.values()))
            for kind, count in sorted(result.violations.items()):
                figures.add(f"{prefix}.violations.{kind}", count)
            figures.add(f"{prefix}.lost", result.missing + result.failed_rows)
            figures.add(f"{prefix}.duplicates", result.duplicates)
            figures.add(f"{prefix}.bench_cpu_pct", 100 * result.cpu / max(result.wall, 1e-9), "%")
            figures.add(f"{prefix}.path", result.path)
            await asyncio.sleep(1.1)  # let Telegram's one-second window pass between the two broadcasts
    finally:
        await server.stop()
