"""Officials end to end (real Application, real PTB networking, fake Bot API): routing of every category,
forwarding with attachments, every button and what the kepala desa hears, Alihkan, and the reply flows."""

from __future__ import annotations

import pytest

from bot.core.domain import CATEGORIES
from tests.aspirations.test_e2e_foundation import _submit_full
from tests.harness import ADMIN_ID, BotHarness
from tests.officials_support import (
    LABEL,
    buttons,
    card,
    data_of,
    finish,
    inbox,
    leader,
    official,
    press_card,
    press_on,
    status_of,
    submit,
)

# Officials of every default department, and who should hear about each category.
DEPARTMENT_USERS = {"PUPR": 101, "DISPENDUKCAPIL": 102, "ORGANISASI": 103, "DINKES": 104, "DISDIK": 105,
                    "DINSOS": 106, "DISTAN": 107, "DISKOPERINDAG": 108, "DLH": 109, "BPBD": 110}
LEADER = 70
EXPECTED = {
    "infrastruktur": {101},
    "pelayanan_publik": {102, 103},
    "kesehatan": {104},
    "pendidikan": {105},
    "sosial": {106},
    "ekonomi": {107, 108},
    "lingkungan": {109, 110},
    "kinerja_kecamatan": {LEADER},
    "lainnya": {ADMIN_ID},
}


async def test_every_category_reaches_its_departments_only(harness: BotHarness) -> None:
    assert set(EXPECTED) == {c.code for c in CATEGORIES}
    for code, uid in DEPARTMENT_USERS.items():
        await official(harness, uid, code, name=f"Pejabat {code}")
    await leader(harness, LEADER)
    kades = await harness.kepala_desa(10)
    camat = harness.user(40, "Camat")
    await harness.register(camat, "camat", kecamatan="Sumber")
    await harness.say(harness.admin, "/start", "Selamat datang")  # the admin has talked to the bot
    tickets = {}
    for category in EXPECTED:
        aspiration = await submit(harness, kades, category, f"Uraian contoh untuk kategori {category} di desa.")
        tickets[category] = aspiration.ticket
    await harness.settle()
    everyone = set(DEPARTMENT_USERS.values()) | {LEADER, ADMIN_ID, 40}
    for category, ticket in tickets.items():
        got = {uid for uid in everyone if any(f"Aspirasi {ticket}" in t for t in harness.server.texts(uid))}
        assert got == EXPECTED[category], (category, got)
        for uid in EXPECTED[category]:
            assert LABEL["terima"] in buttons(card(harness, uid, ticket))
    # the confidential one never shows an Alihkan (to a department) button, and its card says so
    secret = card(harness, LEADER, tickets["kinerja_kecamatan"])
    assert "RAHASIA" in secret["text"] and LABEL["alihkan"] not in buttons(secret)
    # several departments are stored as such, and /status names them
    asp = await harness.svc.aspirations.by_ticket(tickets["pelayanan_publik"])
    assert asp is not None and asp.departments == ("DISPENDUKCAPIL", "ORGANISASI")
    detail = await harness.say(kades, f"/status {tickets['pelayanan_publik']}", "Ditangani")
    assert "Dinas Kependudukan dan Pencatatan Sipil, Bagian Organisasi Sekretariat Daerah" in (detail.text or "")
    # an official sees their department's aspirations in /status, and only those
    listing = await harness.say(harness.user(102), "/status", "Aspirasi untuk OPD Anda")
    assert tickets["pelayanan_publik"] in (listing.text or "") and tickets["infrastruktur"] not in (listing.text or "")
    await harness.say(harness.user(101), f"/status {tickets['kinerja_kecamatan']}", "tidak ditemukan")


