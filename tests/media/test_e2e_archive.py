"""The media archive end to end: the real bot against the fake Bot API, which serves the files' bytes."""

from __future__ import annotations

import hashlib
import time

from bot.operations.health import health_report
from tests.cli_support import cli_env, run_sambang
from tests.harness import BotHarness
from tests.media.support import archived, send_and_wait, start_aspiration, wait_downloads

PHOTO = b"\xff\xd8\xff\xe0" + b"foto jembatan putus " * 500
PDF = b"%PDF-1.4\n" + b"proposal rehab jembatan " * 300


async def test_photo_and_pdf_are_archived_by_their_sha256_without_delaying_the_receipt(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await start_aspiration(harness, kades)
    photo = await send_and_wait(harness, kades, lambda: kades.send_photo(content=PHOTO), "Foto 1 diterima")
    doc = await send_and_wait(harness, kades, lambda: kades.send_document("proposal.pdf", "application/pdf",
                                                                         content=PDF), "proposal.pdf diterima")
    assert not _get_files(harness) and not harness.server.downloads  # nothing before Kirim
    await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")
    rows = await wait_downloads(harness, count=2)
    assert {r["owner"] for r in rows} == {"asp:1"}

    photo_id = photo["photo"][-1]["file_unique_id"]
    path, sha, mime = await archived(harness, photo_id)
    assert path.read_bytes() == PHOTO and sha == hashlib.sha256(PHOTO).hexdigest() and mime == "image/jpeg"
    assert path.relative_to(harness.svc.media.root).as_posix() == f"{sha[:2]}/{sha}.jpg"
    path, sha, mime = await archived(harness, doc["document"]["file_unique_id"])
    assert path.read_bytes() == PDF and sha == hashlib.sha256(PDF).hexdigest() and mime == "application/pdf"
    assert path.name == f"{sha}.pdf"
    assert path.stat().st_mode & 0o077 == 0  # evidence holds personal data: the bot's user only
    # the file_id stays with the attachment: still the fastest way to forward
    aspiration = await harness.svc.aspirations.by_ticket("ASP-2026-00001")
    assert aspiration is not None and aspiration.photos[0].file_id == photo["photo"][-1]["file_id"]


async def test_the_same_file_sent_twice_is_stored_once(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    for number in (1, 2):
        await start_aspiration(harness, kades)
        await send_and_wait(harness, kades, lambda: kades.send_photo(content=PHOTO), "Foto 1 diterima")
        await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
        await harness.press(kades, "✅ Kirim", f"ASP-2026-0000{number}")
    await wait_downloads(harness, count=2)  # two Telegram files (two sends)...
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM media_files") == 1  # ...one stored content
    files = [p for p in harness.svc.media.root.rglob("*") if p.is_file()]
    assert len(files) == 1 and files[0].read_bytes() == PHOTO


async def test_getfile_failing_several_times_then_succeeding(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await start_aspiration(harness, kades)
    photo = await send_and_wait(harness, kades, lambda: kades.send_photo(content=PHOTO), "Foto 1 diterima")
    await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    harness.server.fail_next("getFile", status=502, times=2)
    harness.server.fail_next("getFile", status=429, retry_after=30, times=1)
    harness.server.drop_connection_next("getFile", times=1)
    await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")  # the receipt does not wait for Telegram's files
    for tries in range(1, 5):  # each failure waits longer; the worker tries again when the time has come
        row = await _wait_attempts(harness, tries)
        assert row["status"] == "pending" and row["last_error"]
        await harness.advance(hours=2)
    await wait_downloads(harness, count=1)
    path, sha, _ = await archived(harness, photo["photo"][-1]["file_unique_id"])
    assert path.read_bytes() == PHOTO
    assert len(_get_files(harness)) == 5


async def test_a_file_telegram_no_longer_has_is_marked_failed_after_a_few_tries(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await start_aspiration(harness, kades)
    photo = await send_and_wait(harness, kades, lambda: kades.send_photo(content=PHOTO), "Foto 1 diterima")
    await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    harness.server.lose_file(photo["photo"][-1]["file_id"])
    await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")
    await _wait_attempts(harness, 1)
    await harness.advance(hours=1)
    await _wait_attempts(harness, 2)
    await harness.advance(hours=1)
    rows = await wait_downloads(harness, status="failed", count=1)
    assert rows[0]["attempts"] == 3 and "invalid file_id" in rows[0]["last_error"].lower()
    await harness.advance(hours=24)  # given up: not asked for again
    assert len(_get_files(harness)) == 3
    assert not list(harness.svc.media.root.rglob("*.jpg"))
    # the operator sees it
    code, out, err = await run_sambang(harness.tmp_path, cli_env(harness.tmp_path, "sambang.db"), "health")
    assert code == 0, err
    assert "unduhan media: 0 menunggu, 1 gagal" in out
    report = await health_report(harness.svc.db, mode="webhook")
    assert report["media_downloads"] == {"pending": 0, "failed": 1}


async def _wait_attempts(harness: BotHarness, attempts: int) -> object:
    import asyncio
    import time

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        row = await harness.svc.db.fetchone("SELECT * FROM media_downloads ORDER BY id LIMIT 1")
        if row is not None and row["attempts"] >= attempts:
            return row
        await asyncio.sleep(0.02)
    raise AssertionError(f"no download reached {attempts} attempts")


def _get_files(harness: BotHarness) -> list[object]:
    return [c for c in harness.server.calls if c.method == "getFile"]


async def test_potential_photos_are_archived_too(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/potensi", "langkah 1 dari 4")
    await harness.press(kades, "🏞 Wisata", "Langkah 2 dari 4")
    await harness.say(kades, "Air terjun Coban Baung di dusun Krajan, dikelola pokdarwis", "Langkah 3 dari 4")
    photo = await send_and_wait(harness, kades, lambda: kades.send_photo(content=PHOTO), "Foto 1 diterima")
    await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan potensi desa")
    await harness.press(kades, "✅ Simpan", "Potensi desa tersimpan")
    rows = await wait_downloads(harness, count=1)
    assert rows[0]["owner"] == "potensi:1"
    path, sha, _ = await archived(harness, photo["photo"][-1]["file_unique_id"])
    assert path.read_bytes() == PHOTO and sha == hashlib.sha256(PHOTO).hexdigest()


async def test_a_file_over_the_download_limit_is_marked_failed_at_once(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await start_aspiration(harness, kades)
    await send_and_wait(harness, kades, lambda: kades.send_document("peta.pdf", "application/pdf", 19_000_000),
                        "peta.pdf diterima")
    await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    harness.server.fail_next("getFile", status=400, description="file is too big")
    await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")
    rows = await wait_downloads(harness, status="failed", count=1)
    assert rows[0]["attempts"] == 1 and "too big" in rows[0]["last_error"]


async def test_a_slow_download_keeps_nobody_waiting(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await start_aspiration(harness, kades)
    await send_and_wait(harness, kades, lambda: kades.send_photo(content=PHOTO), "Foto 1 diterima")
    await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    harness.server.file_delay = 3.0
    started = time.monotonic()
    await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")
    await harness.server.wait_until(lambda: bool(harness.server.downloads), timeout=5)  # the download is running
    await harness.say(kades, "/status", "ASP-2026-00001")  # ... and the bot answers meanwhile
    assert time.monotonic() - started < 2.5
    assert await harness.svc.db.fetchval("SELECT status FROM media_downloads") == "pending"
    await wait_downloads(harness, count=1, timeout=10)


async def test_a_file_url_answering_404_counts_as_gone(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await start_aspiration(harness, kades)
    doc = await send_and_wait(harness, kades, lambda: kades.send_document("surat.pdf", "application/pdf",
                                                                         content=PDF), "surat.pdf diterima")
    await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    harness.server.expire_file_path(doc["document"]["file_id"])
    await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")
    for tries in (1, 2):
        await _wait_attempts(harness, tries)
        await harness.advance(hours=1)
    rows = await wait_downloads(harness, status="failed", count=1)
    assert rows[0]["gone_answers"] == 3 and len(_get_files(harness)) == 3
