"""Who may press what: every unauthorised role, forged and stale callback data, closed aspirations, and the
inbox group commands — each refused with a message, logged, and changing nothing."""

from __future__ import annotations

from tests.harness import BotHarness
from tests.officials_support import (
    LABEL,
    buttons,
    card,
    data_of,
    finish,
    inbox,
    official,
    press_card,
    press_on,
    refusals,
    status_of,
    submit,
)


async def _setup(h: BotHarness):
    pu = await official(h, 20, "PUPR")
    kades = await h.kepala_desa(10)
    asp = await submit(h, kades, "infrastruktur", "Talud sungai di dusun Krajan longsor sepanjang 20 meter.")
    await h.settle()
    return pu, kades, asp


async def test_every_unauthorised_role_is_refused_and_logged(harness: BotHarness) -> None:
    pu, kades, asp = await _setup(harness)
    message = card(harness, 20, asp.ticket)
    terima = data_of(message, LABEL["terima"])
    camat = harness.user(40, "Camat")
    await harness.register(camat, "camat", kecamatan="Sumber")
    other_kades = await harness.kepala_desa(11, desa="35.13.02.2002", name="Joko")
    dinkes = await official(harness, 30, "DINKES", name="Dokter Dinkes")
    stranger = harness.user(50, "Orang Asing")
    expected = {
        10: "hanya untuk pejabat OPD",  # the kepala desa who sent it
        11: "hanya untuk pejabat OPD",  # another kepala desa
        40: "hanya untuk pejabat OPD",  # the camat
        30: "tidak ditangani OPD Anda",  # an official of another department
        50: "belum terdaftar",  # nobody
    }
    users = {10: kades, 11: other_kades, 40: camat, 30: dinkes, 50: stranger}
    for uid, why in expected.items():
        for action in ("terima", "tolak", "alihkan", "balas"):  # the ones that ask for text are checked first too
            answer = await press_on(harness, users[uid], message, terima.replace("terima", action))
            assert why in answer.params["text"], (uid, action, answer.params)
            assert answer.params.get("show_alert") is True
    await harness.settle()
    assert await status_of(harness, asp.ticket) == "baru"
    assert not any("diterima" in t or "alasan" in t.lower() for uid in users for t in harness.server.texts(uid)
                   if "Pendaftaran" not in t)
    logged = await refusals(harness)
    assert len(logged) == 20 and all(f"asp:act:{asp.id}:" in entry for entry in logged)
    # nobody got a prompt, so their next text is not taken as a reason
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM pending_inputs") == 0
    # the responsible official still can
    await press_on(harness, pu, message, terima)
    await harness.server.wait_for_text(10, "diterima")


async def test_forged_stale_and_closed_presses(harness: BotHarness) -> None:
    pu, kades, asp = await _setup(harness)
    message = card(harness, 20, asp.ticket)
    cases = {
        "asp:act:1x:terima": "tidak dikenal",  # malformed
        f"asp:act:{asp.id}:hapus": "tidak dikenal",  # unknown action
        "asp:act:999999:terima": "tidak ditemukan",  # no such aspiration
        f"asp:rte:{asp.id}:NOPE": "OPD tujuan tidak dikenal",  # unknown department
        f"asp:rte:{asp.id}:PUPR": "sudah ditangani PUPR",  # redirect to itself
        f"asp:cfm:{asp.id}:ya": "hanya untuk kepala desa",  # an official answering for the kepala desa
        f"asp:act:{asp.id}:terima:extra": "tidak dikenal",
    }
    for data, why in cases.items():
        answer = await press_on(harness, pu, message, data)
        assert why in answer.params["text"], (data, answer.params)
    # stale: pressing Terima on a card that was already accepted
    await press_on(harness, pu, message, data_of(message, LABEL["terima"]))
    await harness.server.wait_for_text(10, "diterima")
    again = await press_on(harness, pu, message, f"asp:act:{asp.id}:terima")
    assert "berstatus Diterima; tombol ini tidak berlaku lagi" in again.params["text"]
    # the kepala desa cannot confirm before "Selesai"
    answer = await press_on(harness, kades, harness.server.last_bot_message(10), f"asp:cfm:{asp.id}:ya")
    assert "tombol ini tidak berlaku" in answer.params["text"]
    # closed: after Tolak nothing else applies
    await press_card(harness, pu, 20, asp.ticket, "tolak")
    await harness.say(pu, "Talud sungai adalah kewenangan BBWS Brantas.", "ditolak")
    for action in ("proses", "selesai", "balas", "alihkan", "tdt"):
        answer = await press_on(harness, pu, message, f"asp:act:{asp.id}:{action}")
        assert "sudah ditutup (Ditolak)" in answer.params["text"], action
    await harness.settle()
    assert await status_of(harness, asp.ticket) == "ditolak"
    logged = await refusals(harness)
    assert len(logged) == len(cases) + 1 + 1 + 5
    notes = [t for t in harness.server.texts(10) if asp.ticket in t and "Anda" in t]
    assert len(notes) == 2  # diterima, ditolak — nothing from the refused presses


