"""A getUpdates batch is stored in one transaction before Telegram is told it arrived: a SIGKILL after the store and
before the handling loses none of it, and the next start handles each update once, in order per sender."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from tests.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:BATCH-test"


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


async def test_sigkill_between_storing_a_batch_and_handling_it_loses_nothing(tmp_path: Path) -> None:
    server = FakeTelegram(token=TOKEN)
    await server.start()
    db = tmp_path / "bot.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAMBANG_", "TELEGRAM_"))}
    env.update({"PYTHONPATH": str(ROOT), "SAMBANG_DB": str(db), "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": server.base_url, "SAMBANG_BACKUP_TIME": "off",
                "SAMBANG_RATE_LIMIT_BURST": "1000", "SAMBANG_RATE_LIMIT_PER_MINUTE": "6000"})

    async def run() -> asyncio.subprocess.Process:
        mark = server.mark()
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", cwd=tmp_path, env=env,
                                                    stdout=asyncio.subprocess.DEVNULL,
                                                    stderr=asyncio.subprocess.DEVNULL)
        await server.wait_for(lambda c: c.method == "deleteWebhook", 60, since=mark, what="the bot polling")
        return proc

    blocker, ani, budi = server.user(520_001, "Cici"), server.user(520_002, "Ani"), server.user(520_003, "Budi")
    answering = server._handlers["sendMessage"]
    released = asyncio.Event()

    async def stuck(req: Any) -> Any:  # Telegram not answering this send: the bot's handling stands still
        await released.wait()
        return await answering(req)

    proc = await run()
    try:
        server._handlers["sendMessage"] = stuck
        blocker.send("/bantuan")  # its answer hangs, so the updates after it wait in the bot's queue
        deadline = time.monotonic() + 30
        while not _rows(db, "SELECT 1 FROM processed_updates"):
            assert time.monotonic() < deadline, "the first update was never handled"
            await asyncio.sleep(0.05)
        mark = server.mark()
        ani.send("/bantuan")
        budi.send("/start")
        ani.send("/start")
        budi.send("/bantuan")
        deadline = time.monotonic() + 30
        while len(stored := _rows(db, "SELECT update_id, stored_at FROM inbound_updates")) < 4:
            assert time.monotonic() < deadline, f"the batch was not stored: {stored}"
            await asyncio.sleep(0.05)
        assert len({at for _, at in stored}) == 1, "one batch, one transaction"
        proc.kill()
        assert await asyncio.wait_for(proc.wait(), 30) == -signal.SIGKILL
        assert not [c for c in server.calls[mark:] if c.chat_id in (ani.id, budi.id)], "handled before the kill"
        server._handlers["sendMessage"] = answering
        released.set()

        proc = await run()  # Telegram hands the unconfirmed batch over again, and the bot replays what it stored
        await server.wait_until(lambda: len(server.sent(ani.id)) >= 2 and len(server.sent(budi.id)) >= 2, 60,
                                what="the four answers")
        await asyncio.sleep(1)  # nothing is answered twice
        texts = {u.id: [m.get("text", "") for c in server.sent(u.id) for m in c.messages] for u in (ani, budi)}
        assert len(texts[ani.id]) == 2 and "Bantuan Sambang" in texts[ani.id][0]
        assert "belum terdaftar" in texts[ani.id][1]
        assert len(texts[budi.id]) == 2 and "belum terdaftar" in texts[budi.id][0]
        assert "Bantuan Sambang" in texts[budi.id][1]
        # its handling had begun before the kill (its answer reached Telegram as the send was let go): not again
        assert len(server.sent(blocker.id)) == 1
        assert _rows(db, "SELECT COUNT(*) FROM inbound_updates") == [(0,)]
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        released.set()
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await server.stop()
