"""The foundation end to end: the real Application, real PTB networking, and the fake Bot API on 127.0.0.1."""

from __future__ import annotations

import json

from bot.people import roster
from tests.harness import ADMIN_ID, BotHarness


async def test_start_without_registration_explains_both_ways(harness: BotHarness) -> None:
    stranger = harness.user(1, "Asing")
    call = await harness.say(stranger, "/start", "Anda belum terdaftar")
    assert "/start KODE" in (call.text or "")
    assert stranger.reply_keyboard == [["📱 Bagikan nomor saya"]]


async def test_registration_by_invitation_from_admin_in_the_bot(harness: BotHarness) -> None:
    admin = harness.admin
    call = await harness.say(admin, "/undang kepala_desa 35.13.02.2001", "Undangan dibuat")
    text = call.text or ""
    assert "Desa Ledokombo, Kec. Sumber" in text
    code = text.split("Kode: ")[1].split()[0]
    assert f"t.me/sambang_test_bot?start={code}" in text
    kades = harness.user(10, "Budi")
    welcome = await harness.say(kades, f"/start {code}", "Pendaftaran berhasil")
    assert "Kepala Desa" in (welcome.text or "") and "Ledokombo" in (welcome.text or "")
    # the code is single-use
    other = harness.user(11, "Joko")
    await harness.say(other, f"/start {code}", "sudah pernah dipakai")
    assert await roster.get_person(harness.svc.db, 11) is None
    # /start again greets by name, village and role
    greet = await harness.say(kades, "/start", "Selamat datang kembali")
    assert "Budi" in (greet.text or "") and "Desa Ledokombo" in (greet.text or "")
    # the command menu for the kepala desa was set for that chat
    await harness.settle()
    menu = harness.server.commands({"type": "chat", "chat_id": 10})
    names = [c["command"] for c in menu]
    assert "aspirasi" in names and "undang" not in names


