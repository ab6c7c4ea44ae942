"""Crash safety: the REAL bot process (`python -m bot.cli run`) against the fake Bot API in this test process, killed
with SIGKILL at random moments while 200 kepala desa submit aspirations and a broadcast goes out, then restarted.

What it proves, and what it does not (see also README "Known limits"):
- every aspiration that got a receipt — or whose stale "Kirim" press answered with its ticket — is stored exactly
  once, by the right kepala desa, with exactly the attachments of the summary they confirmed;
- every kepala desa ends with one aspiration (none lost, none doubled by pressing Kirim again after a crash);
- no conversation is left stuck: afterwards each of them can start /aspirasi afresh and cancel it, and the admin can
  press the old "Kirim" of the broadcast again (still one broadcast) and start /siaran afresh;
- nothing the fake Telegram delivered was lost: no update is left unhandled;
- every recipient of the admin's /siaran broadcast gets the message at least once, and a second copy is only ever
  a message that was caught mid-send (outbox row in 'sending') at a kill: Telegram has no idempotency key, so a send
  whose HTTP answer arrived but whose 'sent' mark had not committed is sent again after the restart. The test counts
  those and fails on any other duplicate; it does not hide them.

The kill moments come from a seeded RNG (printed; rerun one with SAMBANG_CRASH_SEED). Run time is about 25 s here
(2 cores); the 28 messages/s cap (SAMBANG_OUTBOX_RATE, also used for direct replies) is lifted for the test process:
durability is what is tested, not pacing.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fake_telegram import Call, FakeTelegram, FakeUser

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:CRASH-test"
USERS = int(os.environ.get("SAMBANG_CRASH_USERS", "200"))
KILLS = int(os.environ.get("SAMBANG_CRASH_KILLS", "3"))
DESCRIPTION = "Jalan poros desa rusak parah berlubang sepanjang dua kilometer, mohon segera diaspal ulang."
BROADCAST = "Pengumuman uji siaran Sambang nomor satu"
_TICKET = re.compile(r"ASP-\d{4}-\d{5}")
_ACK = re.compile(r"\((\d+)/5 foto")
_SUMMARY = re.compile(r"Lampiran: (\d+) foto, (\d+) dokumen(, lokasi)?")


@dataclass
class Outcome:
    ticket: str | None = None
    via: str = ""  # "receipt" or "stale-ticket" or "status"
    confirmed: tuple[int, bool] | None = None  # (photos, location) on the last summary where Kirim was pressed
    resyncs: int = 0
    errors: list[str] = field(default_factory=list)


class Agent:
    """One kepala desa who reacts to what the bot last said, like a person would, until they hold a ticket."""

    def __init__(self, server: FakeTelegram, user: FakeUser) -> None:
        self.server = server
        self.user = user
        self.outcome = Outcome()
        self.pressed_send = False
        self.summary_seen: tuple[int, bool] | None = None

    def _events(self, since: int) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for call in self.server.calls_for(self.user.id):
            if call.index < since or not call.ok:
                continue
            if call.method == "sendMessage":
                if BROADCAST not in (call.text or ""):  # a person reads the announcement and carries on
                    found.append(("message", call.text or ""))
            elif call.method == "answerCallbackQuery" and call.params.get("text"):
                found.append(("alert", str(call.params["text"])))
        return found

    async def _next_event(self, since: int, timeout: float) -> tuple[str, str] | None:
        def has_event(call: Call) -> bool:
            return call.ok and ((call.method == "sendMessage" and BROADCAST not in (call.text or "")) or (
                call.method == "answerCallbackQuery" and bool(call.params.get("text"))))

        try:
            await self.server.wait_for(has_event, timeout, chat_id=self.user.id, since=since)
        except AssertionError:
            return None
        await asyncio.sleep(0.05)  # a step may answer with two messages; act on the newest
        events = self._events(since)
        return events[-1] if events else None

    def _press(self, label: str) -> None:
        try:
            self.user.press_button(label)
        except AssertionError:
            self.user.send("/aspirasi")

    async def run(self, deadline: float) -> Outcome:
        mark = self.server.mark()
        self.user.send("/aspirasi")
        while time.monotonic() < deadline:
            event = await self._next_event(mark, timeout=min(12.0, max(0.1, deadline - time.monotonic())))
            mark = self.server.mark()
            if event is None:  # nothing came back (the bot was down, or the update was lost): act again
                self.outcome.resyncs += 1
                if os.environ.get("SAMBANG_CRASH_DEBUG"):
                    print("RESYNC", self.user.id, self.server.recent(self.user.id, 4))
                if self.pressed_send:
                    self._press("✅ Kirim")
                else:
                    self.user.send("/aspirasi")
                continue
            kind, text = event
            if self._act(kind, text):
                return self.outcome
        self.outcome.errors.append("did not finish before the deadline")
        return self.outcome

    def _act(self, kind: str, text: str) -> bool:
        """React to the bot's latest word; True when done."""
        if kind == "alert":
            ticket = _TICKET.search(text)
            if "sudah terkirim" in text and ticket:
                self._done(ticket.group(0), "stale-ticket")
                return True
            self.user.send("/status" if self.pressed_send else "/aspirasi")
            return False
        if "Aspirasi terkirim" in text:
            ticket = _TICKET.search(text)
            assert ticket is not None
            self._done(ticket.group(0), "receipt")
            return True
        if "terjadi gangguan" in text:
            self.outcome.errors.append(text[:120])
        if self.pressed_send and ("Langkah 1 dari 4" in text or "Aspirasi desa Anda" in text):
            ticket = _TICKET.search(text)
            if ticket:  # /status shows what was stored while the receipt was lost
                self._done(ticket.group(0), "status")
                return True
            if "Langkah 1 dari 4" in text:
                self.user.send("/status")
                return False
        if "Lanjutkan draf ini" in text:
            self._press("▶️ Lanjutkan draf")
        elif "Langkah 1 dari 4" in text or "Pilih kategori" in text:
            self._press("Infrastruktur")
        elif "Langkah 2 dari 4" in text or "Tuliskan uraian" in text:
            self.user.send(DESCRIPTION)
        elif "Langkah 3 dari 4" in text:
            self.user.send_photo()
        elif "diterima (" in text:
            ack = _ACK.search(text)
            photos = int(ack.group(1)) if ack else 0
            if photos < 1:
                self.user.send_photo()
            elif "lokasi ✓" not in text:
                self.user.send_location(-7.87, 113.30)
            else:
                self._press("➡️ Lanjut ke ringkasan")
        elif "Ringkasan aspirasi" in text:
            summary = _SUMMARY.search(text)
            assert summary is not None, text
            self.summary_seen = (int(summary.group(1)), bool(summary.group(3)))
            self.pressed_send = True
            self.outcome.confirmed = self.summary_seen
            self._press("✅ Kirim")
        elif "Mungkin sudah pernah dilaporkan" in text:  # everyone here reports the same road: send it anyway
            self.pressed_send = True
            self._press("📨 Tetap kirim")
        elif "Tekan Kirim" in text:
            self.pressed_send = True
            self._press("✅ Kirim")
        elif "Pada langkah ini" in text or "Foto sudah" in text:
            self._press("➡️ Lanjut ke ringkasan")
        else:
            self.outcome.resyncs += 1
            if os.environ.get("SAMBANG_CRASH_DEBUG"):
                print("UNKNOWN", self.user.id, text[:80])
            self.user.send("/aspirasi")
        return False

    def _done(self, ticket: str, via: str) -> None:
        self.outcome.ticket = ticket
        self.outcome.via = via


