"""No message too long: the longest content a user can put in goes through every kind of message the bot sends,
end to end against the fake Bot API, which refuses texts over 4096 and captions over 1024 UTF-16 units as Telegram
does. Every call must be accepted, nobody reads the "gangguan" apology, and nothing is lost on the way (a long text
arrives in several messages, a long caption or edit points to the rest)."""

from __future__ import annotations

import datetime as dt
from html import escape

import pytest
from telegram import Bot
from telegram.error import BadRequest

from bot.aspirations.service import Attachment, Draft
from bot.messaging import limits, outbox
from bot.messaging.templates import split_text, u16len, visible_len
from bot.people import roster
from tests.fake_telegram import FakeTelegram
from tests.harness import BotHarness
from tests.officials_support import card, leader, official, press_card

#: HTML specials (escaped, so longer as sent than as read) and an emoji (two UTF-16 units).
UNIT = "Jalan <desa> & jembatan 🚧 rusak parah, warga \"terisolasi\"; "


def long_text(length: int, tail: str) -> str:
    """``length`` characters (as the bot's limits count them) ending in ``tail``."""
    body = (UNIT * (length // len(UNIT) + 1))[: length - len(tail) - 1].rstrip()
    return f"{body} {tail}".rjust(length, "x")


DESCRIPTION = long_text(2000, "AKHIR-URAIAN")  # the default SAMBANG_MAX_DESCRIPTION
EMOJI_DESCRIPTION = "🚧" * 1988 + " AKHIR-EMOJI"  # 2000 characters, nearly 4000 UTF-16 units
REPLIES = [long_text(1500, f"AKHIR-BALASAN-{i}") for i in (1, 2, 3)]  # a Balas reply's limit


def _joined(h: BotHarness, chat_id: int, since: int = 0) -> str:
    return "\n".join(m.get("text") or m.get("caption") or ""
                     for c in h.server.calls[since:] if c.chat_id == chat_id for m in c.messages)


async def _submit(h: BotHarness, user_id: int, description: str, **draft: object) -> str:
    person = await roster.get_person(h.svc.db, user_id)
    assert person is not None
    d = Draft(category="kesehatan", description=description, **draft)
    aspiration, _ = await h.svc.aspirations.submit(person, d, f"{user_id}:{d.token}")
    return aspiration.ticket


async def test_the_longest_content_goes_through_every_kind_of_message(harness: BotHarness) -> None:
    h = harness
    andi = await official(h, 20, "DINKES")
    camat = h.user(30, "Pak Camat")
    await h.register(camat, "camat", kecamatan="Sumber")
    kades = await h.kepala_desa(10)
    assert len(DESCRIPTION) == 2000 and u16len(DESCRIPTION) > 2000 and len(EMOJI_DESCRIPTION) == 2000

    # the kepala desa's own flow: the summary and the receipt with the longest description
    await h.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await h.press(kades, "Kinerja Kecamatan (rahasia)", "Langkah 2 dari 4")
    await h.say(kades, EMOJI_DESCRIPTION, "Langkah 3 dari 4")
    await h.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    await h.settle()  # a summary this long comes in two messages, the buttons under the second
    await h.press(kades, "✅ Kirim", "ASP-")

    # forwarded to the officials (photos, a document, the card) and copied to the camat
    attachments = [Attachment("photo", f"AgACphoto{i}", f"u{i}") for i in range(2)]
    attachments.append(Attachment("document", "BQACdoc1", "d1", "x" * 120 + ".pdf", "application/pdf", 2048))
    ticket = await _submit(h, kades.id, DESCRIPTION, attachments=attachments, copy_to_camat=True)
    emoji_ticket = await _submit(h, kades.id, EMOJI_DESCRIPTION)
    await h.settle()
    assert "AKHIR-URAIAN" in card(h, andi, ticket)["text"]  # the whole description fits on the card
    emoji_card = card(h, andi, emoji_ticket)["text"]  # this one does not: cut, pointing to /status
    assert f"(selengkapnya: /status {emoji_ticket})" in emoji_card and "AKHIR-EMOJI" not in emoji_card
    assert "AKHIR-URAIAN" in _joined(h, camat.id)

    # three long Balas replies reach the kepala desa and the history
    for reply in REPLIES:
        await press_card(h, andi, andi, ticket, "balas")
        await h.server.wait_for_text(andi.id, "Tuliskan balasan")
        await h.say(andi, reply, "Balasan untuk")
    await h.settle()
    for i in (1, 2, 3):
        assert f"AKHIR-BALASAN-{i}" in _joined(h, kades.id)

    # /status <ticket>: the description and every reply, in as many messages as it takes
    for user in (kades, andi):
        for asked in (ticket, emoji_ticket):
            mark = h.server.mark()
            user.send(f"/status {asked}")
            await h.server.wait_for_text(user.id, "Riwayat", since=mark)
            await h.settle()
            shown = _joined(h, user.id, mark)
            assert ("AKHIR-URAIAN" if asked == ticket else "AKHIR-EMOJI") in shown
            if asked == ticket:
                assert all(f"AKHIR-BALASAN-{i}" in shown for i in (1, 2, 3)), shown[-500:]
                assert len([c for c in h.server.calls[mark:] if c.chat_id == user.id
                            and c.method == "sendMessage"]) >= 2
    await h.say(kades, "/status", "Aspirasi desa Anda")
    await h.say(andi, "/desa Ledokombo", "Desa Ledokombo")
    bupati = await leader(h)
    await h.svc.ngantor.visits.create("Sumber", dt.date(2026, 3, 4), dt.time(8, 0), departments=["DINKES"])
    await h.say(bupati, "/briefing Sumber", "Briefing Ngantor di Kecamatan Sumber")

    # the card is edited at each step and stays one message
    await press_card(h, andi, andi, emoji_ticket, "terima")
    await h.settle()
    assert "(selengkapnya: /status" in card(h, andi, emoji_ticket)["text"]

    # the next morning's digest for the official
    mark = h.server.mark()
    await h.advance(hours=22)
    await h.settle()
    assert any("Ringkasan harian" in t for t in h.server.texts(andi.id)[-10:]), h.server.recent(andi.id)

    # captions and edits over the limit, queued in the outbox and sent directly by a handler's bot
    long_caption = "<b>Keterangan</b> " + escape(long_text(3000, "AKHIR-KETERANGAN"), quote=False)
    async with h.svc.db.transaction() as tx:
        await outbox.enqueue(tx, andi.id, "sendPhoto", {"chat_id": andi.id, "photo": "AgACphoto0",
                                                          "caption": long_caption, "parse_mode": "HTML"},
                             now=h.clock.now())
        await outbox.enqueue(tx, andi.id, "sendMediaGroup", {"chat_id": andi.id, "media": [
            {"type": "photo", "media": "AgACphoto0", "caption": long_caption, "parse_mode": "HTML"},
            {"type": "photo", "media": "AgACphoto1"}]}, now=h.clock.now())
        await outbox.enqueue_text(tx, andi.id, escape(long_text(9000, "AKHIR-PANJANG"), quote=False), now=h.clock.now(),
                                  reply_markup=outbox.inline_keyboard([[("OK", "zzz:ok")]]))
    await h.settle()
    mark = h.server.mark()
    photo = await h.app.bot.send_photo(andi.id, "AgACphoto1", caption=long_caption)
    await h.app.bot.edit_message_caption(chat_id=andi.id, message_id=photo.message_id, caption=long_caption + "!")
    sent = await h.app.bot.send_message(andi.id, escape(long_text(5000, "AKHIR-LANGSUNG"), quote=False))
    await h.app.bot.edit_message_text(escape(long_text(5000, "AKHIR-EDIT"), quote=False), chat_id=andi.id,
                                      message_id=sent.message_id)
    await h.settle()
    texts = h.server.texts(andi.id)
    assert sum("(selengkapnya di pesan berikut)" in t for t in texts) >= 3  # queued photo and album, direct
    assert sum("AKHIR-KETERANGAN" in t for t in texts) >= 3  # ... and the whole caption follows each
    assert any("AKHIR-PANJANG" in t for t in texts) and any("AKHIR-LANGSUNG" in t for t in texts)
    long_sends = [c for c in h.server.calls if c.chat_id == andi.id and c.method == "sendMessage"
                  and c.params.get("reply_markup")]
    assert any("AKHIR-PANJANG" in (c.text or "") for c in long_sends)  # the buttons under the last part
    assert "teks terpotong" in texts[-1]  # an edit cannot become two messages: cut, and says so
    assert "teks terpotong" in _joined(h, andi.id, mark)

    # (the media archive's getFile of the made-up file ids above is refused: not a message, not this test's subject)
    refused = [c.describe() for c in h.server.calls
               if not c.ok and "not modified" not in (c.error or "") and c.method != "getFile"]
    assert refused == [], refused
    for chat_id in (kades.id, andi.id, camat.id, bupati.id):
        assert not any("terjadi gangguan" in t for t in h.server.texts(chat_id))


def test_split_text_keeps_html_valid_in_every_part() -> None:
    text = "<b>Judul</b>\n\n<blockquote>" + "kata &amp; <i>miring</i> " * 700 + "</blockquote>\n\nAkhir"
    parts = split_text(text)
    assert len(parts) > 1 and all(u16len(p) <= limits.TEXT_LIMIT for p in parts)
    for part in parts:
        assert part.count("<blockquote>") == part.count("</blockquote>")
        assert part.count("<i>") == part.count("</i>")
        assert "&amp" not in part.replace("&amp;", "")  # no entity cut in half
    assert parts[-1].endswith("Akhir")


def test_a_text_long_only_as_html_is_not_split() -> None:
    text = "&amp;" * 3000  # 15000 characters as sent, 3000 as Telegram counts them
    assert visible_len(text) == 3000
    assert limits.fit("sendMessage", {"chat_id": 1, "text": text, "parse_mode": "HTML"}) == [
        ("sendMessage", {"chat_id": 1, "text": text, "parse_mode": "HTML"})]


async def test_the_fake_bot_api_refuses_what_telegram_refuses() -> None:
    """The fake counts as Telegram does: UTF-16 units of the text once its HTML is parsed; 4096 for a text, 1024
    for a caption. (A plain PTB bot here: the Sambang bot would have fitted these.)"""
    server = FakeTelegram(token="1:fake")
    await server.start()
    try:
        async with Bot("1:fake", base_url=server.base_url, base_file_url=server.base_file_url) as bot:
            await bot.send_message(1, "🚧" * 2048)  # 4096 units
            with pytest.raises(BadRequest, match="too long"):
                await bot.send_message(1, "🚧" * 2048 + "x")
            await bot.send_message(1, "&amp;" * 4096, parse_mode="HTML")  # long as sent, 4096 as read
            await bot.send_photo(1, "AgACphoto", caption="x" * 1024)
            with pytest.raises(BadRequest, match="caption is too long"):
                await bot.send_photo(1, "AgACphoto", caption="🚧" * 513)
            message = await bot.send_message(1, "pendek")
            with pytest.raises(BadRequest, match="too long"):
                await bot.edit_message_text("x" * 4097, chat_id=1, message_id=message.message_id)
    finally:
        await server.stop()