async def test_forward_through_the_bot_with_photos_location_and_group_inbox(harness: BotHarness) -> None:
    andi = await official(harness, 20, "PUPR")
    group = await inbox(harness, andi, -100500, "Inbox PUPR")
    kades = await harness.kepala_desa(10)
    ticket = await _submit_full(harness, kades, description="Jalan poros desa Ledokombo rusak parah sepanjang 2 km.")
    await harness.settle()
    for chat in (20, group.id):
        calls = [c.method for c in harness.server.calls_for(chat) if c.ok and c.method.startswith("send")]
        assert calls[-3:] == ["sendMediaGroup", "sendLocation", "sendMessage"], calls
        album = [c for c in harness.server.calls_for(chat, "sendMediaGroup")][-1]
        assert len(album.messages) == 2 and ticket in (album.text or "")
        text = card(harness, chat, ticket)["text"]
        assert "Kepala Desa Ledokombo (Budi), Kec. Sumber" in text and "2 foto" in text and "lokasi" in text
        assert "Batas terima/alihkan: 5 Mar 2026" in text and "Batas tanggapan: 9 Mar 2026" in text
    # documents and a single photo go by file_id too
    asp = await submit(harness, kades, "infrastruktur", "Gorong-gorong tersumbat di dusun Krajan.", photos=1,
                       documents=1)
    await harness.settle()
    photo = harness.server.calls_for(20, "sendPhoto")[-1]
    assert photo.params["photo"] == asp.photos[0].file_id
    document = harness.server.calls_for(20, "sendDocument")[-1]
    assert document.params["document"] == asp.documents[0].file_id and "surat0.pdf" in (document.text or "")
    # callback data stays within Telegram's 64 bytes (the fake server refuses longer ones anyway)
    assert all(len(b["callback_data"].encode()) <= 64 for row in card(harness, 20, asp.ticket)["reply_markup"][
        "inline_keyboard"] for b in row)


async def test_terima_proses_selesai_and_ya_close_the_loop(harness: BotHarness) -> None:
    andi = await official(harness, 20, "PUPR")
    group = await inbox(harness, andi, -100500, "Inbox PUPR")
    kades = await harness.kepala_desa(10)
    asp = await submit(harness, kades, "infrastruktur", "Jembatan bambu <b>dusun</b> Krajan & {{ x }} hampir roboh.")
    await harness.settle()
    assert "Jembatan bambu <b>dusun</b> Krajan & {{ x }} hampir roboh." in card(harness, group, asp.ticket)["text"]
    answer = await press_card(harness, andi, 20, asp.ticket, "terima")
    assert "diterima" in answer.params.get("text", "")
    accepted = await harness.server.wait_for_text(10, f"Aspirasi {asp.ticket} Anda telah diterima oleh Dinas Pekerjaan")
    assert "<b>dusun</b> Krajan &" in (accepted.text or "")
    await harness.settle()
    for chat in (20, group.id):  # the group's card and the private card both show who acted
        message = card(harness, chat, asp.ticket)
        assert "Status: Diterima" in message["text"] and "diterima oleh Andi (Dinas Pekerjaan Umum" in message["text"]
        assert LABEL["terima"] not in buttons(message) and LABEL["proses"] in buttons(message)
    # another member of the group presses Proses on the group's card
    budi = await official(harness, 21, "PUPR", name="Budi PU")
    await press_card(harness, budi, group, asp.ticket, "proses")
    await harness.server.wait_for_text(10, "sedang diproses oleh Dinas Pekerjaan Umum")
    await harness.settle()
    assert "diproses oleh Budi PU" in card(harness, 20, asp.ticket)["text"]
    await finish(harness, andi, 20, asp.ticket)
    done = await harness.server.wait_for_text(10, "Sudah tertangani?")
    assert "selesai" in (done.text or "") and "16 Maret 2026" in (done.text or "")  # 10 working days
    await harness.settle()
    assert buttons(card(harness, group, asp.ticket)) == [LABEL["balas"]]
    await harness.press(kades, "✅ Ya, sudah tertangani", "ditutup sebagai tuntas")
    await harness.settle()
    assert await status_of(harness, asp.ticket) == "ditutup"
    final = card(harness, group, asp.ticket)
    assert "Status: Tuntas" in final["text"] and "dikonfirmasi tuntas" in final["text"]
    assert buttons(final) == []
    history = [h.action for h in await harness.svc.aspirations.history(asp.id)]
    assert history == ["dikirim", "diterima", "diproses", "dinyatakan selesai", "dikonfirmasi tuntas"]
    sla = await harness.svc.db.fetchone("SELECT * FROM aspiration_sla WHERE aspiration_id = ?", (asp.id,))
    assert sla["accepted_at"] and sla["responded_at"]


