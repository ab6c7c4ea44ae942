"""Intake: simulated kepala desa submit complete aspirations through the real bot process, against the fake Bot API.

Each simulated person acts like one: sends /aspirasi, presses a category, writes the description, sends a photo,
presses "Lanjut ke ringkasan" and "Kirim", each time waiting for the bot's answer before the next step. All of
them act at once. The same script of updates then runs against a bare python-telegram-bot echo bot on the same
fake server, for the ratio.
"""

from __future__ import annotations

import asyncio
import csv
import random
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fake_telegram import Call, FakeTelegram, FakeUser

from .common import ROOT, TOKEN, BotProcess, cpu_seconds, sambang_process

#: (template substring Sambang answers with, step name). The echo bot answers every step with one message.
STEPS = ("start", "category", "description", "photo", "summary", "send")
SAMBANG_EXPECT = {
    "start": "Langkah 1 dari 4",
    "category": "Langkah 2 dari 4",
    "description": "Langkah 3 dari 4",
    "photo": "Foto 1 diterima",
    "summary": "Ringkasan aspirasi",
    "send": "Nomor tiket",
}
STEP_TIMEOUT = 180.0
#: How long a simulated person waits for an answer Telegram refused before doing the same thing again.
RETRY_AFTER_SILENCE = 1.0
#: Telegram's hard flood limits, which the fake server answers with 429 as Telegram does. Its limit of one message
#: a second per private chat lets short bursts through, and the simulated people answer instantly, so that one is
#: only counted.
TELEGRAM_ENFORCED = frozenset({"global", "group"})

#: Lifts PTB's AIORateLimiter (Telegram's 30 messages a second) inside the real bot process, only for the
#: diagnostic run that shows how many updates a second the bot itself could take.
NO_LIMIT_PRELUDE = """
import telegram.ext as _ext
_Original = _ext.AIORateLimiter
class _Unlimited(_Original):
    def __init__(self, *args, **kwargs):
        kwargs.update(overall_max_rate=0, group_max_rate=0)
        super().__init__(*args, **kwargs)
_ext.AIORateLimiter = _Unlimited
try:
    import bot.telegram.pacing as _rl
except ImportError:
    _rl = None
if _rl is not None:
    class _NoWindow(_rl.SlidingWindowRateLimiter):
        async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
            if rate_limit_args == getattr(_rl, "PLACE_HELD", None):
                rate_limit_args = None
            return await _Unlimited.process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args)
    _rl.SlidingWindowRateLimiter = _NoWindow
"""


