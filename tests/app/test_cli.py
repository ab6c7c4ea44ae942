"""The `sambang` command line as an admin uses it, and the real bot process against the fake Bot API."""

from __future__ import annotations

import asyncio
import re
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.cli_support import cli_env, run_sambang
from tests.fake_telegram import FakeTelegram

TOKEN = "123456:CLI-test"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return cli_env(tmp_path, "cli.db", **extra)


async def _sambang(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, str]:
    return await run_sambang(tmp_path, _env(tmp_path, **env), *args)


async def test_migrate_loads_the_regency(tmp_path: Path) -> None:
    code, out, _ = await _sambang(tmp_path, "migrate")
    assert code == 0
    assert "24 kecamatan, 330 desa/kelurahan" in out
    code, out, _ = await _sambang(tmp_path, "migrate")
    assert "sudah mutakhir" in out


async def test_invite_prints_code_and_link(tmp_path: Path) -> None:
    assert (await _sambang(tmp_path, "migrate"))[0] == 0  # only run and migrate create the database
    code, out, err = await _sambang(tmp_path, "invite", "--role", "kepala_desa", "--desa", "35.13.02.2001",
                                    SAMBANG_BOT_USERNAME="sambang_prob_bot")
    assert code == 0, err
    invite = re.search(r"Kode undangan: ([A-Z0-9]{8})", out)
    assert invite is not None
    assert f"t.me/sambang_prob_bot?start={invite.group(1)}" in out
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        row = conn.execute("SELECT role, desa_code FROM invitations WHERE code = ?", (invite.group(1),)).fetchone()
    assert row == ("kepala_desa", "35.13.02.2001")


async def test_invite_refuses_unknown_desa_with_one_line(tmp_path: Path) -> None:
    assert (await _sambang(tmp_path, "migrate"))[0] == 0
    code, out, err = await _sambang(tmp_path, "invite", "--role", "kepala_desa", "--desa", "35.13.99.9999")
    assert code == 1
    assert "tidak ditemukan" in err and "Traceback" not in err


async def test_roster_import_success_and_refusal(tmp_path: Path) -> None:
    assert (await _sambang(tmp_path, "migrate"))[0] == 0
    good = tmp_path / "kades.csv"
    good.write_text("kode_desa;nama;telepon\n35.13.02.2001;Budi;0812-1111-2222\n35.13.02.2002;Sari;628133334444\n")
    code, out, err = await _sambang(tmp_path, "roster", "import", str(good))
    assert code == 0, err
    assert "2 orang baru" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("kode_desa,nama,telepon\n35.13.02.2003,Joko,12\n")
    code, out, err = await _sambang(tmp_path, "roster", "import", str(bad))
    assert code == 1 and "Baris 2" in err and "tidak ada data yang disimpan" in err
    code, _, err = await _sambang(tmp_path, "roster", "import", str(tmp_path / "missing.csv"))
    assert code == 1 and "Tidak dapat membaca" in err


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(token=TOKEN)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_real_process_registers_and_stops_cleanly_on_sigterm(tmp_path: Path, fake: FakeTelegram) -> None:
    env = _env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=fake.base_url, SAMBANG_ADMINS="777")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        await fake.wait_for_call("deleteWebhook", timeout=30)
        admin = fake.user(777, "Admin")
        mark = fake.mark()
        admin.send("/undang camat Krucil")
        call = await fake.wait_for_text(777, "Undangan dibuat", timeout=15, since=mark)
        code = (call.text or "").split("Kode: ")[1].split()[0]
        camat = fake.user(778, "Camat Krucil")
        mark = fake.mark()
        camat.send(f"/start {code}")
        await fake.wait_for_text(778, "Pendaftaran berhasil", timeout=15, since=mark)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert "Traceback" not in err.decode()