async def test_tolak_and_tidak_dapat_ask_for_a_reason_that_reaches_the_kepala_desa(harness: BotHarness) -> None:
    andi = await official(harness, 20, "DINSOS")
    kades = await harness.kepala_desa(10)
    first = await submit(harness, kades, "sosial", "Mohon bantuan bedah rumah untuk Mbah Sarmi, rumah hampir roboh.")
    second = await submit(harness, kades, "sosial", "Warga miskin ekstrem belum terdaftar DTKS, mohon didata.")
    await harness.settle()
    await press_card(harness, andi, 20, first.ticket, "tolak")
    await harness.server.wait_for_text(20, "alasan penolakan")
    await harness.say(andi, "ok", "terlalu pendek")  # the prompt stays open
    await harness.say(andi, "Program bedah rumah tahun ini sudah penuh; diajukan lagi tahun depan.",
                      "ditolak. Alasan sudah dikirim")
    text = (await harness.server.wait_for_text(10, f"Aspirasi {first.ticket} Anda ditolak")).text or ""
    assert "Alasan: Program bedah rumah tahun ini sudah penuh" in text
    await press_card(harness, andi, 20, second.ticket, "tdt")
    await harness.server.wait_for_text(20, "tidak dapat ditindaklanjuti")
    await harness.say(andi, "Pendataan DTKS dilakukan lewat musyawarah desa, bukan lewat Dinsos.",
                      "tidak dapat ditindaklanjuti")
    text = (await harness.server.wait_for_text(10, "tidak dapat ditindaklanjuti oleh Dinas Sosial")).text or ""
    assert "musyawarah desa" in text
    await harness.settle()
    assert await status_of(harness, first.ticket) == "ditolak"
    assert await status_of(harness, second.ticket) == "tidak_dapat"
    assert "Status: Tidak dapat ditindaklanjuti" in card(harness, 20, second.ticket)["text"]
    assert buttons(card(harness, 20, second.ticket)) == []
    # /batal cancels a prompt without touching the aspiration
    third = await submit(harness, kades, "sosial", "Lansia terlantar di dusun Krajan butuh pendampingan.")
    await harness.settle()
    await press_card(harness, andi, 20, third.ticket, "tolak")
    await harness.server.wait_for_text(20, "alasan penolakan")
    await harness.say(andi, "/batal", "Dibatalkan")
    await harness.say(andi, "teks biasa tanpa prompt", "belum dapat dipahami")
    assert await status_of(harness, third.ticket) == "baru"


