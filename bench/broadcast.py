"""Broadcast: one announcement to the 330 villages of Kabupaten Probolinggo and to the 8,494 of Jawa Timur, through
the persistent outbox with the real pacing (30 messages a second overall, one a second per chat), the real
``TelegramTransport`` and a PTB bot carrying the same ``AIORateLimiter(max_retries=0)`` as the running Sambang.

Until the broadcast engine of issue 4 is merged, rows are queued with ``bot.outbox.enqueue_text`` in one transaction
(what a broadcast service does) and ``OutboxSender`` delivers them; once it is merged, ``queue_announcement`` is the
one function to point at it. The fake server counts every send against Telegram's limits (``violations``).
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

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

    @property
    def per_second(self) -> float:
        return (self.sent - 1) / self.elapsed if self.elapsed > 0 and self.sent > 1 else 0.0


async def prepare(db_path: Path) -> dict[str, list[int]]:
    """A Jawa Timur database with one registered kepala desa in every village (bulk, not via the bot)."""
    from bot.regions import load_regions
    from bot.storage import Database

    db = await Database.open(db_path)
    try:
        await load_regions(db, "35")
        desa = [r["code"] for r in await db.fetchall("SELECT code FROM desa ORDER BY code")]
        stamp = "2026-01-05T01:00:00.000000Z"
        async with db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO people(telegram_id, name, role, desa_code, created_at, updated_at)"
                " VALUES (?, ?, 'kepala_desa', ?, ?, ?)",
                [(FIRST_CHAT + i, f"Kades {i}", code, stamp, stamp) for i, code in enumerate(desa)])
        rows = await db.fetchall("SELECT telegram_id, desa_code FROM people WHERE role = 'kepala_desa' ORDER BY id")
    finally:
        await db.close()
    return {
        "province": [r["telegram_id"] for r in rows],
        "regency": [r["telegram_id"] for r in rows if r["desa_code"].startswith(PROBOLINGGO + ".")],
    }


async def queue_announcement(db: object, chats: list[int], broadcast_id: int) -> None:
    """Queue the announcement for every chat in one transaction, as a broadcast service does."""
    from bot import outbox
    from bot.clock import SystemClock

    now = SystemClock().now()
    async with db.transaction() as tx:  # type: ignore[attr-defined]
        for chat in chats:
            await outbox.enqueue_text(tx, chat, TEXT, now=now, broadcast_id=broadcast_id,
                                      dedup_key=f"bench:{broadcast_id}:{chat}", ref=f"bench:{broadcast_id}")


async def broadcast(server: FakeTelegram, db_path: Path, chats: list[int], broadcast_id: int) -> BroadcastResult:
    from telegram.ext import AIORateLimiter, Defaults, ExtBot

    from bot.outbox import OutboxSender
    from bot.storage import Database
    from bot.transport import TelegramTransport

    db = await Database.open(db_path)
    bot = ExtBot(TOKEN, base_url=server.base_url, base_file_url=server.base_file_url,
                 rate_limiter=AIORateLimiter(max_retries=0), defaults=Defaults(parse_mode="HTML"))
    await bot.initialize()
    sender = OutboxSender(db, TelegramTransport(bot), chat_interval=1.0, group_interval=3.0, rate=30.0)
    mark, first_violation = server.mark(), len(server.violations)
    cpu0 = cpu_seconds()
    wall0 = time.monotonic()
    try:
        await queue_announcement(db, chats, broadcast_id)
        sender.start()
        await sender.drain(timeout=3600)
        await sender.stop()
    finally:
        await bot.shutdown()
        await db.close()
    wall = time.monotonic() - wall0
    cpu = cpu_seconds() - cpu0
    sends = [c for c in server.calls[mark:] if c.method == "sendMessage" and c.ok]
    per_chat = Counter(c.chat_id for c in sends)
    wanted = set(chats)
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
    )


async def run_broadcast(figures: Figures, *, quick: bool) -> None:
    work = OUT / "broadcast"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db_path = work / "sambang.db"
    audiences = await prepare(db_path)
    sizes = [("330", audiences["regency"])] + ([] if quick else [("8494", audiences["province"])])
    server = FakeTelegram(token=TOKEN)
    await server.start()
    try:
        for n, (label, chats) in enumerate(sizes, start=1):
            log(f"broadcast to {len(chats)} chats (about {len(chats) / 30:.0f}s at 30/s)")
            result = await broadcast(server, db_path, chats, n)
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
            await asyncio.sleep(1.1)  # let Telegram's one-second window pass between the two broadcasts
    finally:
        await server.stop()
