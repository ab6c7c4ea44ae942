"""Groups end to end: who may move a department's inbox (and who hears of it), where /tangani may show a card,
and that only an explicit act in a group (/balas as a reply to the card, or the Balas button) answers the village
while the officials' own discussion under a card stays in the group."""

from __future__ import annotations

from tests.harness import ADMIN_ID, BotHarness
from tests.officials_support import card, inbox, official, press_card, status_of, submit

KADES = 10
PROBLEM = "Jembatan bambu dusun Krajan putus diterjang banjir."


async def test_an_official_cannot_move_the_inbox_and_an_admin_move_is_announced(harness: BotHarness) -> None:
    h = harness
    andi = await official(h, 20, "PUPR", name="Andi")
    rudi = await official(h, 21, "PUPR", name="Rudi")
    dinkes = await official(h, 30, "DINKES", name="Sari")
    mark = h.server.mark()
    old = await inbox(h, andi, -100500, "Inbox PUPR")  # the department had none: an official may register it
    await h.settle()
    told = await h.server.wait_for_text(rudi.id, "didaftarkan oleh Andi", since=mark)
    assert "Inbox PUPR" in (told.text or "")
    assert not [t for t in h.server.texts(dinkes.id) if "Kotak masuk" in t]  # another department's official
    assert not [t for t in h.server.texts(andi.id) if "Kotak masuk" in t]  # who did it knows

    # a colleague's own group does not silently become the inbox
    elsewhere = h.server.group(-100800, "Grup Rudi")
    mark = h.server.mark()
    rudi.send("/inbox", chat=elsewhere)
    refused = await h.server.wait_for_text(elsewhere.id, "sudah punya grup kotak masuk", since=mark)
    assert "admin" in (refused.text or "")
    assert await h.svc.departments.inbox_departments(old.id) == ["PUPR"]
    assert await h.svc.departments.inbox_departments(elsewhere.id) == []

    # an admin moves it: the old group and the department's officials are told
    mark = h.server.mark()
    await inbox(h, h.admin, elsewhere.id, "Grup Rudi", "PUPR")
    await h.settle()
    for chat in (old.id, andi.id, rudi.id):
        notice = await h.server.wait_for_text(chat, "dipindahkan oleh", since=mark)
        assert "Grup Rudi" in (notice.text or "") and "tidak lagi ke grup Inbox PUPR" in (notice.text or "")
    assert not [c for c in h.server.calls[mark:] if c.chat_id in (ADMIN_ID, dinkes.id) and "dipindahkan" in
                (c.text or "")]
    moves = await h.svc.db.fetchall("SELECT actor_telegram_id FROM audit_log WHERE action = 'inbox:move'")
    assert [r["actor_telegram_id"] for r in moves] == [ADMIN_ID]
    kades = await h.kepala_desa(KADES)
    asp = await submit(h, kades, "infrastruktur", PROBLEM)
    await h.settle()
    assert card(h, elsewhere, asp.ticket)
    assert not any(PROBLEM in t for t in h.server.texts(old.id))


async def test_tangani_shows_a_card_only_privately_or_in_the_handling_inbox(harness: BotHarness) -> None:
    h = harness
    andi = await official(h, 20, "PUPR")
    own = await inbox(h, andi, -100500, "Inbox PUPR")
    other = await inbox(h, h.admin, -100600, "Inbox Dinkes", "DINKES")
    kades = await h.kepala_desa(KADES)
    asp = await submit(h, kades, "infrastruktur", PROBLEM)
    await h.settle()
    chatter = h.server.group(-100900, "Grup Arisan Kantor")
    for group, ticket in ((chatter, asp.ticket), (chatter, "ASP-2026-09999"), (other, asp.ticket)):
        mark = h.server.mark()
        andi.send(f"/tangani {ticket}", chat=group)
        await h.server.wait_for_text(group.id, "hanya ditampilkan di chat pribadi atau di grup kotak masuk",
                                     since=mark)
        await h.settle()
        sent = [c.text or "" for c in h.server.calls[mark:] if c.chat_id == group.id]
        assert len(sent) == 1 and PROBLEM not in sent[0] and "Ledokombo" not in sent[0], sent
    assert not any(PROBLEM in t for t in h.server.texts(chatter.id))
    refused = await h.svc.db.fetchval("SELECT COUNT(*) FROM audit_log WHERE action = 'refused' AND detail LIKE"
                                      " '/tangani%'")
    assert refused == 3
    # where it belongs, the card comes
    mark = h.server.mark()
    andi.send(f"/tangani {asp.ticket}", chat=own)
    await h.server.wait_for_text(own.id, PROBLEM, since=mark)
    await h.say(andi, f"/tangani {asp.ticket}", PROBLEM)