async def test_balas_in_private_and_in_the_group_reach_the_kepala_desa(harness: BotHarness) -> None:
    andi = await official(harness, 20, "DINKES")
    group = await inbox(harness, andi, -100600, "Inbox Dinkes")
    kades = await harness.kepala_desa(10)
    asp = await submit(harness, kades, "kesehatan", "Posyandu dusun Krajan tidak punya timbangan bayi.")
    await harness.settle()
    await press_card(harness, andi, 20, asp.ticket, "balas")
    await harness.server.wait_for_text(20, "Tuliskan balasan")
    await harness.say(andi, "Timbangan akan dikirim lewat Puskesmas Sumber minggu depan.", "Balasan untuk")
    got = await harness.server.wait_for_text(10, "Balasan dari Dinas Kesehatan")
    assert "Timbangan akan dikirim lewat Puskesmas Sumber" in (got.text or "")
    # in the group, pressing Balas asks for a Telegram reply (privacy mode) mentioning the official
    await press_card(harness, andi, group, asp.ticket, "balas")
    prompt = await harness.server.wait_for_text(group.id, "tuliskan balasan")
    assert "Balas (reply) pesan ini" in (prompt.text or "")
    assert prompt.params["reply_markup"]["force_reply"] is True
    assert any(e.get("url") == "tg://user?id=20" for e in prompt.message["entities"])
    mark = harness.server.mark()
    andi.reply(prompt, "Bidan desa akan berkunjung hari Kamis.")
    await harness.server.wait_for_text(10, "Bidan desa akan berkunjung hari Kamis.", since=mark)
    # in the group, "/balas <teks>" as a reply to the card answers the village (a plain reply stays internal:
    # test_officials_groups)
    mark = harness.server.mark()
    andi.reply(card(harness, group, asp.ticket), "/balas Mohon kirim foto posyandunya, Pak.")
    await harness.server.wait_for_text(group.id, "terkirim kepada Kepala Desa Ledokombo", since=mark)
    await harness.server.wait_for_text(10, "Mohon kirim foto posyandunya, Pak.", since=mark)
    # the same in the official's private chat
    mark = harness.server.mark()
    andi.reply(card(harness, 20, asp.ticket), "Sudah kami catat, Pak.")
    await harness.server.wait_for_text(10, "Sudah kami catat, Pak.", since=mark)
    # ... but not from a group member who is not a registered official
    stranger = harness.user(55, "Anggota Grup")
    mark = harness.server.mark()
    stranger.reply(card(harness, group, asp.ticket), "/balas Saya ikut membalas")
    await harness.server.wait_for_text(group.id, "belum terdaftar", since=mark)
    await harness.settle()
    assert not any("Saya ikut membalas" in t for t in harness.server.texts(10))
    history = [(h.action, h.note) for h in await harness.svc.aspirations.history(asp.id)]
    assert [n for a, n in history if a == "dibalas"] == [
        "Timbangan akan dikirim lewat Puskesmas Sumber minggu depan.", "Bidan desa akan berkunjung hari Kamis.",
        "Mohon kirim foto posyandunya, Pak.", "Sudah kami catat, Pak."]
    assert await status_of(harness, asp.ticket) == "baru"  # a reply does not change the status
    sla = await harness.svc.db.fetchone("SELECT * FROM aspiration_sla WHERE aspiration_id = ?", (asp.id,))
    assert sla["responded_at"] is not None  # but it is a response for the service level


async def test_alihkan_moves_it_to_another_department_with_a_reason(harness: BotHarness) -> None:
    andi = await official(harness, 20, "PUPR")
    dlh = await official(harness, 30, "DLH", name="Sari DLH")
    kades = await harness.kepala_desa(10)
    asp = await submit(harness, kades, "infrastruktur", "Sampah menumpuk di saluran irigasi dekat pasar desa.")
    await harness.settle()
    await press_card(harness, andi, 20, asp.ticket, "alihkan")
    chooser = await harness.server.wait_for_text(20, "kepada OPD mana")
    assert "PUPR" not in chooser.buttons and "DLH" in chooser.buttons and "Batal" in chooser.buttons
    await harness.press(andi, "DLH", "Tuliskan alasan mengalihkan")
    await harness.say(andi, "Sampah di saluran adalah urusan kebersihan, bukan konstruksi.", "dialihkan kepada")
    notice = await harness.server.wait_for_text(10, "dialihkan oleh Dinas Pekerjaan Umum")
    assert "Dinas Lingkungan Hidup" in (notice.text or "") and "urusan kebersihan" in (notice.text or "")
    new_card = await harness.server.wait_for_text(30, f"Aspirasi {asp.ticket}")
    assert "Dialihkan kepada OPD Anda oleh Andi" in (new_card.text or "")
    assert LABEL["terima"] in new_card.buttons
    await harness.settle()
    old = card(harness, 20, asp.ticket)
    assert buttons(old) == [] and "Ditangani: Dinas Lingkungan Hidup" in old["text"]
    current = await harness.svc.aspirations.by_ticket(asp.ticket)
    assert current is not None and current.departments == ("DLH",) and current.former_departments == ("PUPR",)
    assert current.status == "baru"
    # the former department can still read it, but no longer act
    await harness.say(andi, f"/status {asp.ticket}", "dialihkan")
    refused = await press_on(harness, andi, old, f"asp:act:{asp.id}:terima")
    assert "tidak ditangani OPD Anda" in refused.params["text"]
    # the new department works on it normally
    await press_card(harness, dlh, 30, asp.ticket, "terima")
    await harness.server.wait_for_text(10, "diterima oleh Dinas Lingkungan Hidup")


