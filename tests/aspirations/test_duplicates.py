"""Possible duplicates: the similarity measured on labelled pairs of Indonesian descriptions."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

from bot.aspirations.service import Draft
from bot.aspirations.similar import THRESHOLD, similar, terms
from bot.people import roster
from tests.harness import BotHarness
from tests.officials_support import buttons, card, official, press_card, press_on, status_of, submit

PANDANSARI = "35.13.02.2002"

PAIRS = Path(__file__).resolve().parents[1] / "data" / "duplicate_pairs.csv"


def test_indonesian_normalisation_finds_the_same_words() -> None:
    assert set(terms("Dusun Krajan selalu kebanjiran")) == set(terms("banjir krajan"))
    assert "lubang" in terms("jalan berlubang-lubang") and "sumbat" in terms("gorong gorong mampet")
    assert terms("Mohon bantuan untuk warga desa yang sudah lama") == []  # only stop words


def test_precision_and_recall_on_the_labelled_pairs() -> None:
    with PAIRS.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="|"))
    assert len(rows) >= 150
    same = sum(r["duplicate"] == "1" for r in rows)
    assert same >= 60 and len(rows) - same >= 60  # both kinds, plenty of each
    predicted = [(similar(r["first"], r["second"]) >= THRESHOLD, r["duplicate"] == "1") for r in rows]
    tp = sum(p and d for p, d in predicted)
    fp = sum(p and not d for p, d in predicted)
    fn = sum(d and not p for p, d in predicted)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    print(f"\nduplicate suggestion on {len(rows)} labelled pairs ({same} duplicates), threshold {THRESHOLD}:"
          f" precision {precision:.2f}, recall {recall:.2f}")
    assert precision >= 0.80 and recall >= 0.85


# -- end to end: offered before "Kirim", merged by an official ------------------------------------------------


async def test_an_official_merges_a_duplicate_and_its_kepala_desa_follows_the_main_one(harness: BotHarness) -> None:
    h = harness
    andi = await official(h, 20, "PUPR")
    dinkes = await official(h, 30, "DINKES", name="Sari")
    first = await h.kepala_desa(10)
    second = await h.kepala_desa(11, desa=PANDANSARI, name="Joko")
    main = await submit(h, first, "infrastruktur", "Jembatan bambu di dusun Krajan hampir roboh, warga takut lewat.")
    await h.settle()
    # the service offers the main one to the neighbouring village's head writing about the same bridge
    joko = await roster.get_person(h.svc.db, second.id)
    assert joko is not None
    draft = Draft(category="infrastruktur", description="Jembatan penghubung ke Krajan mau ambruk, tiangnya miring.")
    assert [d.ticket for d in await h.svc.aspirations.possible_duplicates(joko, draft)] == [main.ticket]
    assert await h.svc.aspirations.possible_duplicates(joko, replace(draft, category="kesehatan")) == []
    # ... and so does the bot, before "Kirim"; "Tetap kirim" sends it all the same
    await h.say(second, "/aspirasi", "Langkah 1 dari 4")
    await h.press(second, "Infrastruktur", "Langkah 2 dari 4")
    await h.say(second, draft.description or "", "Langkah 3 dari 4")
    await h.press(second, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    offered = await h.press(second, "✅ Kirim", "Mungkin sudah pernah dilaporkan")
    assert main.ticket in (offered.text or "") and "Desa Ledokombo" in (offered.text or "")
    assert "Jembatan bambu di dusun Krajan" in (offered.text or "") and "Tetap kirim" in (offered.text or "")
    receipt = await h.press(second, "📨 Tetap kirim", "Aspirasi terkirim")
    dup_ticket = (receipt.text or "").split("Nomor tiket: ")[1].split()[0]
    dup = await h.svc.aspirations.by_ticket(dup_ticket)
    assert dup is not None and dup.description == draft.description
    await h.settle()
    # a Telegram reply to the receipt joins the new aspiration's thread
    mark = h.server.mark()
    second.reply(receipt.message, "Tiang jembatan sisi selatan juga retak.")
    await h.server.wait_for_text(20, "sisi selatan juga retak", since=mark)

    # only the department handling it may merge it: a forged press of another department is refused
    refused = await press_on(h, dinkes, card(h, 20, dup.ticket), f"asp:act:{dup.id}:duplikat")
    assert "tidak ditangani OPD Anda" in refused.params["text"]
    await press_card(h, andi, 20, dup.ticket, "duplikat")
    await h.server.wait_for_text(20, "nomor tiket aspirasi utama")
    await h.say(andi, "ASP-2026-99999", "tidak ditemukan")  # a wrong number keeps the prompt open
    await h.say(andi, dup.ticket, "dirinya sendiri")
    await h.say(andi, main.ticket, "digabungkan dengan")
    told = await h.server.wait_for_text(11, "digabungkan")
    assert main.ticket in (told.text or "") and dup.ticket in (told.text or "")
    assert await status_of(h, dup.ticket) == "duplikat"
    await h.settle()
    assert buttons(card(h, 20, dup.ticket)) == []

    # the second head now follows the main ticket: its changes reach them, and /status shows it (not its thread)
    await press_card(h, andi, 20, main.ticket, "terima")
    follow = await h.server.wait_for_text(11, "digabung dengan aspirasi Anda")
    assert main.ticket in (follow.text or "") and "diterima oleh Dinas Pekerjaan Umum" in (follow.text or "")
    await press_card(h, andi, 20, main.ticket, "balas")
    await h.say(andi, "Tim survei datang hari Kamis ke Krajan.", "Balasan untuk")
    await h.settle()
    assert not any("Tim survei datang" in t for t in h.server.texts(11))
    detail = await h.say(second, f"/status {main.ticket}", main.ticket)
    assert "Percakapan" not in (detail.text or "") and "Tim survei" not in (detail.text or "")
    assert not detail.buttons
    # ... until the end: Selesai, and the main village's confirmation
    await press_card(h, andi, 20, main.ticket, "selesai")
    await h.say(andi, "Jembatan sudah diganti rangka baja.", "dinyatakan selesai")
    done = await h.server.wait_for_text(11, "dinyatakan selesai oleh Dinas Pekerjaan Umum")
    assert "Hasil: Jembatan sudah diganti rangka baja." in (done.text or "")
    await h.press(first, "✅ Ya, sudah tertangani", "ditutup sebagai tuntas")
    closed = await h.server.wait_for_text(11, "dinyatakan tuntas oleh desa pelapornya")
    assert main.ticket in (closed.text or "")
    assert not any("Sudah tertangani?" in t for t in h.server.texts(11))  # only the main village is asked