async def test_a_plain_reply_in_the_inbox_stays_internal_and_balas_is_explicit(harness: BotHarness) -> None:
    h = harness
    andi = await official(h, 20, "PUPR", name="Andi")
    rudi = await official(h, 21, "PUPR", name="Rudi")
    group = await inbox(h, andi, -100500, "Inbox PUPR")
    kades = await h.kepala_desa(KADES)
    asp = await submit(h, kades, "infrastruktur", PROBLEM)
    await h.settle()
    before = len(h.server.texts(KADES))

    # colleagues discuss under the card: nothing reaches the kepala desa; the bot says so once per person
    mark = h.server.mark()
    andi.reply(card(h, group, asp.ticket), "Rud, besok bisa cek lokasi? Anggaran rehab sudah habis.")
    hint = await h.server.wait_for_text(group.id, "tidak dikirim", since=mark)
    assert "/balas" in (hint.text or "")
    andi.reply(card(h, group, asp.ticket), "Kalau tidak bisa, kita ajukan ke BPBD saja.")
    rudi.reply(card(h, group, asp.ticket), "Siap, besok pagi saya ke sana.")
    await h.settle()
    assert len(h.server.texts(KADES)) == before
    hints = [c for c in h.server.calls[mark:] if c.chat_id == group.id and "tidak dikirim" in (c.text or "")]
    assert len(hints) == 2  # Andi once, Rudi once
    assert "dibalas" not in [x.action for x in await h.svc.aspirations.history(asp.id)]
    sla = await h.svc.db.fetchone("SELECT responded_at FROM aspiration_sla WHERE aspiration_id = ?", (asp.id,))
    assert sla["responded_at"] is None

    # the explicit act: /balas as a reply to the card
    mark = h.server.mark()
    andi.reply(card(h, group, asp.ticket), "/balas Petugas kami meninjau jembatan besok pagi.")
    await h.server.wait_for_text(group.id, "terkirim kepada Kepala Desa", since=mark)
    got = await h.server.wait_for_text(KADES, "Petugas kami meninjau jembatan besok pagi.", since=mark)
    assert "Anggaran" not in (got.text or "")
    # /balas alone asks for the text, as the button does
    mark = h.server.mark()
    rudi.reply(card(h, group, asp.ticket), "/balas")
    prompt = await h.server.wait_for_text(group.id, "tuliskan balasan", since=mark)
    rudi.reply(prompt, "Material bambu pengganti sudah kami siapkan.")
    await h.server.wait_for_text(KADES, "Material bambu pengganti", since=mark)
    # the Balas button in the group still works
    mark = h.server.mark()
    await press_card(h, andi, group, asp.ticket, "balas")
    prompt = await h.server.wait_for_text(group.id, "tuliskan balasan", since=mark)
    andi.reply(prompt, "Pengerjaan dimulai hari Senin.")
    await h.server.wait_for_text(KADES, "Pengerjaan dimulai hari Senin.", since=mark)
    # /balas that replies to nothing explains itself
    mark = h.server.mark()
    andi.send("/balas Halo", chat=group)
    await h.server.wait_for_text(group.id, "Balas (reply) kartu aspirasinya dengan /balas", since=mark)
    notes = [x.note for x in await h.svc.aspirations.history(asp.id) if x.action == "dibalas"]
    assert notes == ["Petugas kami meninjau jembatan besok pagi.", "Material bambu pengganti sudah kami siapkan.",
                     "Pengerjaan dimulai hari Senin."]
    assert await status_of(h, asp.ticket) == "baru"