def descriptions() -> list[tuple[str, str]]:
    """Realistic descriptions with the category the classifier also suggests (so the flow asks nothing extra)."""
    from bot.aspirations.classifier import suggest_category

    found = []
    with (ROOT / "tests" / "data" / "labelled_aspirations.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            text, label = row["description"].strip(), row["category"].strip()
            if len(text) >= 10 and suggest_category(text) in (label, "lainnya"):
                found.append((text, label))
    return found


@dataclass
class RunResult:
    name: str
    users: int
    rounds: int
    updates: int = 0
    #: updates whose answer Telegram refused (429): the person got nothing and sent it again a moment later
    unanswered: int = 0
    completed: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    bot_cpu: float = 0.0
    bench_cpu: float = 0.0
    peak_rss_kb: int = 0
    #: the largest peak RSS of a child process of the bot (the chart worker), if one ran during the load
    children_peak_kb: int = 0
    violations: Counter[str] = field(default_factory=Counter)
    tickets: list[str] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    startup: float = 0.0
    #: seconds from the end of the load until the outbox had delivered everything it queued
    drained_after: float = 0.0
    pending_at_start: int = 0
    #: outbox rows the run queued, by status when the load ended
    forwards: dict[str, int] = field(default_factory=dict)

    @property
    def updates_per_s(self) -> float:
        return self.updates / self.elapsed if self.elapsed else 0.0

    @property
    def answered_per_s(self) -> float:
        """Updates a second that got their answer to the person: what a user of the bot experiences."""
        return (self.updates - self.unanswered) / self.elapsed if self.elapsed else 0.0

    @property
    def aspirations_per_s(self) -> float:
        return self.completed / self.elapsed if self.elapsed else 0.0


async def _step(server: FakeTelegram, user: FakeUser, action: Callable[..., Any], args: tuple[Any, ...],
                expect: str | None, result: RunResult) -> Call:
    """Do one thing as ``user`` and wait for the bot's next message to them; records the reply latency.

    When Telegram refuses the bot's answer (429: the bot went over the limit), the person sees nothing; like a
    person, they wait a moment (``RETRY_AFTER_SILENCE``) and do it again. Latency counts from the first try.
    """
    pushed = time.monotonic()

    def answered(call: Call) -> bool:
        if call.method != "sendMessage":
            return False
        if not call.ok:
            return call.status == 429
        return expect is None or any(expect in (m.get("text") or "") for m in call.messages)

    while True:
        mark = server.mark()
        action(*args)
        result.updates += 1
        call = await server.wait_for(answered, STEP_TIMEOUT, chat_id=user.id, since=mark, what=expect or "reply")
        if call.ok:
            break
        result.unanswered += 1
        await asyncio.sleep(RETRY_AFTER_SILENCE)
    result.latencies.append(call.at - pushed)
    return call


async def _person(server: FakeTelegram, user: FakeUser, rounds: int, texts: list[tuple[str, str]], sambang: bool,
                  result: RunResult, rng: random.Random) -> None:
    def expect(step: str) -> str | None:
        return SAMBANG_EXPECT[step] if sambang else None

    for _ in range(rounds):
        text, category = rng.choice(texts)
        try:
            shown = await _step(server, user, user.send, ("/aspirasi",), expect("start"), result)
            shown = await _step(server, user, user.press, (shown, f"asp:cat:{category}"), expect("category"), result)
            shown = await _step(server, user, user.send, (text,), expect("description"), result)
            shown = await _step(server, user, user.send_photo, (), expect("photo"), result)
            shown = await _step(server, user, user.press, (shown, "asp:att:done"), expect("summary"), result)
            shown = await _step(server, user, user.press, (shown, "asp:sum:send"), None, result)
            if sambang and "Mungkin sudah pernah dilaporkan" in (shown.text or ""):  # a similar one nearby
                shown = await _step(server, user, user.press, (shown, "asp:sum:sendok"), expect("send"), result)
            elif sambang and expect("send") not in (shown.text or ""):
                raise AssertionError(f"no receipt: {(shown.text or '')[:80]}")
        except AssertionError as exc:
            result.errors.append(f"user {user.id}: {str(exc).splitlines()[0]}")
            return
        result.completed += 1
        if sambang:
            receipt = shown.messages[0].get("text", "")
            for token in receipt.split():
                if token.startswith("ASP-"):
                    result.tickets.append(token.strip(".,"))
                    break


async def run_load(server: FakeTelegram, bot: BotProcess, user_ids: list[int], rounds: int, *, sambang: bool,
                   name: str, seed: int = 7) -> RunResult:
    """Every user does ``rounds`` complete submissions at once; the bot process must already be polling."""
    texts = descriptions()
    rng = random.Random(seed)
    result = RunResult(name, len(user_ids), rounds)
    users = [server.user(uid, f"Kades{uid % 10000}") for uid in user_ids]
    first_call = server.mark()
    first_violation = len(server.violations)
    bot_cpu0, bench_cpu0 = bot.cpu(), cpu_seconds()
    sampler = asyncio.create_task(_sample_memory(bot))
    start = time.monotonic()
    await asyncio.gather(*(_person(server, u, rounds, texts, sambang, result, rng) for u in users))
    result.elapsed = time.monotonic() - start
    sampler.cancel()
    result.bot_cpu, result.bench_cpu = bot.cpu() - bot_cpu0, cpu_seconds() - bench_cpu0
    result.peak_rss_kb = bot.sample_memory()
    result.children_peak_kb = max(bot.children_peak_kb.values(), default=0)
    result.violations = Counter(v.kind for v in server.violations[first_violation:])
    result.calls = Counter(c.method for c in server.calls[first_call:] if c.method != "getUpdates")
    return result


async def _sample_memory(bot: BotProcess) -> None:
    while True:
        bot.sample_memory()
        await asyncio.sleep(0.5)


def verify_stored(db_path: Path, tickets: list[str], expected: int) -> tuple[int, int, list[str]]:
    """(aspirations stored among the receipts' tickets, with exactly one photo, problems) read back from SQLite."""
    problems = []
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        stored = photos = 0
        for chunk_start in range(0, len(tickets), 500):
            chunk = tickets[chunk_start:chunk_start + 500]
            marks = ",".join("?" * len(chunk))
            rows = con.execute(
                f"SELECT a.ticket, (SELECT COUNT(*) FROM attachments t WHERE t.aspiration_id = a.id"
                f" AND t.kind = 'photo') FROM aspirations a WHERE a.ticket IN ({marks})", chunk).fetchall()
            stored += len(rows)
            photos += sum(1 for _, n in rows if n == 1)
        drafts = con.execute("SELECT COUNT(*) FROM drafts").fetchone()[0]
    finally:
        con.close()
    if len(set(tickets)) != len(tickets):
        problems.append("duplicate tickets in receipts")
    if len(tickets) != expected:
        problems.append(f"{expected - len(tickets)} submissions got no receipt")
    if stored != len(tickets):
        problems.append(f"{len(tickets) - stored} receipted tickets missing from SQLite")
    if drafts:
        problems.append(f"{drafts} drafts left over")
    return stored, photos, problems


OFFICIALS_PER_DEPARTMENT = 2


async def prepare_people(db_path: Path, count: int, first_telegram_id: int, wilayah: str = "35") -> list[int]:
    """A database of the province (made by the application itself: schema, regions, default departments) with
    ``count`` kepala desa spread over it, and, when it has none yet, officials for every department, a Bupati and
    an admin, so that each submission is forwarded as in production. Everyone is registered through bot.people.roster
    (invitation created and redeemed, as ``sambang invite`` + ``/start <code>`` do)."""
    from bot.app import open_services
    from bot.config import Config
    from bot.core.clock import SystemClock
    from bot.people import roster

    services = await open_services(Config(token=TOKEN, db_path=db_path, wilayah=wilayah))
    db = services.db
    clock = SystemClock()
    try:
        staff = await db.fetchval("SELECT COUNT(*) FROM people WHERE role IN ('pejabat', 'pimpinan', 'admin')")
        if not staff:
            departments = [r["code"] for r in await db.fetchall(
                "SELECT code FROM departments WHERE active = 1 ORDER BY code")]
            places = [("pejabat", {"department": d}) for d in departments for _ in range(OFFICIALS_PER_DEPARTMENT)]
            places += [("pimpinan", {"title": "Bupati"}), ("admin", {})]
            for n, (role, place) in enumerate(places):
                invitation = await roster.create_invitation(db, clock, role=role, **place)
                await roster.redeem_invitation(db, clock, invitation.code, first_telegram_id + 500_000 + n,
                                               f"{role.title()} {n}")
        codes = [r["code"] for r in await db.fetchall("SELECT code FROM desa ORDER BY code")]
        taken = {r["desa_code"] for r in await db.fetchall(
            "SELECT desa_code FROM people WHERE role = 'kepala_desa' AND telegram_id IS NOT NULL")}
        free = [c for c in codes if c not in taken]
        step = max(1, len(free) // count)
        chosen = free[::step][:count]
        ids = []
        for i, code in enumerate(chosen):
            telegram_id = first_telegram_id + i
            invitation = await roster.create_invitation(db, clock, role="kepala_desa", desa=code)
            await roster.redeem_invitation(db, clock, invitation.code, telegram_id, f"Kades {i}")
            ids.append(telegram_id)
        return ids
    finally:
        await db.close()


def outbox_rows(db_path: Path) -> dict[str, int]:
    """Outbox rows (command menus left out) by status."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        return dict(con.execute("SELECT status, COUNT(*) FROM outbox WHERE method <> 'setMyCommands'"
                                " GROUP BY status").fetchall())
    finally:
        con.close()


def officials_of(db_path: Path) -> list[int]:
    """Telegram ids of the officials, leadership and admins (they receive the forwarded aspirations)."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return [r[0] for r in con.execute("SELECT telegram_id FROM people WHERE role IN ('pejabat', 'pimpinan',"
                                          " 'admin') AND telegram_id IS NOT NULL")]
    finally:
        con.close()


def echo_process(server: FakeTelegram, *, rate_limiter: bool, name: str | None = None) -> BotProcess:
    import sys

    from .common import OUT

    argv = [sys.executable, str(ROOT / "bench" / "echo_bot.py")] + (["--rate-limiter"] if rate_limiter else [])
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": server.base_url,
           "TELEGRAM_API_FILE_URL": server.base_file_url}
    name = name or ("echo_ratelimited" if rate_limiter else "echo")
    return BotProcess(name, argv, env, OUT / "logs" / f"{name}.log")


async def start_and_wait(server: FakeTelegram, bot: BotProcess, timeout: float = 120.0) -> float:
    """Start the bot process and wait until it polls; returns the seconds that took.

    The fake server records a call when it has answered it, and the first long poll is only answered when there is
    an update or its timeout passes; so "polling" is PTB's deleteWebhook, sent right before its polling loop."""
    mark = server.mark()
    started = time.monotonic()
    bot.start()
    deadline = started + timeout
    while time.monotonic() < deadline:
        if any(c.method in ("deleteWebhook", "getUpdates") for c in server.calls[mark:]):
            return time.monotonic() - started
        if not bot.alive():
            raise RuntimeError(f"{bot.name} exited early:\n{bot.tail()}")
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{bot.name} did not start polling in {timeout}s:\n{bot.tail()}")


def sambang_bot(server: FakeTelegram, db_path: Path, name: str, *, unlimited: bool = False) -> BotProcess:
    return sambang_process(server, db_path, name=name, python_prelude=NO_LIMIT_PRELUDE if unlimited else None)
