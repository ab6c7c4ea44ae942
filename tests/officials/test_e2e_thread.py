"""The thread of an aspiration end to end (real Application, fake Bot API): the official's Balas, the kepala desa's
Telegram replies with a photo, a voice note and text, the official's next Balas, "✉️ Kirim pesan" from /status —
seen by the departments responsible and nobody else."""

from __future__ import annotations

from typing import Any

import pytest

from bot.aspirations.service import Aspiration
from bot.core.domain import NotFound
from bot.people import roster
from tests.fake_telegram import JSON, FakeUser
from tests.harness import BotHarness
from tests.officials_support import card, inbox, leader, official, press_on, submit

PHOTO_ID = "AgACthreadphoto1"


def _reply_with(user: FakeUser, to: Any, content: JSON) -> JSON:
    """A Telegram reply of ``user`` carrying ``content`` (a photo, a voice note, …) to the message ``to``."""
    return user._send_content(content, None, reply_to=to)


async def _one_aspiration(h: BotHarness, description: str) -> tuple[FakeUser, FakeUser, Aspiration]:
    """A PUPR official, a kepala desa and their aspiration, forwarded."""
    andi = await official(h, 20, "PUPR")
    kades = await h.kepala_desa(10)
    asp = await submit(h, kades, "infrastruktur", description)
    await h.settle()
    return andi, kades, asp


async def test_balas_reply_with_photo_and_voice_and_balas_again_reach_the_right_people(harness: BotHarness) -> None:
    h = harness
    andi = await official(h, 20, "PUPR")
    group = await inbox(h, andi, -100500, "Inbox PUPR")
    dinkes = await official(h, 30, "DINKES", name="Sari")
    await leader(h, 70)
    camat = h.user(40, "Camat Sumber")
    await h.register(camat, "camat", kecamatan="Sumber")
    kades = await h.kepala_desa(10)
    neighbour = await h.kepala_desa(11, desa="35.13.02.2002", name="Joko")
    asp = await submit(h, kades, "infrastruktur", "Jembatan bambu dusun Krajan hampir roboh, warga takut lewat.")
    await h.settle()

    # the official answers (a Telegram reply to the card is a Balas): the kepala desa hears it
    mark = h.server.mark()
    andi.reply(card(h, 20, asp.ticket), "Mohon kirim foto jembatannya dari dua sisi, Pak.")
    balas = await h.server.wait_for_text(10, "Mohon kirim foto jembatannya", since=mark)
    assert "Kirim pesan" in " ".join(balas.buttons)

    # the kepala desa replies to it (Telegram reply) with a photo: it reaches the department's chats only
    mark = h.server.mark()
    _reply_with(kades, balas, {"photo": h.server.make_photo_sizes(largest_file_id=PHOTO_ID),
                               "caption": "Sisi utara, tiangnya sudah miring."})
    await h.server.wait_for_text(10, "sudah diteruskan", since=mark)
    photo = await h.server.wait_for(lambda c: c.method == "sendPhoto" and c.chat_id == 20, since=mark,
                                    what="photo to the official")
    assert photo.params["photo"] == PHOTO_ID
    assert asp.ticket in (photo.text or "") and "Sisi utara, tiangnya sudah miring." in (photo.text or "")
    await h.server.wait_for(lambda c: c.method == "sendPhoto" and c.chat_id == group.id, since=mark,
                            what="photo to the inbox group")
    # ... then with a voice note
    mark = h.server.mark()
    _reply_with(kades, balas, {"voice": h.server.make_media_object("voice", duration=67)})
    voice = await h.server.wait_for(lambda c: c.method == "sendVoice" and c.chat_id == 20, since=mark,
                                    what="voice note to the official")
    assert "Pesan suara 1:07" in (voice.text or "") and asp.ticket in (voice.text or "")
    await h.server.wait_for(lambda c: c.method == "sendVoice" and c.chat_id == group.id, since=mark,
                            what="voice note to the inbox group")
    await h.settle()

    # the official's next Balas goes back the same way: a Telegram reply to the village's photo
    mark = h.server.mark()
    andi.reply(photo.message, "Terima kasih, tim kami survei hari Kamis.")
    await h.server.wait_for_text(20, "terkirim kepada Kepala Desa", since=mark)
    again = await h.server.wait_for_text(10, "tim kami survei hari Kamis", since=mark)
    # ... and the village's text reply to that one joins the thread too
    mark = h.server.mark()
    kades.reply(again.message, "Baik, kami tunggu. Warga siap membantu.")
    await h.server.wait_for_text(20, "Warga siap membantu", since=mark)
    # ... and an official may answer with a file as well: a voice note in reply to the card
    mark = h.server.mark()
    _reply_with(andi, card(h, 20, asp.ticket), {"voice": h.server.make_media_object("voice", duration=12)})
    back = await h.server.wait_for(lambda c: c.method == "sendVoice" and c.chat_id == 10, since=mark,
                                   what="voice note to the kepala desa")
    assert "Balasan dari Dinas Pekerjaan Umum" in (back.text or "") and "pesan suara 0:12" in (back.text or "")
    await h.settle()

    stored = await h.svc.thread.messages(asp.id)
    assert [(m.side, m.kind) for m in stored] == [("opd", "text"), ("desa", "photo"), ("desa", "voice"),
                                                  ("opd", "text"), ("desa", "text"), ("opd", "voice")]
    assert stored[1].file_id == PHOTO_ID and stored[2].duration == 67 and stored[2].file_id
    # their files are queued for the media archive, with the thread as their owner
    queued = await h.svc.db.fetchall("SELECT kind FROM media_downloads WHERE owner = ? ORDER BY rowid",
                                     (f"asp:{asp.id}:thread",))
    assert [r["kind"] for r in queued] == ["photo", "voice", "voice"]
    history = [h_.action for h_ in await h.svc.aspirations.history(asp.id)]
    assert history.count("pesan dari desa") == 3 and history.count("dibalas") == 3

    # nobody else received any of it: not another department, not leadership, not the camat, not the neighbour
    for outsider in (30, 70, 40, 11):
        assert not any("Sisi utara" in t or "Warga siap" in t or "Pesan suara" in t
                       for t in h.server.texts(outsider)), outsider
        assert not h.server.calls_for(outsider, "sendPhoto") and not h.server.calls_for(outsider, "sendVoice")

    # /status shows the thread to the kepala desa, with the photo and the voice note
    detail = await h.say(kades, f"/status {asp.ticket}", "Percakapan dengan OPD")
    text = detail.text or ""
    assert "📷 foto — Sisi utara" in text and "🎤 pesan suara 1:07" in text and "Warga siap membantu" in text
    # ... and to the department; another department and the camat (no copy) do not find the aspiration at all
    seen = await h.say(andi, f"/status {asp.ticket}", "Percakapan dengan OPD")
    assert "Warga siap membantu" in (seen.text or "")
    await h.say(dinkes, f"/status {asp.ticket}", "tidak ditemukan")
    await h.say(camat, f"/status {asp.ticket}", "tidak ditemukan")
    other = await h.say(neighbour, f"/status {asp.ticket}", "tidak ditemukan")
    assert "Warga siap" not in (other.text or "")

    # the service read function (for the dashboard) applies the same rule
    for uid, allowed in ((20, True), (70, True), (30, False), (40, False), (11, False), (10, True)):
        person = await roster.get_person(h.svc.db, uid)
        assert person is not None
        if allowed:
            assert len(await h.svc.thread.read(person, asp)) == 6
        else:
            with pytest.raises(NotFound):
                await h.svc.thread.read(person, asp)

    # the official's card on request (/tangani) comes with the conversation
    mark = h.server.mark()
    andi.send(f"/tangani {asp.ticket}")
    view = await h.server.wait_for_text(20, "Percakapan aspirasi", since=mark)
    assert "pesan suara 1:07" in (view.text or "") and "Warga siap membantu" in (view.text or "")