async def test_only_admins_may_invite(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/undang camat Tiris", "hanya untuk Admin")
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM invitations") == 1  # only the harness's own


async def test_guessed_and_expired_codes_are_refused(harness: BotHarness) -> None:
    user = harness.user(20, "Tamu")
    await harness.say(user, "/start ABCDEFGH", "tidak dikenal")
    invitation = await roster.create_invitation(harness.svc.db, harness.clock, role="camat", kecamatan="Tiris",
                                                ttl_hours=1)
    harness.clock.advance(hours=2)
    await harness.say(user, f"/start {invitation.code}", "kedaluwarsa")
    assert await roster.get_person(harness.svc.db, 20) is None


async def test_registration_by_roster_and_shared_contact(harness: BotHarness) -> None:
    report = await roster.import_roster(harness.svc.db, harness.clock,
                                        "kode_desa,nama,telepon\n35.13.07.2003,Siti Aminah,0813-3333-4444\n")
    assert report.ok
    siti = harness.user(30, "Siti")
    await harness.say(siti, "/start", "Bagikan nomor saya")
    mark = harness.server.mark()
    siti.send_contact("+62 813 3333 4444")
    call = await harness.server.wait_for_text(30, "Pendaftaran berhasil", since=mark)
    assert "Siti Aminah" in (call.text or "")
    # someone sharing another person's contact is refused
    mallory = harness.user(31, "Mallory")
    mark = harness.server.mark()
    mallory.send_contact("081333334444", user_id=30)
    await harness.server.wait_for_text(31, "nomor Anda sendiri", since=mark)


async def _submit_full(harness: BotHarness, kades, *, description: str, photos: int = 2) -> str:
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.press(kades, "Infrastruktur", "Langkah 2 dari 4")
    await harness.say(kades, description, "Langkah 3 dari 4")
    for i in range(photos):
        mark = harness.server.mark()
        kades.send_photo()
        await harness.server.wait_for_text(kades.id, f"Foto {i + 1} diterima", since=mark)
    mark = harness.server.mark()
    kades.send_location(-7.8712, 113.3021)
    await harness.server.wait_for_text(kades.id, "Lokasi diterima", since=mark)
    summary = await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    assert f"{photos} foto" in (summary.text or "")
    receipt = await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")
    text = receipt.text or ""
    return text.split("Nomor tiket: ")[1].split()[0]


async def test_full_submission_with_photos_and_location(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    ticket = await _submit_full(harness, kades, description="Jalan poros desa Ledokombo rusak parah sepanjang 2 km,"
                                " dilewati guru dan anak sekolah setiap hari.")
    assert ticket == "ASP-2026-00001"
    aspiration = await harness.svc.aspirations.by_ticket(ticket)
    assert aspiration is not None
    assert aspiration.category == "infrastruktur" and aspiration.desa_name == "Ledokombo"
    assert len(aspiration.photos) == 2
    assert aspiration.location is not None and round(aspiration.location.latitude, 4) == -7.8712
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM drafts") == 0
    # /status lists it and shows it
    listing = await harness.say(kades, "/status", ticket)
    assert "Baru" in (listing.text or "")
    detail = await harness.say(kades, f"/status {ticket}", "Riwayat")
    assert "Jalan poros desa Ledokombo" in (detail.text or "")


async def test_description_first_gets_a_suggested_category(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    call = await harness.say(kades, "Banyak balita gizi buruk dan stunting, posyandu kekurangan PMT.",
                             "Saran kategori")
    assert "Kesehatan &amp; Stunting" in (call.params.get("text") or "")
    assert kades.buttons()[0] == "✅ Kesehatan & Stunting (disarankan)"
    await harness.press(kades, "✅ Kesehatan & Stunting (disarankan)", "Langkah 3 dari 4")


async def test_overlong_description_is_refused_and_nothing_stored(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.press(kades, "Pendidikan", "Langkah 2 dari 4")
    await harness.say(kades, "x" * 2500, "terlalu panjang: 2500 karakter, batasnya 2000")
    await harness.say(kades, "Atap ruang kelas SDN Ledokombo 1 bocor dan hampir roboh.", "Langkah 3 dari 4")
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM aspirations") == 0


async def test_html_in_description_is_shown_literally(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.press(kades, "Lainnya", "Langkah 2 dari 4")
    nasty = "Tolong <b>segera</b> </a> & {{ x }} perbaiki balai desa"
    await harness.say(kades, nasty, "Langkah 3 dari 4")
    summary = await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    # the fake server parses the HTML like Telegram: the user's text arrives as plain text, tags and all
    assert nasty in (summary.text or "")
    assert "&lt;b&gt;segera&lt;/b&gt; &lt;/a&gt; &amp; {{ x }}" in summary.params["text"]


async def test_cancel_at_any_step(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.press(kades, "Pendidikan", "Langkah 2 dari 4")
    await harness.say(kades, "/batal", "Aspirasi dibatalkan")
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM drafts") == 0
    # the old category buttons no longer work
    await harness.say(kades, "Halo", "belum dapat dipahami")
    await harness.say(kades, "/batal", "Tidak ada yang sedang berlangsung")


async def test_half_written_aspiration_survives_a_restart(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.press(kades, "Infrastruktur", "Langkah 2 dari 4")
    await harness.say(kades, "Jembatan penghubung dusun Krajan putus diterjang banjir.", "Langkah 3 dari 4")
    kades.send_photo()
    await harness.server.wait_for_text(10, "Foto 1 diterima")
    await harness.restart()
    # the conversation continues where it was: a second photo, then the summary
    mark = harness.server.mark()
    kades.send_photo()
    await harness.server.wait_for_text(10, "Foto 2 diterima", since=mark)
    await harness.press(kades, "➡️ Lanjut ke ringkasan", "Jembatan penghubung dusun Krajan")
    await harness.press(kades, "✅ Kirim", "ASP-2026-00001")
    aspiration = await harness.svc.aspirations.by_ticket("ASP-2026-00001")
    assert aspiration is not None and len(aspiration.photos) == 2


async def test_pressing_send_twice_stores_one_aspiration(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.press(kades, "Lainnya", "Langkah 2 dari 4")
    await harness.say(kades, "Mohon bantuan seragam untuk linmas desa kami.", "Langkah 3 dari 4")
    summary = await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    message = summary.message
    assert message is not None
    kades.press(message, "asp:sum:send")
    kades.press(message, "asp:sum:send")
    await harness.settle()
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM aspirations") == 1


async def test_confirmed_summary_loses_its_buttons_and_a_late_press_names_the_ticket(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.press(kades, "Lainnya", "Langkah 2 dari 4")
    await harness.say(kades, "Mohon bantuan seragam untuk linmas desa kami.", "Langkah 3 dari 4")
    summary = await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    message = summary.message
    assert message is not None and "✅ Kirim" in summary.buttons
    await harness.press(kades, "✅ Kirim", "ASP-2026-00001")
    await harness.settle()  # the buttons come off through the outbox, after the receipt
    shown = harness.server.get_message(10, message["message_id"])
    assert shown is not None and not shown.get("reply_markup")
    mark = harness.server.mark()
    kades.press(message, "asp:sum:send")  # an old client still showing the button
    call = await harness.server.wait_for(lambda c: c.method == "answerCallbackQuery", 5, chat_id=None, since=mark,
                                         what="answer to the late press")
    assert "ASP-2026-00001" in (call.params.get("text") or "")
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM aspirations") == 1


async def test_camat_rule_end_to_end(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)  # Ledokombo, Kec. Sumber
    camat = harness.user(40, "Pak Camat")
    await harness.register(camat, "camat", kecamatan="Sumber")
    # without a copy, the camat hears nothing and cannot look it up
    ticket = await _submit_full(harness, kades, description="Jalan makadam di dusun Krajan rusak dan licin.",
                                photos=0)
    await harness.settle()
    assert not any(ticket in t for t in harness.server.texts(40))
    await harness.say(camat, f"/status {ticket}", "tidak ditemukan atau bukan untuk Anda")
    # with a copy, the camat receives it
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.press(kades, "Pendidikan", "Langkah 2 dari 4")
    await harness.say(kades, "Guru SD kelas jauh hanya datang dua kali seminggu.", "Langkah 3 dari 4")
    await harness.press(kades, "➡️ Lanjut ke ringkasan", "Tembusan ke camat: <b>Tidak</b>".replace("<b>", "")
                        .replace("</b>", ""))
    await harness.press(kades, "📨 Tembusan ke camat: Tidak", "Tembusan ke camat: Ya")
    receipt = await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")
    copied = (receipt.text or "").split("Nomor tiket: ")[1].split()[0]
    await harness.server.wait_for_text(40, f"Tembusan aspirasi {copied}")
    # a confidential one offers no copy at all
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.press(kades, "Kinerja Kecamatan (rahasia)", "Kategori ini rahasia")
    await harness.say(kades, "Pegawai kecamatan minta uang untuk rekomendasi.", "Langkah 3 dari 4")
    await harness.press(kades, "➡️ Lanjut ke ringkasan", "Rahasia")
    assert not any("Tembusan" in b for b in kades.buttons())
    forged = kades.last_message()
    kades.press(forged, "asp:sum:camat")
    await harness.settle()
    await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")
    await harness.settle()
    secret = await harness.svc.db.fetchone("SELECT ticket, copy_to_camat FROM aspirations WHERE confidential = 1")
    assert secret is not None and secret["copy_to_camat"] == 0
    assert not any(secret["ticket"] in t for t in harness.server.texts(40))
    assert [c for c in harness.server.texts(40) if "Tembusan aspirasi" in c] == [
        t for t in harness.server.texts(40) if copied in t]


async def test_outbox_delivery_under_429_and_5xx(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    camat = harness.user(40, "Pak Camat")
    await harness.register(camat, "camat", kecamatan="Sumber")
    harness.server.fail_next("sendMessage", status=429, retry_after=1, chat_id=40)
    harness.server.fail_next("sendMessage", status=502, chat_id=40)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.press(kades, "Infrastruktur", "Langkah 2 dari 4")
    await harness.say(kades, "Saluran irigasi tersier jebol, sawah kekeringan.", "Langkah 3 dari 4")
    await harness.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan")
    await harness.press(kades, "📨 Tembusan ke camat: Tidak", "Tembusan ke camat: Ya")
    await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")
    await harness.server.wait_for_text(40, "Tembusan aspirasi", timeout=10)
    await harness.settle()
    failures = [c for c in harness.server.calls_for(40, "sendMessage") if not c.ok]
    assert [c.status for c in failures] == [429, 502]
    row = await harness.svc.db.fetchone("SELECT status, attempts FROM outbox WHERE ref LIKE 'asp:%:camat'")
    assert row is not None and row["status"] == "sent" and row["attempts"] == 3


async def test_unregistered_cannot_submit(harness: BotHarness) -> None:
    stranger = harness.user(50, "Asing")
    await harness.say(stranger, "/aspirasi", "belum terdaftar")
    camat = harness.user(51, "Camat")
    await harness.register(camat, "camat", kecamatan="Tiris")
    await harness.say(camat, "/aspirasi", "hanya untuk Kepala Desa")


async def test_help_lists_role_commands(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    text = (await harness.say(kades, "/bantuan", "Bantuan Sambang")).text or ""
    assert "/aspirasi" in text and "/undang" not in text
    admin_text = (await harness.say(harness.admin, "/bantuan", "Bantuan Sambang")).text or ""
    assert "/undang" in admin_text and "/aspirasi" not in admin_text
    assert ADMIN_ID


async def test_unsupported_message_types_get_a_polite_answer(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    for send in (kades.send_sticker, kades.send_voice, kades.send_video_note, kades.send_dice):
        mark = harness.server.mark()
        send()
        await harness.server.wait_for_text(10, "belum dapat diproses", since=mark)
    assert json.dumps  # keep import used


async def test_documents_are_attached_and_oversized_files_refused(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.press(kades, "Pendidikan", "Langkah 2 dari 4")
    await harness.say(kades, "Proposal rehab ruang kelas SDN Ledokombo 2 terlampir.", "Langkah 3 dari 4")
    mark = harness.server.mark()
    kades.send_document("proposal.pdf", "application/pdf", 250_000)
    await harness.server.wait_for_text(10, "Dokumen proposal.pdf diterima", since=mark)
    mark = harness.server.mark()
    kades.send_document("video_besar.zip", "application/zip", 60 * 1024 * 1024)
    await harness.server.wait_for_text(10, "terlalu besar", since=mark)
    await harness.press(kades, "➡️ Lanjut ke ringkasan", "1 dokumen")
    await harness.press(kades, "✅ Kirim", "Aspirasi terkirim")
    aspiration = await harness.svc.aspirations.by_ticket("ASP-2026-00001")
    assert aspiration is not None
    assert [d.file_name for d in aspiration.documents] == ["proposal.pdf"]


async def test_province_wide_deployment_loads_jawa_timur(tmp_path, clock) -> None:
    h = BotHarness(tmp_path, clock, wilayah="35")
    await h.start()
    try:
        assert await h.svc.db.fetchval("SELECT COUNT(*) FROM kecamatan") == 666
        assert await h.svc.db.fetchval("SELECT COUNT(*) FROM desa") == 8494
        admin = h.admin
        call = await h.say(admin, "/undang camat Krucil", "Undangan dibuat")
        assert "Kecamatan Krucil" in (call.text or "")
    finally:
        await h.close()


async def test_conversation_state_is_written_at_once_not_at_the_next_flush(tmp_path, clock) -> None:
    """A crash right after a step must not lose the step: state hits SQLite before the next update is handled."""
    h = BotHarness(tmp_path, clock, persistence_interval=3600.0)
    await h.start()
    try:
        kades = await h.kepala_desa(10)
        await h.say(kades, "/aspirasi", "Langkah 1 dari 4")
        await h.press(kades, "Infrastruktur", "Langkah 2 dari 4")
        await h.server.wait_idle(quiet=0.2)
        rows = await h.svc.db.fetchall("SELECT name, key, state FROM ptb_conversations")
        assert [(r["name"], r["key"], json.loads(r["state"])) for r in rows] == [
            ("aspirasi", "[10, 10]", "menulis_uraian")]
    finally:
        await h.close()


async def test_admins_from_the_environment_get_their_menu_once(harness: BotHarness) -> None:
    await harness.settle()
    menu = [c["command"] for c in harness.server.commands({"type": "chat", "chat_id": ADMIN_ID})]
    assert "undang" in menu and "aspirasi" not in menu
    await harness.restart()
    await harness.settle()
    calls = [c for c in harness.server.calls if c.method == "setMyCommands"
             and (c.params.get("scope") or {}).get("chat_id") == ADMIN_ID]
    assert len(calls) == 1
