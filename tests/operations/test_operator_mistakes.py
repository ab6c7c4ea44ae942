"""An operator's mistakes, made as a regency's IT staff would make them: each one is refused with one line naming
the cause (exit status 2), nothing is created or damaged, and the bot token is never printed."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.operations.health import check_file, health_report
from bot.operations.logs import PrivacyFilter
from tests.cli_support import cli_env, run_sambang
from tests.fake_telegram import FakeTelegram
from tests.harness import BotHarness

TOKEN = "123456:OPERATOR-secret-Token_xyz"
OTHER_TOKEN = "654321:Rejected-Token_by-Telegram"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return cli_env(tmp_path, "ops.db", **extra)


async def _sambang(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, str]:
    return await run_sambang(tmp_path, _env(tmp_path, **env), *args)


def _refused(result: tuple[int, str, str], *needles: str, token: str = TOKEN) -> str:
    """Exit 2, exactly one line on stderr naming the cause, nothing on stdout, no traceback, no token."""
    code, out, err = result
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "Traceback" not in out + err
    assert token not in out + err and token.split(":")[1] not in out + err
    return lines[0]


def _database_files(folder: Path) -> list[Path]:
    return list(folder.glob("ops.db*"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(token=TOKEN)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


# -- start-up failures -----------------------------------------------------------------------------------------


async def test_rejected_token_is_one_line_and_never_printed(tmp_path: Path, fake: FakeTelegram) -> None:
    line = _refused(await _sambang(tmp_path, "run", TELEGRAM_BOT_TOKEN=OTHER_TOKEN,
                                   TELEGRAM_API_BASE_URL=fake.base_url), "TELEGRAM_BOT_TOKEN", "menolak",
                    token=OTHER_TOKEN)
    assert "token" in line
    assert not (tmp_path / "ops.db").exists()
    # with every debug line of PTB and httpx on, the token still never appears
    code, out, err = await _sambang(tmp_path, "--log-level", "debug", "run", TELEGRAM_BOT_TOKEN=OTHER_TOKEN,
                                    TELEGRAM_API_BASE_URL=fake.base_url)
    assert code == 2 and "menolak" in err.strip().splitlines()[-1]
    assert OTHER_TOKEN not in out + err and OTHER_TOKEN.split(":")[1] not in out + err


async def test_no_network_is_one_line(tmp_path: Path) -> None:
    unreachable = f"http://127.0.0.1:{_free_port()}/bot"
    _refused(await _sambang(tmp_path, "run", TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=unreachable),
             "tidak dapat dihubungi", "TELEGRAM_API_BASE_URL")
    assert not (tmp_path / "ops.db").exists()


async def test_unwritable_database_folder_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("x")
    db = tmp_path / "not-a-folder" / "data" / "sambang.db"
    for command in ("run", "migrate"):
        _refused(await _sambang(tmp_path, command, TELEGRAM_BOT_TOKEN=TOKEN, SAMBANG_DB=str(db)), "SAMBANG_DB",
                 "not-a-folder")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder")
async def test_read_only_database_folder_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    try:
        _refused(await _sambang(tmp_path, "migrate", SAMBANG_DB=str(folder / "sambang.db")), "SAMBANG_DB",
                 "tidak dapat ditulis")
    finally:
        folder.chmod(0o700)


async def test_webhook_port_in_use_is_one_line(tmp_path: Path, fake: FakeTelegram) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        _refused(await _sambang(tmp_path, "run", "--webhook", "https://sambang.example.test/hook", "--listen",
                                "127.0.0.1", "--port", str(port), TELEGRAM_BOT_TOKEN=TOKEN,
                                TELEGRAM_API_BASE_URL=fake.base_url, SAMBANG_WEBHOOK_SECRET="s3cret"),
                 f"port {port}", "--port")
    assert not (tmp_path / "ops.db").exists()
    assert not fake.calls_for(0, "setWebhook") and fake.last_call("setWebhook") is None


async def test_dashboard_port_in_use_is_one_line(tmp_path: Path, fake: FakeTelegram) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        _refused(await _sambang(tmp_path, "run", TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=fake.base_url,
                                SAMBANG_WEB_LISTEN=f"127.0.0.1:{port}"),
                 f"port {port}", "SAMBANG_WEB_LISTEN")
    assert not (tmp_path / "ops.db").exists()


async def test_bad_log_level_is_one_line(tmp_path: Path) -> None:
    _refused(await _sambang(tmp_path, "--log-level", "VERBOSE", "migrate"), "--log-level", "VERBOSE")
    assert not (tmp_path / "ops.db").exists()


async def test_every_setting_is_checked_before_the_database_is_created(tmp_path: Path) -> None:
    _refused(await _sambang(tmp_path, "run", TELEGRAM_BOT_TOKEN=TOKEN, SAMBANG_SLA="jalan=lama"), "SAMBANG_SLA")
    _refused(await _sambang(tmp_path, "migrate", SAMBANG_BACKUP_KEEP="0"), "SAMBANG_BACKUP_KEEP")
    _refused(await _sambang(tmp_path, "migrate", SAMBANG_DEPARTMENTS_FILE=str(tmp_path / "missing.toml")),
             "SAMBANG_DEPARTMENTS_FILE")
    assert not (tmp_path / "ops.db").exists()


def test_the_token_is_masked_in_every_log_line() -> None:
    from bot.operations.logs import hide_secret

    token = "42:short-but-real-token"  # shorter than the generic token pattern catches
    hide_secret(token)
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "HTTP Request: POST http://x/bot%s/getMe",
                               (token,), None)
    PrivacyFilter().filter(record)
    assert token not in record.getMessage() and "short-but-real-token" not in record.getMessage()


# -- the database: missing, or made for another wilayah ---------------------------------------------------------


@pytest.mark.parametrize("args", [
    ("health",), ("invite", "--role", "camat", "--kecamatan", "Krucil"), ("export", "--format", "csv"),
    ("backup",), ("audit", "export"), ("schedule", "export"), ("departments",),
])
async def test_commands_refuse_a_database_that_does_not_exist(tmp_path: Path, args: tuple[str, ...]) -> None:
    _refused(await _sambang(tmp_path, *args), "tidak ada", "SAMBANG_DB", str(tmp_path / "ops.db"))
    assert not _database_files(tmp_path)


async def test_a_database_made_for_another_wilayah_is_refused(tmp_path: Path) -> None:
    code, out, err = await _sambang(tmp_path, "migrate")
    assert code == 0, err
    with sqlite3.connect(tmp_path / "ops.db") as conn:
        assert conn.execute("SELECT value FROM app_state WHERE key = 'wilayah'").fetchone() == ("35.13",)
    for args in (("invite", "--role", "camat", "--kecamatan", "Besuki"), ("migrate",), ("health",),
                 ("run",), ("export", "--format", "csv")):
        _refused(await _sambang(tmp_path, *args, SAMBANG_WILAYAH="35.12", TELEGRAM_BOT_TOKEN=TOKEN),
                 "SAMBANG_WILAYAH", "35.13", "35.12")
    with sqlite3.connect(tmp_path / "ops.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM invitations").fetchone() == (0,)
        assert conn.execute("SELECT COUNT(*) FROM kecamatan WHERE kabupaten_code = '35.12'").fetchone() == (0,)


async def test_an_older_database_without_the_record_is_judged_by_its_regions(tmp_path: Path) -> None:
    assert (await _sambang(tmp_path, "migrate"))[0] == 0
    with sqlite3.connect(tmp_path / "ops.db") as conn:
        conn.execute("DELETE FROM app_state WHERE key = 'wilayah'")
    _refused(await _sambang(tmp_path, "invite", "--role", "camat", "--kecamatan", "Besuki",
                            SAMBANG_WILAYAH="35.12"), "SAMBANG_WILAYAH", "35.13")
    code, out, err = await _sambang(tmp_path, "invite", "--role", "camat", "--kecamatan", "Besuk",
                                    SAMBANG_BOT_USERNAME="sambang_bot")
    assert code == 0, err
    with sqlite3.connect(tmp_path / "ops.db") as conn:
        assert conn.execute("SELECT value FROM app_state WHERE key = 'wilayah'").fetchone() == ("35.13",)


# -- invitations and visits -------------------------------------------------------------------------------------


@pytest.mark.parametrize("hours", ["0", "-1"])
async def test_invite_refuses_zero_and_negative_hours(tmp_path: Path, hours: str) -> None:
    assert (await _sambang(tmp_path, "migrate"))[0] == 0
    _refused(await _sambang(tmp_path, "invite", "--role", "camat", "--kecamatan", "Krucil", f"--hours={hours}"),
             "--hours")
    with sqlite3.connect(tmp_path / "ops.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM invitations").fetchone() == (0,)


async def test_planning_visits_in_the_past_warns(tmp_path: Path) -> None:
    assert (await _sambang(tmp_path, "migrate"))[0] == 0
    # the holiday data of lokal-id covers 2026 and 2027; a plan from January 2026 is over by now
    code, out, err = await _sambang(tmp_path, "schedule", "plan", "--start", "2026-01-05")
    assert code == 0, err
    assert "kunjungan jatuh sebelum hari ini" in out and "sudah lewat" in out
    code, out, err = await _sambang(tmp_path, "schedule", "plan", "--start", "2026-01-05", "--apply")
    assert code == 0 and out.index("jatuh sebelum hari ini") < out.index("Disimpan")


async def test_a_visit_today_at_an_hour_already_past_warns_in_the_bot(harness: BotHarness) -> None:
    admin = harness.admin  # the clock: Monday 2 March 2026, 09:00 WIB
    await harness.say(admin, "/kunjungan", "Kelola kunjungan")
    await harness.press(admin, "➕ Tambah kunjungan", "langkah 1 dari 6")
    await harness.press(admin, "Sumber", "langkah 2 dari 6")
    await harness.say(admin, "02-03-2026", "Jam mulai")
    await harness.say(admin, "07:00", "Tempat kunjungan")
    await harness.press(admin, "Kantor Kecamatan Sumber", "Agenda kunjungan")
    await harness.press(admin, "Lewati", "OPD yang hadir")
    review = await harness.press(admin, "Lewati", "Periksa kunjungan baru")
    assert "Jam 07.00 hari ini sudah lewat" in (review.text or "")
    saved = await harness.press(admin, "✅ Simpan", "tersimpan")
    assert "sudah lewat" in (saved.text or "")


# -- a second bot polling with the same token ------------------------------------------------------------------


async def test_a_second_bot_with_the_same_token_is_reported_once_and_unhealthy(
        harness: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    db = harness.svc.db
    before = await health_report(db, mode="polling")
    assert before["status"] == "ok"
    caplog.set_level(logging.INFO)
    harness.server.fail_next("getUpdates", status=409, times=2)
    for _ in range(100):
        if await db.fetchval("SELECT value FROM app_state WHERE key = 'conflict_at'"):
            break
        await asyncio.sleep(0.05)
    report = await health_report(db, mode="polling")
    assert report["status"] == "error" and "same token" in report["problem"]
    ok, line = check_file(db.path, max_heartbeat_age=3600)
    assert not ok and "token yang sama" in line
    # the other polls of the episode add no line; PTB's own traceback is gone
    await harness.server.wait_until(lambda: not harness.server._fail_rules, timeout=10)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert "same token" in errors[0].getMessage() and errors[0].exc_info is None
    # and the bot still answers
    await harness.say(harness.user(5151, "Tamu"), "/start", "belum terdaftar")


async def test_start_tells_an_unregistered_user_their_telegram_id(harness: BotHarness) -> None:
    call = await harness.say(harness.user(424242, "Calon Admin"), "/start", "belum terdaftar")
    assert "ID Telegram Anda: 424242" in (call.text or "")