async def test_kirim_pesan_from_status_sends_a_document_and_a_stranger_cannot(harness: BotHarness) -> None:
    h = harness
    andi, kades, asp = await _one_aspiration(h, "Gorong-gorong di depan balai desa tersumbat lumpur.")
    detail = await h.say(kades, f"/status {asp.ticket}", asp.ticket)
    assert detail.buttons == ["✉️ Kirim pesan"]
    await press_on(h, kades, detail.message, f"asp:msg:{asp.id}:new")
    await h.server.wait_for_text(10, "Tuliskan pesan")
    mark = h.server.mark()
    kades.send_document("denah_gorong.pdf", caption="Denah saluran yang tersumbat")
    await h.server.wait_for_text(10, "sudah diteruskan kepada Dinas Pekerjaan Umum", since=mark)
    document = await h.server.wait_for(lambda c: c.method == "sendDocument" and c.chat_id == 20, since=mark,
                                       what="document to the official")
    assert "Denah saluran" in (document.text or "") and asp.ticket in (document.text or "")
    # a plain reply to the /status detail joins the thread too
    mark = h.server.mark()
    kades.reply(detail.message, "Lumpurnya sudah setinggi lutut.")
    await h.server.wait_for_text(andi.id, "Lumpurnya sudah setinggi lutut.", since=mark)

    # a forged button of another village's kepala desa is refused, and nothing is stored
    stranger = await h.kepala_desa(12, desa="35.13.02.2002", name="Joko")
    refused = await press_on(h, stranger, detail.message, f"asp:msg:{asp.id}:new")
    assert "kepala desa" in refused.params.get("text", "").lower()
    assert len(await h.svc.thread.messages(asp.id)) == 2


async def test_bad_replies_are_refused_in_indonesian_and_nothing_is_half_stored(harness: BotHarness) -> None:
    h = harness
    andi, kades, asp = await _one_aspiration(h, "Drainase jalan desa tersumbat sampah plastik.")
    mark = h.server.mark()
    andi.reply(card(h, 20, asp.ticket), "Apakah sampahnya dari pasar?")
    balas = await h.server.wait_for_text(10, "dari pasar", since=mark)
    # too long: refused, the reply can be sent again
    await h.do(lambda: kades.reply(balas.message, "x" * 1600), 10, "terlalu panjang")
    # a sticker is not a message for the department: the usual answer to what the bot cannot take
    await h.do(lambda: _reply_with(kades, balas.message, {"sticker": h.server.make_media_object("sticker")}), 10,
               "belum dapat diproses")
    # markup is shown as typed, never interpreted
    mark = h.server.mark()
    kades.reply(balas.message, "Ya <b>dari pasar</b> & warung")
    got = await h.server.wait_for_text(20, "dari pasar</b> & warung", since=mark)
    assert "<b>dari pasar</b>" in (got.text or "")
    assert [m.kind for m in await h.svc.thread.messages(asp.id)] == ["text", "text"]
    # once the aspiration is closed, a reply is refused and goes nowhere
    await h.svc.officials.act(await roster.get_person(h.svc.db, 20), asp.id, "tolak", note="Bukan kewenangan kami.")
    await h.settle()
    mark = h.server.mark()
    kades.reply(balas.message, "Tapi sampahnya masih menumpuk.")
    await h.server.wait_for_text(10, "sudah ditutup", since=mark)
    await h.settle()
    assert not any("masih menumpuk" in t for t in h.server.texts(20))
    assert len(await h.svc.thread.messages(asp.id)) == 2
