"""Operations on the real command line: `sambang run --webhook` as a process, `health`, `backup`, `restore`,
`audit export`, and the lock that keeps a second bot (or a restore) off a running bot's database."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.telegram.webhook import SECRET_HEADER
from tests.cli_support import cli_env, run_sambang
from tests.fake_telegram import FakeTelegram

TOKEN = "123456:OPS-test"
SECRET = "ops-Secret_123"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return cli_env(tmp_path, "ops.db", **{"SAMBANG_BACKUP_DIR": str(tmp_path / "backups"), **extra})


async def _sambang(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, str]:
    return await run_sambang(tmp_path, _env(tmp_path, **env), *args)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql).fetchone()[0])


def _truncate_copy(source: Path, target: Path) -> None:
    data = source.read_bytes()
    target.write_bytes(data[: len(data) // 2])


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(token=TOKEN)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def _wait_http(url: str, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(url) as response:
                    if response.status in (200, 503):
                        return
            except aiohttp.ClientConnectionError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{url} never answered")
            await asyncio.sleep(0.1)


async def test_webhook_process_backup_restore_and_locks(tmp_path: Path, fake: FakeTelegram) -> None:
    db = tmp_path / "ops.db"
    port = _free_port()
    # before the bot ever ran, the health check fails with one line
    code, _, err = await _sambang(tmp_path, "health")
    assert code == 2 and "tidak ada" in err and "Traceback" not in err
    # the admin here is a script writing five invitations in one second: no person types that fast, so the
    # per-person flood limit (tested on its own in test_flood_fairness) is lifted, as in the harness
    env = _env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=fake.base_url, SAMBANG_ADMINS="777",
               SAMBANG_WEBHOOK_SECRET=SECRET, SAMBANG_RATE_LIMIT_BURST="100000",
               SAMBANG_RATE_LIMIT_PER_MINUTE="100000")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", "--webhook", "https://sambang.example.test/hook/abc",
        "--listen", "127.0.0.1", "--port", str(port), cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await _wait_http(f"{base}/healthz")
        await fake.wait_for_call("setWebhook", timeout=30)
        assert fake.last_call("setWebhook").params["secret_token"] == SECRET
        admin = fake.user(777, "Admin")
        async with aiohttp.ClientSession() as http:

            async def deliver(update: dict, secret: str | None = SECRET) -> int:
                fake._updates.remove(update)
                headers = {"Content-Type": "application/json"}
                if secret:
                    headers[SECRET_HEADER] = secret
                async with http.post(f"{base}/hook/abc", data=json.dumps(update), headers=headers) as response:
                    return response.status

            mark = fake.mark()
            assert await deliver(admin.send("/undang camat Krucil"), secret=None) == 403
            assert await deliver(admin.send("/undang camat Krucil"), secret="nope") == 403
            await asyncio.sleep(0.3)
            assert not [c for c in fake.calls[mark:] if c.chat_id == 777]
            assert await deliver(admin.send("/undang camat Krucil")) == 200
            await fake.wait_for_text(777, "Undangan dibuat", timeout=15, since=mark)
            async with http.get(f"{base}/healthz") as response:
                assert response.status == 200
                report = await response.json()
            assert report["database"] == "ok" and report["last_update_at"]

            # the health command of the Docker HEALTHCHECK agrees
            code, out, err = await _sambang(tmp_path, "health")
            assert code == 0 and "sehat" in out, err
            # a second bot on the same database refuses to start
            code, _, err = await _sambang(tmp_path, "run", TELEGRAM_BOT_TOKEN=TOKEN,
                                          TELEGRAM_API_BASE_URL=fake.base_url)
            assert code == 1 and "sudah berjalan" in err
            # an online backup while the bot keeps writing
            writes = [deliver(admin.send(f"/undang camat Tiris {i}")) for i in range(5)]
            backup_run = _sambang(tmp_path, "backup", str(tmp_path / "manual.db"))
            results = await asyncio.gather(backup_run, *writes)
            code, out, err = results[0]
            assert code == 0 and "integritas: ok" in out, err
            with sqlite3.connect(tmp_path / "manual.db") as conn:
                assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                at_backup = conn.execute("SELECT COUNT(*) FROM invitations").fetchone()[0]
            assert at_backup >= 1
            await asyncio.sleep(0.5)
            # restore refuses while the bot runs, and changes nothing
            code, _, err = await _sambang(tmp_path, "restore", str(tmp_path / "manual.db"), "--yes")
            assert code == 1 and "Hentikan bot dulu" in err
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    log = err.decode()
    assert proc.returncode == 0, log[-3000:]
    assert "Traceback" not in log and "stopped cleanly" in log
    invitations_now = _count(db, "SELECT COUNT(*) FROM invitations")
    assert invitations_now == 6
    # without --yes the restore only checks
    code, out, _ = await _sambang(tmp_path, "restore", str(tmp_path / "manual.db"))
    assert code == 1 and "utuh" in out and "--yes" in out
    assert _count(db, "SELECT COUNT(*) FROM invitations") == invitations_now
    code, out, err = await _sambang(tmp_path, "restore", str(tmp_path / "manual.db"), "--yes")
    assert code == 0, err
    assert _count(db, "SELECT COUNT(*) FROM invitations") == at_backup
    previous = list((tmp_path / "backups").glob("sebelum-restore-*.db"))
    assert len(previous) == 1 and str(previous[0]) in out
    assert _count(previous[0], "SELECT COUNT(*) FROM invitations") == invitations_now
    code, out, _ = await _sambang(tmp_path, "migrate")
    assert code == 0 and "sudah mutakhir" in out


async def test_restore_refuses_damaged_or_foreign_files(tmp_path: Path) -> None:
    code, _, _ = await _sambang(tmp_path, "migrate")
    assert code == 0
    before = (tmp_path / "ops.db").stat().st_size
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"SQLite format 3\x00" + os.urandom(8192))
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes(x)")
    code, out, err = await _sambang(tmp_path, "backup")
    assert code == 0, err
    good = Path(out.split("Cadangan dibuat: ")[1].split()[0])
    truncated = tmp_path / "truncated.db"
    _truncate_copy(good, truncated)
    for path, why in ((tmp_path / "missing.db", "tidak ditemukan"), (garbage, "SQLite"),
                      (foreign, "bukan database Sambang"), (truncated, "")):
        code, _, err = await _sambang(tmp_path, "restore", str(path), "--yes")
        assert code == 1 and "Gagal:" in err and why in err and "Traceback" not in err, (path, err)
    assert (tmp_path / "ops.db").stat().st_size == before
    assert not list((tmp_path / "backups").glob("sebelum-restore-*"))


async def test_audit_export_on_the_command_line(tmp_path: Path) -> None:
    assert (await _sambang(tmp_path, "migrate"))[0] == 0
    code, out, err = await _sambang(tmp_path, "invite", "--role", "camat", "--kecamatan", "Tiris")
    assert code == 0, err
    code, out, err = await _sambang(tmp_path, "audit", "export", "--output", str(tmp_path / "audit.csv"))
    assert code == 0 and "baris audit" in out, err
    text = (tmp_path / "audit.csv").read_text(encoding="utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0] == "no,waktu,telegram_id,nama,peran,tindakan,rincian"
    assert any(",invite," in line and "camat" in line for line in lines[1:])
    code, _, err = await _sambang(tmp_path, "audit", "export", "--since", "kemarin")
    assert code == 1 and "YYYY-MM-DD" in err


async def test_bad_webhook_settings_stop_with_one_line(tmp_path: Path) -> None:
    code, _, err = await _sambang(tmp_path, "run", "--webhook", "http://plain.example/hook",
                                  TELEGRAM_BOT_TOKEN=TOKEN)
    assert code == 2 and "https://" in err and "Traceback" not in err
    code, _, err = await _sambang(tmp_path, "run", "--webhook", "https://ok.example/hook",
                                  TELEGRAM_BOT_TOKEN=TOKEN, SAMBANG_WEBHOOK_SECRET="has spaces!")
    assert code == 2 and "SAMBANG_WEBHOOK_SECRET" in err
    code, _, err = await _sambang(tmp_path, "backup", SAMBANG_BACKUP_KEEP="zero")
    assert code == 2 and "SAMBANG_BACKUP_KEEP" in err
