"""Voice notes and videos as evidence, end to end: a kepala desa on a motorbike speaks the description; the summary,
the officials' forward, /status, the archive and the exports all carry the voice note. Videos are attachments
within limits the bot states."""

from __future__ import annotations

import csv
import hashlib
import io
from typing import Any

from tests.cli_support import cli_env, run_sambang
from tests.harness import BotHarness
from tests.media.support import archived, send_and_wait, wait_downloads
from tests.officials_support import card, official

VOICE = b"OggS\x00\x02" + b"suara kepala desa di atas motor " * 200
VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"banjir setinggi lutut " * 300


async def _to_description_step(harness: BotHarness, kades: Any) -> None:
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    describe = await harness.press(kades, "Infrastruktur", "Langkah 2 dari 4")
    assert "pesan suara" in (describe.text or "")


async def test_a_voice_note_is_the_description_from_summary_to_export(harness: BotHarness) -> None:
    andi = await official(harness, 50, "PUPR")
    kades = await harness.kepala_desa(10)
    await _to_description_step(harness, kades)
    voice = await send_and_wait(harness, kades, lambda: kades.send_voice(42, content=VOICE),
                                "Pesan suara 0:42 diterima sebagai uraian")
    summary = await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    assert "🎤 Pesan suara 0:42" in (summary.text or "") and "1 pesan suara" in (summary.text or "")
    await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")
    await harness.settle()
    # the officials hear it in Telegram: the voice note itself, by its file_id, then the card naming it
    sent = harness.server.calls_for(andi.id, "sendVoice")
    assert [c.params.get("voice") for c in sent if c.ok] == [voice["voice"]["file_id"]]
    assert "🎤 Pesan suara 0:42" in (card(harness, andi, "ASP-2026-00001").get("text") or "")
    # /status lists it and shows it
    listing = await harness.say(kades, "/status", "ASP-2026-00001")
    assert "🎤 Pesan suara 0:42" in (listing.text or "")
    detail = await harness.say(kades, "/status ASP-2026-00001", "Riwayat")
    assert "🎤 Pesan suara 0:42" in (detail.text or "")
    # archived with the right bytes and hash
    await wait_downloads(harness, count=1)
    path, sha, mime = await archived(harness, voice["voice"]["file_unique_id"])
    assert path.read_bytes() == VOICE and sha == hashlib.sha256(VOICE).hexdigest() and mime == "audio/ogg"
    relative = f"{sha[:2]}/{sha}.ogg"
    # the export says "pesan suara" with its archive path instead of an empty description
    tmp = harness.tmp_path
    code, _, err = await run_sambang(tmp, cli_env(tmp, "sambang.db"), "export", "--format", "csv",
                                     "-o", str(tmp / "aspirasi.csv"))
    assert code == 0, err
    row = next(csv.DictReader(io.StringIO((tmp / "aspirasi.csv").read_text("utf-8-sig"))))
    assert row["Uraian"] == f"pesan suara 0:42: {relative}"
    assert row["Lampiran (arsip media)"] == f"pesan suara 0:42: {relative}"


async def test_voice_and_written_description_together(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await _to_description_step(harness, kades)
    await harness.say(kades, "Jembatan gantung dusun Krajan putus, tali baja berkarat.", "Langkah 3 dari 4")
    await send_and_wait(harness, kades, lambda: kades.send_voice(75), "Pesan suara 1:15 diterima")
    summary = await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    text = summary.text or ""
    assert "Jembatan gantung dusun Krajan putus" in text and "🎤 Pesan suara 1:15" in text
    await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")
    aspiration = await harness.svc.aspirations.by_ticket("ASP-2026-00001")
    assert aspiration is not None and aspiration.description.startswith("Jembatan gantung")
    assert [v.duration for v in aspiration.voices] == [75]


async def test_a_voice_note_first_then_text_adds_the_written_words(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await _to_description_step(harness, kades)
    await send_and_wait(harness, kades, lambda: kades.send_voice(9), "Pesan suara 0:09 diterima sebagai uraian")
    await send_and_wait(harness, kades, lambda: kades.send("Lokasinya di depan balai desa, dekat masjid."),
                        "Keterangan tertulis disimpan")
    summary = await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    assert "depan balai desa" in (summary.text or "") and "🎤 Pesan suara 0:09" in (summary.text or "")


async def test_videos_and_video_notes_are_attachments_within_the_stated_limits(harness: BotHarness) -> None:
    andi = await official(harness, 50, "PUPR")
    kades = await harness.kepala_desa(10)
    await _to_description_step(harness, kades)
    step3 = await harness.say(kades, "Banjir setinggi lutut di jalan poros setiap hujan deras.", "Langkah 3 dari 4")
    assert "video" in (step3.text or "") and "20 MB" in (step3.text or "")
    too_big = await send_and_wait(harness, kades, lambda: kades.send_video(size=45 * 1024 * 1024), "terlalu besar")
    assert too_big["video"]
    video = await send_and_wait(harness, kades, lambda: kades.send_video(content=VIDEO, caption="jam 4 sore"),
                                "Video diterima")
    note = await send_and_wait(harness, kades, lambda: kades.send_video_note(8), "Video bulat diterima")
    await send_and_wait(harness, kades, lambda: kades.send_video(), "Video sudah 2, batas maksimal")
    summary = await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    assert "2 video" in (summary.text or "")
    await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")
    await harness.settle()
    assert [c.params.get("video") for c in harness.server.calls_for(andi.id, "sendVideo") if c.ok] == [
        video["video"]["file_id"]]
    assert [c.params.get("video_note") for c in harness.server.calls_for(andi.id, "sendVideoNote") if c.ok] == [
        note["video_note"]["file_id"]]
    await wait_downloads(harness, count=2)
    path, sha, _ = await archived(harness, video["video"]["file_unique_id"])
    assert path.read_bytes() == VIDEO and path.name == f"{sha}.mp4"


async def test_a_voice_note_with_a_caption_long_enough_brings_its_written_description(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await _to_description_step(harness, kades)
    await send_and_wait(harness, kades, lambda: kades.send_voice(20, caption="Pipa PDAM bocor di depan SDN 2."),
                        "bersama uraian tertulis")
    await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    draft = await harness.svc.aspirations.load_draft(kades.id)
    assert draft is not None and draft.description == "Pipa PDAM bocor di depan SDN 2."
    assert [v.duration for v in draft.voices] == [20]