async def test_lainnya_goes_to_admins_who_redirect_it(harness: BotHarness) -> None:
    await harness.say(harness.admin, "/start", "Selamat datang")
    sosial = await official(harness, 30, "DINSOS", name="Rina")
    kades = await harness.kepala_desa(10)
    asp = await submit(harness, kades, "lainnya", "Mohon bantuan seragam untuk linmas desa kami.")
    await harness.settle()
    admin_card = card(harness, ADMIN_ID, asp.ticket)
    assert "Admin Sambang (menunggu diteruskan ke OPD)" in admin_card["text"]
    await press_on(harness, harness.admin, admin_card, data_of(admin_card, LABEL["alihkan"]))
    await harness.server.wait_for_text(ADMIN_ID, "kepada OPD mana")
    await harness.press(harness.admin, "DINSOS", "Tuliskan alasan")
    await harness.say(harness.admin, "Bantuan perlengkapan linmas ditangani Dinas Sosial.", "dialihkan kepada")
    await harness.server.wait_for_text(30, f"Aspirasi {asp.ticket}")
    await harness.server.wait_for_text(10, "dialihkan oleh Admin Sambang")
    await press_card(harness, sosial, 30, asp.ticket, "terima")
    await harness.server.wait_for_text(10, "diterima oleh Dinas Sosial")


async def test_pelayanan_publik_two_departments_see_each_others_actions(harness: BotHarness) -> None:
    capil = await official(harness, 20, "DISPENDUKCAPIL", name="Dewi")
    await official(harness, 21, "ORGANISASI", name="Eko")
    kades = await harness.kepala_desa(10)
    asp = await submit(harness, kades, "pelayanan_publik", "Pelayanan KTP-el di kecamatan lambat, blanko habis.")
    await harness.settle()
    await press_card(harness, capil, 20, asp.ticket, "terima")
    await harness.settle()
    other = card(harness, 21, asp.ticket)
    assert "diterima oleh Dewi (Dinas Kependudukan" in other["text"] and LABEL["proses"] in buttons(other)
    # one department redirecting keeps the other responsible
    await press_card(harness, capil, 20, asp.ticket, "alihkan")
    await harness.server.wait_for_text(20, "kepada OPD mana")
    await harness.press(capil, "PUPR", "Tuliskan alasan")
    await harness.say(capil, "Bagian kami sudah mengirim blanko; sisanya soal gedung pelayanan.", "dialihkan")
    current = await harness.svc.aspirations.by_ticket(asp.ticket)
    assert current is not None and current.departments == ("ORGANISASI", "PUPR")


async def test_confidential_goes_to_leadership_only(harness: BotHarness) -> None:
    bupati = await leader(harness, LEADER)
    pu = await official(harness, 20, "PUPR")
    group = await inbox(harness, pu, -100500, "Inbox PUPR")
    kades = await harness.kepala_desa(10)
    asp = await submit(harness, kades, "kinerja_kecamatan", "Pegawai kecamatan meminta uang untuk rekomendasi.")
    await harness.settle()
    assert any(asp.ticket in t for t in harness.server.texts(LEADER))
    assert not any(asp.ticket in t for t in harness.server.texts(20) + harness.server.texts(group.id))
    await harness.say(pu, f"/tangani {asp.ticket}", "tidak ditemukan")
    await press_card(harness, bupati, LEADER, asp.ticket, "terima")
    notice = await harness.server.wait_for_text(10, f"Aspirasi {asp.ticket} Anda telah diterima oleh Bupati")
    assert notice.ok