async def test_a_prompt_is_refused_when_the_status_changed_meanwhile(harness: BotHarness) -> None:
    pu, kades, asp = await _setup(harness)
    rudi = await official(harness, 21, "PUPR", name="Rudi")  # joined later: asks for the card
    await harness.say(rudi, f"/tangani {asp.ticket}", f"Aspirasi {asp.ticket}")
    await press_card(harness, pu, 20, asp.ticket, "tolak")
    await harness.server.wait_for_text(20, "alasan penolakan")
    await finish(harness, rudi, 21, asp.ticket)  # a colleague finishes it first
    await harness.server.wait_for_text(10, "Sudah tertangani?")
    await harness.say(pu, "Bukan kewenangan kabupaten.", "Sementara Anda menulis")
    assert await status_of(harness, asp.ticket) == "selesai"
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM pending_inputs") == 0
    # a waiting prompt is personal: another user's text in the same group does not answer it
    group = await inbox(harness, pu, -100500, "Inbox PUPR")
    second = await submit(harness, kades, "infrastruktur", "Drainase jalan desa tersumbat lumpur.")
    await harness.settle()
    await press_card(harness, pu, group, second.ticket, "tdt")
    prompt = await harness.server.wait_for_text(group.id, "tidak dapat ditindaklanjuti")
    mark = harness.server.mark()
    rudi.reply(prompt, "Saya yang menjawab")
    await harness.server.wait_idle(quiet=0.2)
    await harness.settle()
    assert await status_of(harness, second.ticket) == "baru"
    assert not any("Saya yang menjawab" in t for t in harness.server.texts(10))
    assert harness.server.mark() >= mark
    pu.reply(prompt, "Drainase itu dibangun swadaya, silakan lewat dana desa.")
    await harness.server.wait_for_text(10, "dana desa")
    assert await status_of(harness, second.ticket) == "tidak_dapat"


async def test_inbox_command_rules(harness: BotHarness) -> None:
    pu = await official(harness, 20, "PUPR")
    kades = await harness.kepala_desa(10)
    group = harness.server.group(-100700, "Grup Campur")
    for user, expect in ((kades, "Hanya admin atau pejabat OPD"), (harness.user(50, "Asing"),
                                                                   "Hanya admin atau pejabat OPD")):
        mark = harness.server.mark()
        user.send("/inbox", chat=group)
        await harness.server.wait_for_text(group.id, expect, since=mark)
    mark = harness.server.mark()
    pu.send("/inbox DINKES", chat=group)
    await harness.server.wait_for_text(group.id, "hanya dapat mendaftarkan grup untuk OPD Anda", since=mark)
    await harness.say(pu, "/inbox", "dijalankan di dalam grup")  # in a private chat
    # the admin chooses the department; the admin without one gets the explanation
    mark = harness.server.mark()
    harness.admin.send("/inbox", chat=group)
    await harness.server.wait_for_text(group.id, "belum menjadi kotak masuk", since=mark)
    await inbox(harness, harness.admin, group.id, "Grup Campur", "dinkes")
    assert await harness.svc.departments.inbox_departments(group.id) == ["DINKES"]
    await inbox(harness, pu, group.id, "Grup Campur")
    assert await harness.svc.departments.inbox_departments(group.id) == ["DINKES", "PUPR"]
    mark = harness.server.mark()
    pu.send("/inbox@sambang_test_bot lepas", chat=group)
    await harness.server.wait_for_text(group.id, "tidak lagi menjadi kotak masuk PUPR", since=mark)
    assert await harness.svc.departments.inbox_departments(group.id) == ["DINKES"]
    logged = await refusals(harness)
    assert len(logged) == 3 and all("/inbox" in entry for entry in logged)
    # an aspiration for PUPR no longer goes to that group; one for Dinkes does, and its card offers buttons that
    # every press re-checks: a group member who is not an official of DINKES is refused
    asp = await submit(harness, kades, "kesehatan", "Puskesmas pembantu desa tutup sejak dua bulan.")
    await harness.settle()
    group_card = card(harness, group.id, asp.ticket)
    assert LABEL["terima"] in buttons(group_card)
    answer = await press_on(harness, pu, group_card, data_of(group_card, LABEL["terima"]))
    assert "tidak ditangani OPD Anda (PUPR)" in answer.params["text"]


async def test_group_migration_and_removal_keep_the_inbox_right(harness: BotHarness) -> None:
    pu = await official(harness, 20, "PUPR")
    group = await inbox(harness, pu, -500, "Grup Lama")
    migrated = harness.server.new_message(group.id, pu.as_dict, {"migrate_to_chat_id": -100999})
    harness.server.push_update("message", migrated)
    await harness.settle()
    assert await harness.svc.db.fetchval("SELECT chat_id FROM department_inboxes WHERE department = 'PUPR'") \
        == -100999
    harness.server.push_update("my_chat_member", {
        "chat": {"id": -100999, "type": "supergroup", "title": "Grup Baru"}, "from": pu.as_dict,
        "date": harness.server.now(),
        "old_chat_member": {"status": "member", "user": harness.server.bot_user},
        "new_chat_member": {"status": "left", "user": harness.server.bot_user},
    })
    await harness.settle()
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM department_inboxes") == 0
