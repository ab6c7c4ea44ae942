"""Writes ``tests/data/upgrade/sambang-0.1.db``: a database as a deployed regency has it mid-day.

The committed file was written by Sambang 0.1 (the release before the feature packages) with this script::

    python -m tests.upgrade_fixture

It is kept so that ``tests/storage/test_upgrade.py`` can start every later version on it and check that nothing a person
relies on is lost on upgrade: a half-written aspiration with its photo, an official's half-typed reply, a message
still waiting in the outbox, and a daily digest already sent (which must not go out twice). Do not regenerate the
file with a newer version: it stands for what is already deployed.

What is in it (clock: Tuesday 2026-03-03 08:00 WIB):
- official 20 (PUPR, "Andi") received the card of ASP-2026-00001 and the daily digest of 2026-03-03, then pressed
  "💬 Balas" on the card and has not typed the answer yet;
- kepala desa 11 ("Siti", 35.13.02.2002) submitted ASP-2026-00001 (Infrastruktur);
- kepala desa 10 ("Budi", 35.13.02.2001) is at step 3 of ``/aspirasi``: category Infrastruktur, the description
  typed, one photo sent;
- one message to kepala desa 11 waits in the outbox (ref ``upgrade:pending``).
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path

FIXTURE = Path(__file__).parent / "data" / "upgrade" / "sambang-0.1.db"
#: The fixture's "now": Tuesday 2026-03-03 08:00 WIB, an hour after the daily digest.
FIXTURE_NOW = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)

OFFICIAL_ID = 20
SUBMITTER_ID = 11
DRAFTING_ID = 10
DRAFT_DESCRIPTION = "Jembatan penghubung dusun Krajan putus diterjang banjir semalam."
SUBMITTED_DESCRIPTION = "Jalan poros desa berlubang sepanjang dua kilometer, membahayakan guru dan murid."
PENDING_TEXT = "Pesan yang masih menunggu di antrean saat pembaruan."


async def write_fixture(target: Path) -> None:
    from bot.core.clock import FakeClock
    from bot.messaging import outbox
    from tests.harness import BotHarness
    from tests.officials_support import card, data_of, official, submit

    with tempfile.TemporaryDirectory() as tmp:
        clock = FakeClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
        h = BotHarness(Path(tmp), clock)
        await h.start()
        try:
            andi = await official(h, OFFICIAL_ID, "PUPR")
            siti = await h.kepala_desa(SUBMITTER_ID, desa="35.13.02.2002", name="Siti")
            aspiration = await submit(h, siti, "infrastruktur", SUBMITTED_DESCRIPTION)
            await h.settle()
            # the first tick fixes when the digests' schedule began; the next morning's digest then goes out
            await h.tick()
            await h.advance(hours=23)
            await h.settle()
            message = card(h, andi, aspiration.ticket)
            mark = h.server.mark()
            andi.press(message, data_of(message, "💬 Balas"))
            await h.server.wait_for_text(OFFICIAL_ID, "Tuliskan balasan", since=mark)
            budi = await h.kepala_desa(DRAFTING_ID)
            await h.say(budi, "/aspirasi", "Langkah 1 dari 4")
            await h.press(budi, "Infrastruktur", "Langkah 2 dari 4")
            await h.say(budi, DRAFT_DESCRIPTION, "Langkah 3 dari 4")
            budi.send_photo()
            await h.server.wait_for_text(DRAFTING_ID, "Foto 1 diterima")
            await h.settle()
        finally:
            await h.stop()
            await h.server.stop()
        from bot.storage.database import Database

        db = await Database.open(Path(tmp) / "sambang.db")
        try:
            async with db.transaction() as tx:
                await outbox.enqueue_text(tx, SUBMITTER_ID, PENDING_TEXT, now=FIXTURE_NOW, ref="upgrade:pending",
                                          dedup_key="upgrade:pending")
        finally:
            await db.close()
        _compact_copy(Path(tmp) / "sambang.db", target)


def _compact_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    conn = sqlite3.connect(source)
    try:
        conn.execute("VACUUM INTO ?", (str(target),))
    finally:
        conn.close()


if __name__ == "__main__":
    asyncio.run(write_fixture(FIXTURE))
    print(f"wrote {FIXTURE}")