async def test_tangani_sends_a_live_card(harness: BotHarness) -> None:
    pu = await official(harness, 20, "PUPR")
    kades = await harness.kepala_desa(10)
    asp = await submit(harness, kades, "infrastruktur", "Lampu penerangan jalan desa padam sebulan.")
    await harness.settle()
    before = len(harness.server.calls_for(20, "sendMessage"))
    await harness.say(pu, f"/tangani {asp.ticket.lower()}", f"Aspirasi {asp.ticket}")
    assert len(harness.server.calls_for(20, "sendMessage")) == before + 1
    await press_card(harness, pu, 20, asp.ticket, "terima")
    await harness.settle()
    cards = [m for m in harness.server.bot_messages(20) if f"Aspirasi {asp.ticket}" in (m.get("text") or "")]
    assert len(cards) == 2 and all("Status: Diterima" in m["text"] for m in cards)
    await harness.say(kades, f"/tangani {asp.ticket}", "hanya untuk")


@pytest.mark.parametrize("chooses_suggestion", [True, False])
async def test_suggested_category_is_offered_first_and_decides_the_route(harness: BotHarness,
                                                                        chooses_suggestion: bool) -> None:
    await official(harness, 20, "DINKES")
    await official(harness, 21, "DISDIK")
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.press(kades, "Pendidikan", "Langkah 2 dari 4")
    check = await harness.say(kades, "Banyak balita gizi buruk dan stunting, posyandu kekurangan PMT.",
                              "lebih mirip")
    assert check.buttons[0] == "✅ Kesehatan & Stunting"
    choice = "✅ Kesehatan & Stunting" if chooses_suggestion else "Tetap Pendidikan"
    await harness.press(kades, choice, "Langkah 3 dari 4")
    await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    receipt = await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")
    ticket = (receipt.text or "").split("Nomor tiket: ")[1].split()[0]
    await harness.settle()
    routed_to = 20 if chooses_suggestion else 21
    assert any(f"Aspirasi {ticket}" in t for t in harness.server.texts(routed_to))
    assert not any(f"Aspirasi {ticket}" in t for t in harness.server.texts(41 - routed_to))


async def test_officials_join_by_invitation_and_see_their_commands(harness: BotHarness) -> None:
    admin = harness.admin
    created = await harness.say(admin, "/undang pejabat dinkes", "Undangan dibuat")
    code = (created.text or "").split("Kode: ")[1].split()[0]
    await harness.say(admin, "/undang pejabat DINAS_ANTAH", "tidak dikenal")
    dokter = harness.user(20, "Dokter Rina")
    welcome = await harness.say(dokter, f"/start {code}", "Pendaftaran berhasil")
    assert "Pejabat OPD — DINKES" in (welcome.text or "")
    help_text = (await harness.say(dokter, "/bantuan", "Bantuan Sambang")).text or ""
    assert "/tangani" in help_text and "/inbox" in help_text and "/aspirasi" not in help_text
    await harness.settle()
    menu = [c["command"] for c in harness.server.commands({"type": "chat", "chat_id": 20})]
    assert {"tangani", "inbox", "status"} <= set(menu) and "opd" not in menu
    overview = (await harness.say(admin, "/opd", "OPD dan pembagian aspirasi")).text or ""
    assert "DINKES — Dinas Kesehatan" in overview and "pejabat terdaftar: 1" in overview
    assert "Pelayanan Publik → DISPENDUKCAPIL, ORGANISASI" in overview
    assert "Kinerja Kecamatan (rahasia) → pimpinan saja (rahasia)" in overview
    assert "Lainnya → admin (diteruskan manual)" in overview
    assert "terima/alihkan 3, tanggapan 5; konfirmasi desa 10" in overview
    await harness.say(dokter, "/opd", "hanya untuk")
