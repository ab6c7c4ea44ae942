"""Access taken away and handed over, end to end: an admin deactivates, reactivates and moves people in the bot; a
deactivated person is refused everywhere and hears nothing more; an id removed from SAMBANG_ADMINS loses the admin
role at the next start; a new kepala desa from the roster or an invitation is a successor whom an admin confirms;
an official moved to another department can no longer act on the old department's cards."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.clock import FakeClock
from bot.people import roster
from tests.harness import ADMIN_ID, BotHarness
from tests.officials_support import LABEL, card, data_of, official, press_card, press_on, status_of, submit

WIB = ZoneInfo("Asia/Jakarta")
DEACTIVATED = "sudah dinonaktifkan"
WAITING = "menunggu konfirmasi admin"


async def _audit(h: BotHarness, action: str) -> list[tuple[int | None, str]]:
    rows = await h.svc.db.fetchall("SELECT actor_telegram_id, detail FROM audit_log WHERE action = ? ORDER BY id",
                                   (action,))
    return [(r["actor_telegram_id"], r["detail"]) for r in rows]


async def _person(h: BotHarness, telegram_id: int) -> dict[str, object]:
    row = await h.svc.db.fetchone("SELECT * FROM people WHERE telegram_id = ?", (telegram_id,))
    assert row is not None
    return dict(row)


async def test_a_deactivated_person_is_refused_everywhere_and_hears_nothing_more(harness: BotHarness) -> None:
    h = harness
    kades = await h.kepala_desa(10)
    andi = await official(h, 20, "PUPR")
    first = await submit(h, kades, "infrastruktur", "Jalan poros Ledokombo berlubang besar di tiga titik.")
    await h.settle()
    old_card = card(h, 20, first.ticket)
    # a message still queued for the official (held back, as by Telegram's pace) must not reach them any more
    queued = await h.svc.db.execute(
        "INSERT INTO outbox(chat_id, method, params, not_before, created_at) VALUES (20, 'sendMessage', ?,"
        " '2099-01-01T00:00:00.000000Z', '2026-03-02T02:00:00.000000Z')",
        (json.dumps({"chat_id": 20, "text": "pesan tertunda"}),))
    assert queued is not None
    done = await h.say(h.admin, "/nonaktifkan 20", "Dinonaktifkan")
    assert "Andi" in (done.text or "") and "1 pesan antre untuknya ditarik" in (done.text or "")
    await h.server.wait_for_text(20, "Akses Anda ke Sambang telah dinonaktifkan")
    assert await h.svc.db.fetchval("SELECT status FROM outbox WHERE params LIKE '%pesan tertunda%'") == "failed"
    # every command, every message and every button gets the same clear refusal, and nothing is done
    for text in ("/start", "/bantuan", "/status", f"/tangani {first.ticket}", "/aspirasi", "pak, tolong"):
        await h.say(andi, text, DEACTIVATED)
    answer = await press_on(h, andi, old_card, data_of(old_card, LABEL["terima"]))
    assert DEACTIVATED in str(answer.params.get("text"))
    await h.settle()
    assert await status_of(h, first.ticket) == "baru"
    assert len([d for _, d in await _audit(h, "ditolak") if "nonaktif" in d]) >= 7
    # the daily digest of PUPR no longer goes to them
    h.clock.set(datetime(2026, 3, 3, 7, 5, tzinfo=WIB))
    await h.tick()
    await h.settle()
    assert not [t for t in h.server.texts(20) if "Ringkasan harian" in t]
    # the admin sees them as inactive, the change is in the audit log with the admin as actor
    listed = await h.say(h.admin, "/orang pejabat", "Orang di Sambang")
    assert "Andi" in (listed.text or "") and "nonaktif" in (listed.text or "")
    assert [a for a, _ in await _audit(h, "nonaktifkan")] == [ADMIN_ID]
    # an admin cannot lock themselves out, an unknown id is named
    await h.say(h.admin, f"/nonaktifkan {ADMIN_ID}", "akun Anda sendiri")
    await h.say(h.admin, "/nonaktifkan 424242", "Tidak ada orang dengan Telegram id 424242")
    # access given back: the official works again
    await h.say(h.admin, "/aktifkan 20", "Diaktifkan")
    await h.server.wait_for_text(20, "diaktifkan kembali")
    await h.say(andi, "/status", "OPD Anda")
    assert [a for a, _ in await _audit(h, "aktifkan")] == [ADMIN_ID]


async def test_an_id_removed_from_sambang_admins_loses_admin_at_the_next_start(tmp_path: Path,
                                                                                clock: FakeClock) -> None:
    h = BotHarness(tmp_path, clock, admins=frozenset({ADMIN_ID, 900002}))
    await h.start()
    try:
        second = h.user(900002, "Admin Kedua")
        andi = await official(h, 20, "PUPR")
        invited = h.user(30, "Admin Undangan")
        await h.register(invited, "admin")
        # the official's id is added to SAMBANG_ADMINS: admin at the next start
        h.config_changes["admins"] = frozenset({ADMIN_ID, 900002, 20})
        await h.restart()
        for user in (second, andi, invited):
            await h.say(user, "/orang", "Orang di Sambang")
        # two ids taken out of the list: each loses the admin role it had from there
        h.config_changes["admins"] = frozenset({ADMIN_ID})
        await h.restart()
        await h.say(second, "/orang", DEACTIVATED)  # created as admin from the list: deactivated
        await h.say(andi, "/orang", "hanya untuk Admin")  # an official before: official again, same department
        assert (await _person(h, 20))["role"] == "pejabat" and (await _person(h, 20))["department"] == "PUPR"
        await h.say(andi, "/status", "OPD Anda")
        await h.say(invited, "/orang", "Orang di Sambang")  # made admin by an invitation: not touched
        await h.say(h.admin, "/orang", "Orang di Sambang")
        assert len(await _audit(h, "admin_env_dicabut")) == 2
        # listed again: admin again
        h.config_changes["admins"] = frozenset({ADMIN_ID, 900002})
        await h.restart()
        await h.say(second, "/orang", "Orang di Sambang")
    finally:
        await h.close()


ROSTER = "kode_desa,nama,telepon\n35.13.02.2001,Budi Santoso,0812-3456-7890\n"
NEW_HEAD = "kode_desa,nama,telepon\n35.13.02.2001,Sari Wulandari,0813-1111-2222\n"


async def test_a_new_head_from_the_roster_is_a_successor_an_admin_confirms(harness: BotHarness) -> None:
    h = harness
    assert (await roster.import_roster(h.svc.db, h.clock, ROSTER)).created == 1
    budi = h.user(10, "Budi")
    mark = h.server.mark()
    budi.send_contact("+6281234567890")
    await h.server.wait_for_text(10, "Pendaftaran berhasil", since=mark)
    # a new kepala desa is imported for the same desa: the registered head keeps his name and number
    report = await roster.import_roster(h.svc.db, h.clock, NEW_HEAD)
    assert report.ok
    budi_row = await _person(h, 10)
    assert (budi_row["name"], budi_row["phone"], budi_row["active"]) == ("Budi Santoso", "+6281234567890", 1)
    assert report.successors == 1
    # the successor registers by sharing the contact: waiting, the admins are asked
    sari = h.user(11, "Sari")
    mark = h.server.mark()
    sari.send_contact("081311112222")
    await h.server.wait_for_text(11, WAITING, since=mark)
    request = await h.server.wait_for_text(ADMIN_ID, "Pergantian kepala desa")
    assert "Sari Wulandari" in (request.text or "") and "Budi Santoso" in (request.text or "")
    await h.say(sari, "/aspirasi", WAITING)
    await h.say(budi, "/aspirasi", "Langkah 1 dari 4")
    await h.say(budi, "/batal", "Aspirasi dibatalkan")
    road = await submit(h, budi, "infrastruktur", "Jalan poros Ledokombo berlubang besar di tiga titik.")
    # a forged confirmation by anyone but an admin changes nothing
    sari_id = (await _person(h, 11))["id"]
    answer = await press_on(h, budi, budi.last_message(), f"ppl:ok:{sari_id}")
    assert "hanya untuk Admin" in str(answer.params.get("text"))
    await h.settle()
    assert (await _person(h, 11))["active"] == 0 and (await _person(h, 10))["active"] == 1
    # the admin confirms: the predecessor is locked out, the successor is in
    await h.press(h.admin, "✅ Konfirmasi pergantian", "Pergantian dikonfirmasi")
    await h.server.wait_for_text(10, "Akses Anda ke Sambang telah dinonaktifkan")
    await h.server.wait_for_text(11, "mengonfirmasi Anda sebagai")
    await h.say(budi, "/aspirasi", DEACTIVATED)
    await h.say(sari, "/aspirasi", "Langkah 1 dari 4")
    # news of his old aspiration no longer goes to the predecessor
    admin = await roster.get_person(h.svc.db, ADMIN_ID)
    assert h.svc.officials is not None
    mark = h.server.mark()
    await h.svc.officials.act(admin, road.id, "terima")
    await h.settle()
    assert not [c for c in h.server.calls[mark:] if c.chat_id == 10 and road.ticket in (c.text or "")]
    assert [a for a, _ in await _audit(h, "pengganti_dikonfirmasi")] == [ADMIN_ID]
    # the same button pressed again decides nothing twice
    answer = await press_on(h, h.admin, request.messages[0] if request.messages else h.admin.last_message(),
                            f"ppl:ok:{sari_id}")
    assert "sudah diputuskan" in str(answer.params.get("text"))


async def test_an_invited_successor_waits_and_an_admin_can_refuse(harness: BotHarness) -> None:
    h = harness
    budi = await h.kepala_desa(10)
    created = await h.say(h.admin, "/undang kepala_desa 35.13.02.2001", "Undangan dibuat")
    assert "sudah punya kepala desa terdaftar" in (created.text or "")
    match = re.search(r"/start ([A-Z0-9]{8})", created.text or "")
    assert match is not None
    sari = h.user(11, "Sari")
    await h.say(sari, f"/start {match.group(1)}", WAITING)
    await h.server.wait_for_text(ADMIN_ID, "Pergantian kepala desa")
    await h.press(h.admin, "❌ Tolak", "Pergantian ditolak")
    await h.server.wait_for_text(11, "tidak mengonfirmasi pendaftaran Anda")
    await h.say(sari, "/status", DEACTIVATED)
    await h.say(budi, "/status", "Aspirasi desa Anda")
    assert [a for a, _ in await _audit(h, "pengganti_ditolak")] == [ADMIN_ID]


async def test_an_official_moved_to_another_department_cannot_act_on_old_cards(harness: BotHarness) -> None:
    h = harness
    kades = await h.kepala_desa(10)
    andi = await official(h, 20, "PUPR")
    road = await submit(h, kades, "infrastruktur", "Jalan poros Ledokombo berlubang besar di tiga titik.")
    await h.settle()
    old_card = card(h, 20, road.ticket)
    # bad requests: one clear line each, nothing changed
    await h.say(h.admin, "/pindah 20 opd=NOPE", "OPD 'NOPE' tidak dikenal")
    await h.say(h.admin, "/pindah 20 peran=camat", "Camat memerlukan kecamatan")
    await h.say(h.admin, "/pindah 20 desa=35.13.99.9999", "tidak ditemukan")
    await h.say(h.admin, "/pindah 20 desa=35.13.02.2001", "Pejabat OPD tidak memakai desa")
    await h.say(h.admin, "/pindah 20 warna=biru", "tidak dikenal")
    assert (await _person(h, 20))["department"] == "PUPR"
    moved = await h.say(h.admin, "/pindah 20 opd=DINKES", "Diubah")
    assert "OPD: PUPR → DINKES" in (moved.text or "")
    await h.server.wait_for_text(20, "Admin mengubah data Anda")
    # the old department's card is refused on the server, whatever the button says
    answer = await press_on(h, andi, old_card, data_of(old_card, LABEL["terima"]))
    assert "tidak ditangani OPD Anda" in str(answer.params.get("text"))
    assert await status_of(h, road.ticket) == "baru"
    # new aspirations of the new department reach them, and they can act on those
    clinic = await submit(h, kades, "kesehatan", "Posyandu Ledokombo kekurangan timbangan bayi dan vitamin.")
    await h.settle()
    await press_card(h, andi, 20, clinic.ticket, "terima")
    await h.settle()
    assert await status_of(h, clinic.ticket) == "diterima"
    assert [a for a, d in await _audit(h, "pindah")] == [ADMIN_ID]
