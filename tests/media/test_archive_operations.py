"""The archive in operations: backups (incremental) and restore, `sambang media verify`, exports with archive paths
and `sambang export --with-media` — the real bot archives the files, the real `sambang` command works on them."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import zipfile
from pathlib import Path

from bot.core.clock import FakeClock
from tests.cli_support import cli_env, run_sambang
from tests.harness import BotHarness
from tests.media.support import send_and_wait, start_aspiration, wait_downloads

PHOTO = b"\xff\xd8\xff\xe0" + b"foto longsor tebing " * 400
PDF = b"%PDF-1.4\n" + b"surat permohonan bronjong " * 200


def _path(content: bytes, ext: str) -> str:
    sha = hashlib.sha256(content).hexdigest()
    return f"{sha[:2]}/{sha}.{ext}"


async def _archived_aspiration(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await start_aspiration(harness, kades, "Tebing di dusun Krajan longsor menutup separuh jalan desa.")
    await send_and_wait(harness, kades, lambda: kades.send_photo(content=PHOTO), "Foto 1 diterima")
    await send_and_wait(harness, kades, lambda: kades.send_document("permohonan.pdf", "application/pdf",
                                                                    content=PDF), "permohonan.pdf diterima")
    await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")
    await wait_downloads(harness, count=2)
    await harness.stop()


async def test_backup_carries_the_archive_incrementally_and_restore_brings_it_back(harness: BotHarness) -> None:
    await _archived_aspiration(harness)
    tmp = harness.tmp_path
    env = cli_env(tmp, "sambang.db")
    media = tmp / "media"
    backups = tmp / "cadangan"
    code, out, err = await run_sambang(tmp, env, "backup", f"{backups}/")
    assert code == 0, err
    assert "2 berkas baru disalin" in out
    for content, ext in ((PHOTO, "jpg"), (PDF, "pdf")):
        assert (backups / "media" / _path(content, ext)).read_bytes() == content
    copied = backups / "media" / _path(PHOTO, "jpg")
    before = copied.stat().st_ino, copied.stat().st_mtime_ns
    # the next backup copies only what is new: nothing here
    code, out, err = await run_sambang(tmp, env, "backup", f"{backups}/")
    assert code == 0, err
    assert "0 berkas baru disalin" in out and "2 sudah ada di cadangan" in out
    assert (copied.stat().st_ino, copied.stat().st_mtime_ns) == before
    # the disk with the archive is lost; the database comes back from the backup, and the archive with it
    backup_file = sorted(backups.glob("sambang-*.db"))[0]
    shutil.rmtree(media)
    code, out, err = await run_sambang(tmp, env, "restore", str(backup_file), "--yes")
    assert code == 0, err + out
    assert "Arsip media dipulihkan" in out and "2 berkas disalin" in out
    for content, ext in ((PHOTO, "jpg"), (PDF, "pdf")):
        assert (media / _path(content, ext)).read_bytes() == content
    code, out, err = await run_sambang(tmp, env, "media", "verify")
    assert code == 0, err + out
    assert "2 berkas diperiksa" in out


async def test_the_daily_backup_carries_the_archive_and_copies_each_file_once(tmp_path: Path, clock: FakeClock) -> None:
    folder = tmp_path / "cadangan"
    h = BotHarness(tmp_path, clock, extra={"SAMBANG_BACKUP_DIR": str(folder), "SAMBANG_BACKUP_TIME": "02:00"})
    await h.start()
    try:
        kades = await h.kepala_desa(10)
        await start_aspiration(h, kades)
        await send_and_wait(h, kades, lambda: kades.send_photo(content=PHOTO), "Foto 1 diterima")
        await h.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
        await h.press(kades, "✅ Kirim", "Aspirasi terkirim")
        await wait_downloads(h, count=1)
        await h.advance(days=1)  # the next day's backup, with the archive beside it
        copied = folder / "media" / _path(PHOTO, "jpg")
        assert copied.read_bytes() == PHOTO
        first = os.stat(copied).st_ino, os.stat(copied).st_mtime_ns
        backups = len(list(folder.glob("sambang-*.db")))
        await h.advance(days=1)  # and the day after: the file is there already, not copied again
        assert len(list(folder.glob("sambang-*.db"))) == backups + 1
        assert (os.stat(copied).st_ino, os.stat(copied).st_mtime_ns) == first
    finally:
        await h.close()


async def test_media_verify_reports_a_tampered_and_a_missing_file(harness: BotHarness) -> None:
    await _archived_aspiration(harness)
    tmp = harness.tmp_path
    env = cli_env(tmp, "sambang.db")
    code, out, err = await run_sambang(tmp, env, "media", "verify")
    assert code == 0 and "Arsip media utuh" in out, err
    photo, pdf = tmp / "media" / _path(PHOTO, "jpg"), tmp / "media" / _path(PDF, "pdf")
    photo.write_bytes(PHOTO.replace(b"longsor", b"LONGSOR"))  # same size, other content
    pdf.unlink()
    code, out, err = await run_sambang(tmp, env, "media", "verify")
    assert code == 1, out
    assert "TIDAK utuh" in out and "1 isinya berubah, 1 hilang" in out
    assert f"BERUBAH  {_path(PHOTO, 'jpg')}" in out and f"HILANG   {_path(PDF, 'pdf')}" in out
    # a damaged file is not carried into a backup as if it were good
    code, out, err = await run_sambang(tmp, env, "backup", f"{tmp / 'cadangan'}/")
    assert code == 1 and f"RUSAK    {_path(PHOTO, 'jpg')}" in out


async def test_exports_name_each_attachment_by_its_archive_path_and_zip_the_files(harness: BotHarness) -> None:
    await _archived_aspiration(harness)
    tmp = harness.tmp_path
    env = cli_env(tmp, "sambang.db")
    code, out, err = await run_sambang(tmp, env, "export", "--format", "csv", "-o", str(tmp / "aspirasi.csv"))
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO((tmp / "aspirasi.csv").read_text("utf-8-sig"))))
    assert rows[0]["Lampiran (arsip media)"].splitlines() == [
        f"foto: {_path(PHOTO, 'jpg')}", f"dokumen permohonan.pdf: {_path(PDF, 'pdf')}"]
    code, out, err = await run_sambang(tmp, env, "export", "--format", "xlsx", "--with-media",
                                       "-o", str(tmp / "ekspor.zip"))
    assert code == 0, err
    assert "2 berkas" in err
    with zipfile.ZipFile(tmp / "ekspor.zip") as bundle:
        names = sorted(bundle.namelist())
        assert names[:2] == sorted([f"media/{_path(PHOTO, 'jpg')}", f"media/{_path(PDF, 'pdf')}"])
        assert names[2].endswith(".xlsx") and len(names) == 3
        assert bundle.read(f"media/{_path(PHOTO, 'jpg')}") == PHOTO
        assert bundle.read(f"media/{_path(PDF, 'pdf')}") == PDF
    assert os.stat(tmp / "ekspor.zip").st_mode & 0o077 == 0