class BotProcess:
    def __init__(self, tmp_path: Path, server: FakeTelegram) -> None:
        self.tmp_path = tmp_path
        self.server = server
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.log = tmp_path / "bot.log"

    @property
    def db(self) -> Path:
        return self.tmp_path / "crash.db"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SAMBANG_", "TELEGRAM_"))}
        env.update({
            "PYTHONPATH": str(ROOT), "SAMBANG_DB": str(self.db), "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": self.server.base_url, "SAMBANG_ADMINS": "777",
            "SAMBANG_OUTBOX_CHAT_INTERVAL": "0", "SAMBANG_OUTBOX_GROUP_INTERVAL": "0", "SAMBANG_OUTBOX_RATE": "2000",
            "SAMBANG_BACKUP_TIME": "off", "SAMBANG_RATE_LIMIT_BURST": "1000", "SAMBANG_RATE_LIMIT_PER_MINUTE": "6000",

        })
        return env

    async def start(self) -> None:
        mark = self.server.mark()
        log = await asyncio.to_thread(open, self.log, "a")
        try:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "--log-level", "WARNING", "run", cwd=self.tmp_path,
                env=self.env(), stdout=log, stderr=log,
            )
        finally:
            log.close()
        self.starts += 1
        # deleteWebhook is the first call of polling (a getUpdates long poll is only recorded when it returns)
        await self.server.wait_for(lambda c: c.method == "deleteWebhook", 60, since=mark, what="the bot polling")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)

    async def wait(self) -> int:
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), 30)

    async def terminate(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return await self.wait()

    async def close(self) -> None:
        """After the test (passed or not): no bot process left running, the fake server stopped."""
        if self.proc is not None and self.proc.returncode is None:
            self.kill()
            await self.wait()
        await self.server.stop()


def _query(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _register(db: Path, user_ids: list[int]) -> None:
    conn = sqlite3.connect(db, timeout=30)
    try:
        desa = [r[0] for r in conn.execute("SELECT code FROM desa ORDER BY code LIMIT ?", (len(user_ids),))]
        conn.executemany(
            "INSERT INTO people(telegram_id, name, role, desa_code, created_at, updated_at)"
            " VALUES (?, ?, 'kepala_desa', ?, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            [(uid, f"Kades {uid}", code) for uid, code in zip(user_ids, desa, strict=True)],
        )
        conn.commit()
    finally:
        conn.close()


def _send(server: FakeTelegram, user: FakeUser, text: str) -> int:
    mark = server.mark()
    user.send(text)
    return mark


async def _admin_broadcast(server: FakeTelegram) -> None:
    """The admin starts a broadcast to everyone with /siaran, as in the bot: audience, text, preview, Kirim."""
    admin = server.user(777, "Admin")
    for text, expect in (("/siaran", "Siaran baru"), (None, "Tulis pesan siarannya"), (BROADCAST, "Pratinjau siaran")):
        mark = server.mark()
        if text is None:
            admin.press_button("👥 Semua pengguna")
        else:
            admin.send(text)
        await server.wait_for_text(777, expect, 60, since=mark)
    mark = server.mark()
    label = next(b for b in admin.buttons() if b.startswith("✅ Kirim ke"))
    admin.press_button(label)
    await server.wait_for_text(777, "sedang dikirim", 60, since=mark)


async def test_sigkill_during_200_submissions_and_a_broadcast(tmp_path: Path) -> None:
    seed = int(os.environ.get("SAMBANG_CRASH_SEED") or random.randrange(1_000_000))
    rng = random.Random(seed)
    print(f"crash test seed {seed} (rerun with SAMBANG_CRASH_SEED={seed})")
    server = FakeTelegram(token=TOKEN)
    await server.start()
    bot = BotProcess(tmp_path, server)
    started = time.monotonic()
    try:
        await bot.start()
        user_ids = [600_001 + i for i in range(USERS)]
        await asyncio.to_thread(_register, bot.db, user_ids)
        agents = [Agent(server, server.user(uid, f"Kades{uid}")) for uid in user_ids]
        deadline = time.monotonic() + 150
        tasks = [asyncio.create_task(a.run(deadline)) for a in agents]

        sending_at_kills: set[int] = set()

        async def progress_reaches(fraction: float) -> None:
            while sum(1 for a in agents if a.outcome.ticket) < fraction * USERS:
                if all(t.done() for t in tasks):
                    return
                await asyncio.sleep(0.02)

        # Kill points: in the broadcast the admin starts, then when about a third and about three quarters of the
        # kepala desa hold their ticket — in the middle of the submissions (each moment jittered by the seeded RNG).
        await asyncio.sleep(rng.uniform(0.3, 1.5))
        await _admin_broadcast(server)
        thresholds = [None, rng.uniform(0.2, 0.45), rng.uniform(0.6, 0.85)][:KILLS]
        for kill, threshold in enumerate(thresholds):
            if threshold is None:
                await asyncio.sleep(rng.uniform(0.0, 0.4))  # the outbox starts sending as the broadcast commits
            else:
                await progress_reaches(threshold)
                await asyncio.sleep(rng.uniform(0.0, 0.05))
            bot.kill()
            assert await bot.wait() == -signal.SIGKILL
            rows = await asyncio.to_thread(_query, bot.db, "SELECT chat_id FROM outbox WHERE status = 'sending'"
                                           " AND broadcast_id IS NOT NULL")
            sending_at_kills |= {r[0] for r in rows}
            done = sum(1 for a in agents if a.outcome.ticket)
            print(f"kill {kill + 1}: {done} agents done, {len(rows)} broadcast rows mid-send")
            await bot.start()

        outcomes = await asyncio.gather(*tasks)
        print(f"all agents done after {time.monotonic() - started:.1f}s")
        # every conversation can start afresh and be cancelled: nothing is stuck
        marks = {a.user.id: server.mark() for a in agents}
        for a in agents:
            a.user.send("/aspirasi")
        for a in agents:
            await server.wait_for_text(a.user.id, "Langkah 1 dari 4", 30, since=marks[a.user.id])
        marks = {a.user.id: server.mark() for a in agents}
        for a in agents:
            a.user.send("/batal")
        for a in agents:
            await server.wait_for_text(a.user.id, "Aspirasi dibatalkan", 30, since=marks[a.user.id])
        # the admin presses the old "Kirim" again (a crash may have left the confirmation open): still one broadcast;
        # then /siaran starts afresh and /batal ends it
        admin = server.user(777, "Admin")
        label = next((b for m in server.bot_messages(777, newest_first=True)
                      for b in [x.get("text", "") for row in (m.get("reply_markup") or {}).get("inline_keyboard", [])
                                for x in row] if str(b).startswith("✅ Kirim ke")), None)
        if label is not None:
            mark = server.mark()
            admin.press_button(label)
            await server.wait_for(lambda c: c.method in ("sendMessage", "answerCallbackQuery") and c.ok, 30,
                                  chat_id=777, since=mark)
        await server.wait_for_text(777, "Siaran baru", 30, since=_send(server, admin, "/siaran"))
        await server.wait_for_text(777, "Siaran dibatalkan", 30, since=_send(server, admin, "/batal"))
        broadcasts = await asyncio.to_thread(_query, bot.db, "SELECT COUNT(*) FROM broadcasts")
        assert broadcasts[0][0] == 1
        # wait for the broadcast to finish
        for _ in range(300):
            left = await asyncio.to_thread(_query, bot.db, "SELECT COUNT(*) FROM outbox WHERE status IN"
                                           " ('pending', 'sending')")
            if left[0][0] == 0:
                break
            await asyncio.sleep(0.1)
        assert await bot.terminate() == 0
    finally:
        await bot.close()
    elapsed = time.monotonic() - started

    log = bot.log.read_text(errors="replace")
    assert "Traceback" not in log or "error while handling an update" not in log, log[-3000:]
    errors = [e for o in outcomes for e in o.errors]
    assert errors == [], errors[:10]
    assert all(o.ticket for o in outcomes)

    # every receipt (or ticket named later) is one stored aspiration of that kepala desa with its attachments
    rows = _query(bot.db, "SELECT a.ticket, p.telegram_id, a.id FROM aspirations a JOIN people p ON p.id ="
                          " a.submitter_id")
    by_ticket = {t: (tg, aid) for t, tg, aid in rows}
    assert len(rows) == USERS, f"{len(rows)} aspirations for {USERS} kepala desa"
    per_user: dict[int, int] = {}
    for _, tg, _ in rows:
        per_user[tg] = per_user.get(tg, 0) + 1
    assert set(per_user.values()) == {1}
    for agent, outcome in zip(agents, outcomes, strict=True):
        assert outcome.ticket in by_ticket
        tg, aid = by_ticket[outcome.ticket]
        assert tg == agent.user.id
        photos = _query(bot.db, "SELECT COUNT(*) FROM attachments WHERE aspiration_id = ? AND kind = 'photo'",
                        (aid,))[0][0]
        location = _query(bot.db, "SELECT COUNT(*) FROM attachments WHERE aspiration_id = ? AND kind = 'location'",
                          (aid,))[0][0]
        assert outcome.confirmed is not None
        assert (photos, bool(location)) == outcome.confirmed, (outcome.ticket, outcome.confirmed)
    assert _query(bot.db, "SELECT COUNT(*) FROM drafts")[0][0] == 0
    assert _query(bot.db, "SELECT COUNT(*) FROM inbound_updates")[0][0] == 0
    leftover = _query(bot.db, "SELECT name, key, state FROM ptb_conversations")
    assert leftover == [], leftover

    # the broadcast: everyone at least once; a second copy only where a send was caught mid-flight by a kill
    copies = {uid: sum(1 for t in server.texts(uid) if BROADCAST in t) for uid in user_ids}
    missing = [uid for uid, n in copies.items() if n == 0]
    doubled = {uid for uid, n in copies.items() if n > 1}
    assert missing == []
    assert max(copies.values()) <= 2
    assert doubled <= sending_at_kills, f"duplicates outside the at-least-once window: {doubled - sending_at_kills}"
    sent = _query(bot.db, "SELECT chat_id FROM outbox WHERE broadcast_id IS NOT NULL AND status = 'sent'")
    assert set(user_ids) <= {r[0] for r in sent}
    assert _query(bot.db, "SELECT COUNT(*) FROM outbox WHERE broadcast_id IS NOT NULL AND status <> 'sent'")[0][0] == 0
    via = {k: sum(1 for o in outcomes if o.via == k) for k in ("receipt", "stale-ticket", "status")}
    print(f"crash test: {bot.starts} starts, {KILLS} SIGKILLs, {elapsed:.1f}s; tickets via {via};"
          f" {sum(o.resyncs for o in outcomes)} resyncs; broadcast rows mid-send at kills: {len(sending_at_kills)},"
          f" delivered twice: {len(doubled)}")
