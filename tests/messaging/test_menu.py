"""The command menu: the commands the composition root lists, with their descriptions from messages/, read the
same in /bantuan and in Telegram's command menus (setMyCommands)."""

from __future__ import annotations

import pytest

from bot.app import MENU
from bot.messaging.menu import Menu
from tests.harness import BotHarness

#: What a kepala desa reads, in order and word for word.
KADES_MENU = [
    ("start", "Mulai / lihat data pendaftaran Anda"),
    ("aspirasi", "Sampaikan aspirasi atau masalah desa"),
    ("status", "Lihat status aspirasi"),
    ("batal", "Batalkan langkah yang sedang berjalan"),
    ("jadwal", "Jadwal kunjungan Bupati (Ngantor di Kecamatan)"),
    ("potensi", "Catat potensi desa (pertanian, wisata, UMKM, ...)"),
    ("lokasi", "Kirim lokasi kantor desa untuk peta"),
    ("bantuan", "Daftar perintah dan cara memakai Sambang"),
]


async def test_a_new_kepala_desa_reads_one_menu_in_telegram_and_in_bantuan(harness: BotHarness) -> None:
    invite = await harness.say(harness.admin, "/undang kepala_desa 35.13.02.2001", "Undangan dibuat")
    code = (invite.text or "").split("Kode: ")[1].split()[0]
    kades = harness.user(10, "Budi")
    await harness.say(kades, f"/start {code}", "Pendaftaran berhasil")
    await harness.settle()
    menu = harness.server.commands({"type": "chat", "chat_id": 10})
    assert [(c["command"], c["description"]) for c in menu] == KADES_MENU
    assert [(c["command"], c["description"]) for c in harness.server.commands()] == [KADES_MENU[0], KADES_MENU[-1]]
    text = (await harness.say(kades, "/bantuan", "Bantuan Sambang")).text or ""
    lines = [line for line in text.splitlines() if line.startswith("/")]
    assert lines == [f"/{name} — {description}" for name, description in KADES_MENU]


def test_the_menu_fingerprint_is_kept_so_a_deployed_bot_does_not_send_every_menu_again() -> None:
    assert Menu(MENU).version() == "c9e2bb5ed699"  # /lokasi and /dasbor added


def test_a_command_without_a_description_stops_the_start() -> None:
    with pytest.raises(ValueError, match="nosuchcommand"):
        Menu([*MENU, ("nosuchcommand", None)])
