"""Intake throughput against the echo bot, and memory with a full database."""

from __future__ import annotations

import asyncio
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from tests.fake_telegram import FakeTelegram

from . import intake
from .common import OUT, TOKEN, Figures, copy_db, file_size_mb, log, percentile

FIRST_USER = 7_000_000
ECHO_FIRST_USER = 8_000_000


async def _outbox_drained(db_path: Path, timeout: float = 600.0) -> None:
    """Wait until the bot's outbox (e.g. the command menus queued at start) has nothing left to send."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
        try:
            pending = con.execute("SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')").fetchone()[0]
        finally:
            con.close()
        if not pending:
            return
        await asyncio.sleep(0.25)
    raise RuntimeError("the outbox did not drain before the load")


def _report(figures: Figures, prefix: str, result: intake.RunResult) -> None:
    figures.add(f"{prefix}.answered_per_s", result.answered_per_s, "(updates answered a second)")
    figures.add(f"{prefix}.updates_per_s", result.updates_per_s, "(updates sent a second, repeats included)")
    figures.add(f"{prefix}.unanswered", result.unanswered, "(answers Telegram refused with 429; sent again)")
    figures.add(f"{prefix}.aspirations_per_s", result.aspirations_per_s)
    figures.add(f"{prefix}.reply_p50_ms", 1000 * percentile(result.latencies, 50), "ms")
    figures.add(f"{prefix}.reply_p95_ms", 1000 * percentile(result.latencies, 95), "ms")
    chat_calls = sum(n for method, n in result.calls.items() if method.startswith(("send", "edit")))
    figures.add(f"{prefix}.chat_calls_per_s", chat_calls / max(result.elapsed, 1e-9), "(sends+edits; limit 30)")
    figures.add(f"{prefix}.bot_cpu_ms_per_update", cpu_ms_per_update(result), "ms")
    figures.add(f"{prefix}.bench_cpu_pct", 100 * result.bench_cpu / max(result.elapsed, 1e-9), "%")
    figures.add(f"{prefix}.peak_rss_mb", result.peak_rss_kb / 1024, "MB")
    if result.children_peak_kb:
        figures.add(f"{prefix}.chart_worker_peak_rss_mb", result.children_peak_kb / 1024,
                    "MB (the chart process, a child that exits when idle)")
    figures.add(f"{prefix}.errors", len(result.errors))
    figures.add(f"{prefix}.violations_global", result.violations.get("global", 0), "(more than 30 sends in a second)")
    figures.add(f"{prefix}.violations_private_chat", result.violations.get("private_chat", 0),
                "(replies <0.9 s apart in one chat: the simulated people answer instantly)")
    if result.forwards:
        figures.add(f"{prefix}.outbox_queued", sum(result.forwards.values()), "(forwards to officials etc.)")
        figures.add(f"{prefix}.outbox_sent_during_load", result.forwards.get("sent", 0))
    if result.pending_at_start:
        figures.add(f"{prefix}.outbox_pending_at_start", result.pending_at_start, "(queued by the start, e.g. digests)")
    if result.drained_after:
        figures.add(f"{prefix}.outbox_drained_after_load_s", result.drained_after,
                    "s (until the officials had every forward)")
    if result.startup:
        figures.add(f"{prefix}.startup_s", result.startup, "s (process start to polling)")
    for error in result.errors[:5]:
        log(f"{prefix}: {error}")


#: Sambang's CPU per handled update may be at most this many times the bare echo bot's (same server, same run).
CPU_RATIO_TARGET = 1.4


def cpu_ms_per_update(result: intake.RunResult) -> float:
    """CPU time of the bot process (user + system, every thread) per update it handled, in ms. Repeats count:
    an update the echo bot answered into a 429 was handled all the same."""
    return 1000 * result.bot_cpu / max(1, result.updates)


def _cpu_side_by_side(figures: Figures, prefix: str, sambang: intake.RunResult, echo: intake.RunResult,
                      where: str) -> None:
    """Sambang's and the bare echo bot's CPU per handled update, side by side, and their ratio."""
    ours, theirs = cpu_ms_per_update(sambang), cpu_ms_per_update(echo)
    figures.add(f"{prefix}.sambang_ms_per_update", ours, "ms")
    figures.add(f"{prefix}.echo_ms_per_update", theirs, "ms")
    ratio = ours / theirs if theirs else 0.0
    figures.add(f"{prefix}.ratio", ratio, f"(Sambang / bare echo bot, {where}; target <= {CPU_RATIO_TARGET})")
    log(f"CPU per handled update, {where}: Sambang {ours:.2f} ms | echo bot {theirs:.2f} ms | ratio {ratio:.2f}"
        f" ({'met' if ratio <= CPU_RATIO_TARGET else 'NOT met'}: target <= {CPU_RATIO_TARGET})")


def _start_profiler(bot: intake.BotProcess, name: str) -> subprocess.Popen[bytes] | None:
    """py-spy recording the bot process (all threads, native frames off) into bench/out/profile-<name>.*"""
    spy = shutil.which("py-spy")
    if spy is None:
        log("--profile: py-spy is not installed (pip install -e '.[bench]'); no profile")
        return None
    out = OUT / f"profile-{name}.svg"
    log(f"profiling {name} with py-spy into {out}")
    return subprocess.Popen([spy, "record", "--pid", str(bot.pid), "--rate", "200", "--nonblocking", "--gil",
                             "--format", "flamegraph", "-o", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def _sambang_run(server: FakeTelegram, db_path: Path, users: list[int], rounds: int, name: str,
                       *, unlimited: bool = False, profile: bool = False, drain: bool = True) -> intake.RunResult:
    before = intake.outbox_rows(db_path)
    bot = intake.sambang_bot(server, db_path, name, unlimited=unlimited)
    startup = await intake.start_and_wait(server, bot)
    profiler = None
    try:
        if drain:
            await _outbox_drained(db_path)
        else:  # what the start queued (e.g. the day's digests) goes out during the load, as on a real morning
            await asyncio.sleep(5)
        pending_at_start = intake.outbox_rows(db_path).get("pending", 0)
        log(f"{name}: polling {startup:.1f}s after start; {len(users)} kepala desa x {rounds} aspirations,"
            f" {len(users) * rounds * 6} updates")
        profiler = _start_profiler(bot, name) if profile else None
        result = await intake.run_load(server, bot, users, rounds, sambang=True, name=name)
        result.startup = startup
        result.pending_at_start = pending_at_start
        after = intake.outbox_rows(db_path)
        result.forwards = {k: after.get(k, 0) - before.get(k, 0) for k in set(after) | set(before)}
        if drain:
            ended = time.monotonic()
            await _outbox_drained(db_path)
            result.drained_after = time.monotonic() - ended
        return result
    finally:
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            await asyncio.to_thread(profiler.wait)
        code = await bot.stop()
        if code:
            log(f"{name} exited with {code}:\n{bot.tail()}")


async def _echo_run(server: FakeTelegram, users: list[int], rounds: int, *, rate_limiter: bool,
                    name: str | None = None) -> intake.RunResult:
    bot = intake.echo_process(server, rate_limiter=rate_limiter, name=name)
    await intake.start_and_wait(server, bot)
    try:
        log(f"{bot.name}: {len(users)} users x {rounds} rounds, {len(users) * rounds * 6} updates")
        return await intake.run_load(server, bot, users, rounds, sambang=False, name=bot.name)
    finally:
        await bot.stop()


def _verify(figures: Figures, prefix: str, db_path: Path, result: intake.RunResult) -> None:
    expected = result.users * result.rounds
    stored, with_photo, problems = intake.verify_stored(db_path, result.tickets, expected)
    figures.add(f"{prefix}.aspirations_expected", expected)
    figures.add(f"{prefix}.aspirations_stored", stored)
    figures.add(f"{prefix}.aspirations_lost", expected - stored)
    figures.add(f"{prefix}.stored_with_photo", with_photo)
    for problem in problems:
        log(f"{prefix}: PROBLEM {problem}")


async def run_intake(figures: Figures, *, quick: bool, profile: bool = False) -> None:
    users_n, rounds = (30, 2) if quick else (100, 3)
    work = OUT / "intake"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db_path = work / "sambang.db"
    log("intake: loading Jawa Timur (8,494 desa) and registering the kepala desa through bot.people.roster")
    users = await intake.prepare_people(db_path, users_n, FIRST_USER)
    # The fake Bot API answers sends over Telegram's hard limits with 429, as Telegram does: the two bots are
    # compared on what their users get, under the same limits.
    server = FakeTelegram(token=TOKEN, enforce_rate_limits=intake.TELEGRAM_ENFORCED)
    # Diagnostics only: a server without limits, to show each bot's own capacity. It stands for the same bot, whose
    # updates Telegram numbers in one sequence: its ids go on after the first server's (were they to start again,
    # the bot would rightly take the repeats for redeliveries of updates it already handled, and ignore them).
    unlimited_server = FakeTelegram(token=TOKEN, first_update_id=10_000_001)
    await server.start()
    await unlimited_server.start()
    try:
        sambang = await _sambang_run(server, db_path, users, rounds, "sambang")
        _report(figures, "intake.sambang", sambang)
        _verify(figures, "intake.sambang", db_path, sambang)

        echo_users = list(range(ECHO_FIRST_USER, ECHO_FIRST_USER + users_n))
        echo = await _echo_run(server, echo_users, rounds, rate_limiter=False)
        _report(figures, "intake.echo", echo)
        limited_users = [u + 100_000 for u in echo_users]
        echo_limited = await _echo_run(server, limited_users, rounds, rate_limiter=True)
        _report(figures, "intake.echo_ratelimited", echo_limited)

        free_users = [u + 200_000 for u in echo_users]
        echo_free = await _echo_run(unlimited_server, free_users, rounds, rate_limiter=False, name="echo_no_limits")
        _report(figures, "intake.echo_no_limits", echo_free)
        unlimited = await _sambang_run(unlimited_server, db_path, users, rounds, "sambang_unlimited",
                                       unlimited=True, profile=profile)
        _report(figures, "intake.sambang_unlimited", unlimited)
        _verify(figures, "intake.sambang_unlimited", db_path, unlimited)

        figures.add("intake.ratio_vs_echo", sambang.answered_per_s / echo.answered_per_s,
                    "(updates answered a second, both under Telegram's limits; target >= 0.7)")
        figures.add("intake.ratio_vs_echo_same_limiter", sambang.answered_per_s / echo_limited.answered_per_s)
        figures.add("intake.ratio_capacity_vs_echo_no_limits", unlimited.answered_per_s / echo_free.answered_per_s,
                    "(diagnostic: no limits anywhere, each bot's own capacity)")
        _cpu_side_by_side(figures, "intake.cpu", sambang, echo, "server with Telegram's limits")
        _cpu_side_by_side(figures, "intake.cpu_no_limits", unlimited, echo_free, "server without limits")
    finally:
        await unlimited_server.stop()
        await server.stop()


async def run_memory(figures: Figures, volume_db: Path, *, quick: bool) -> None:
    """The same intake load on a copy of the 100,000-aspiration database: peak RSS of the bot process."""
    users_n, rounds = (30, 2) if quick else (100, 3)
    work = OUT / "memory"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db_path = work / "sambang.db"
    log(f"memory: copying the volume database ({file_size_mb(volume_db):.0f} MB)")
    copy_db(volume_db, db_path)
    started = time.monotonic()
    users = await intake.prepare_people(db_path, users_n, FIRST_USER)
    log(f"memory: {len(users)} more kepala desa registered in {time.monotonic() - started:.1f}s")
    server = FakeTelegram(token=TOKEN)
    await server.start()
    try:
        result = await _sambang_run(server, db_path, users, rounds, "sambang_100k", drain=False)
        _report(figures, "memory.sambang_100k", result)
        _verify(figures, "memory.sambang_100k", db_path, result)
    finally:
        await server.stop()
