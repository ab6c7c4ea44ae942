"""The download queue survives a SIGKILL: the real bot process (`python -m bot.cli run`) is killed after the kepala
desa got the receipt and before the file was downloaded; after the restart the file is archived."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path
from typing import Any

from tests.fake_telegram import FakeTelegram, FakeUser
from tests.storage.test_crash_safety import TOKEN, BotProcess, _query, _register

PHOTO = b"\xff\xd8\xff\xe0" + b"saluran irigasi jebol " * 300


async def _step(server: FakeTelegram, user: FakeUser, action: Any, expect: str) -> None:
    mark = server.mark()
    action()
    await server.wait_for_text(user.id, expect, 30, since=mark)


async def test_a_download_queued_before_a_sigkill_is_archived_after_the_restart(tmp_path: Path) -> None:
    server = FakeTelegram(token=TOKEN)
    await server.start()
    bot = BotProcess(tmp_path, server)
    try:
        await bot.start()
        await asyncio.to_thread(_register, bot.db, [700_001])
        kades = server.user(700_001, "Kades")
        await _step(server, kades, lambda: kades.send("/aspirasi"), "Langkah 1 dari 4")
        await _step(server, kades, lambda: kades.press_button("Infrastruktur"), "Langkah 2 dari 4")
        await _step(server, kades, lambda: kades.send("Saluran irigasi dusun Krajan jebol, sawah 12 ha kering."),
                    "Langkah 3 dari 4")
        photo = kades.send_photo(content=PHOTO)["message"]["photo"][-1]
        await server.wait_for_text(kades.id, "Foto 1 diterima", 30)
        await _step(server, kades, lambda: kades.press_button("➡️ Lanjut ke ringkasan"), "Ringkasan aspirasi")
        server.fail_next("getFile", status=500, times=1000)  # Telegram's file service is down for now
        await _step(server, kades, lambda: kades.press_button("✅ Kirim"), "Aspirasi terkirim")
        await server.wait_for(lambda c: c.method == "getFile", 30, what="a first try at the download")
        bot.kill()
        await bot.wait()
        assert _query(bot.db, "SELECT status FROM media_downloads") == [("pending",)]
        assert not (tmp_path / "media").exists() or not list((tmp_path / "media").rglob("*.jpg"))

        server.clear_faults()
        await bot.start()
        sha = hashlib.sha256(PHOTO).hexdigest()
        archived = tmp_path / "media" / sha[:2] / f"{sha}.jpg"
        deadline = time.monotonic() + 30  # the first retry comes 5 s after the failed try
        while _query(bot.db, "SELECT status FROM media_downloads") != [("done",)]:
            assert time.monotonic() < deadline, _query(bot.db, "SELECT * FROM media_downloads")
            await asyncio.sleep(0.1)
        assert archived.read_bytes() == PHOTO
        assert _query(bot.db, "SELECT file_unique_id, sha256 FROM media_downloads") == [(photo["file_unique_id"],
                                                                                         sha)]
        assert await bot.terminate() == 0
    finally:
        await bot.close()
