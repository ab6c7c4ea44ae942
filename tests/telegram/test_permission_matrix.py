"""The permission matrix: every role × every command and button, table-driven, with the expected outcome per cell.

Roles: kepala desa (the submitter), camat (of the submitter's kecamatan), pejabat of the responsible department
(PUPR for Infrastruktur), pejabat of another department (DINKES), pimpinan, admin, and someone unregistered.

For each cell the test does the thing as that person against the real bot, waits for the answer the table names, and
checks the database: an allowed action changed what it should, a refused one changed nothing (and left an audit
entry). Commands and buttons of features not merged yet are not in the table.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from bot.aspirations.service import Aspiration, Draft
from bot.core.clock import FakeClock
from bot.people import roster
from bot.people.roster import Person
from tests.conftest import START
from tests.fake_telegram import Call, FakeUser
from tests.harness import BotHarness

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROLES = ("kepala_desa", "camat", "pejabat_resp", "pejabat_other", "pimpinan", "admin", "unregistered")
UNREG = "belum terdaftar"


@dataclass
class World:
    h: BotHarness
    users: dict[str, FakeUser]
    people: dict[str, Person]
    keys: Any

    async def aspiration(self, status: str = "baru") -> Aspiration:
        """A fresh Infrastruktur aspiration of the kepala desa, routed to PUPR, in ``status``."""
        draft = Draft(category="infrastruktur",
                      description="Jalan poros desa Ledokombo rusak berat dan berlubang sepanjang satu kilometer.")
        aspiration, _ = await self.h.svc.aspirations.submit(self.people["kepala_desa"], draft, f"m{next(self.keys)}")
        officials = self.h.svc.officials
        assert officials is not None
        if status == "selesai":
            await officials.act(self.people["admin"], aspiration.id, "selesai")
        return await self.h.svc.aspirations.get(aspiration.id)

    async def status(self, aspiration_id: int) -> str:
        return str(await self.h.svc.db.fetchval("SELECT status FROM aspirations WHERE id = ?", (aspiration_id,)))

    async def expect(self, user: FakeUser, action: Any, expected: str) -> Call:
        server = self.h.server
        mark = server.mark()
        action()

        def matches(call: Call) -> bool:
            if call.method == "answerCallbackQuery":
                return expected in str(call.params.get("text") or "")
            if call.method == "sendDocument" and expected == "<document>":
                return True
            return any(expected in (m.get("text") or m.get("caption") or "") for m in call.messages)

        call = await server.wait_for(matches, 5, chat_id=user.id, since=mark, what=f"{expected!r} for {user.id}")
        await self.h.settle()
        failed = [c for c in server.calls[mark:] if c.chat_id == user.id and not c.ok]
        assert failed == [], [c.describe() for c in failed]
        return call


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    h = BotHarness(tmp_path_factory.mktemp("matrix"), FakeClock(START))
    await h.start()
    try:
        users = {
            "kepala_desa": h.user(710001, "Kades"), "camat": h.user(710002, "Camat"),
            "pejabat_resp": h.user(710003, "PejabatPUPR"), "pejabat_other": h.user(710004, "PejabatDinkes"),
            "pimpinan": h.user(710005, "Bupati"), "admin": h.admin, "unregistered": h.user(710099, "Asing"),
        }
        await h.register(users["kepala_desa"], "kepala_desa", desa="35.13.02.2001")  # Ledokombo, Kec. Sumber
        await h.register(users["camat"], "camat", kecamatan="Sumber")
        await h.register(users["pejabat_resp"], "pejabat", department="PUPR")
        await h.register(users["pejabat_other"], "pejabat", department="DINKES")
        await h.register(users["pimpinan"], "pimpinan", title="Bupati")
        await h.say(users["admin"], "/start", "Selamat datang")
        await h.say(users["unregistered"], "/start", UNREG)
        people = {role: await roster.get_person(h.svc.db, u.id) for role, u in users.items() if role != "unregistered"}
        yield World(h, users, people, itertools.count(1))
    finally:
        await h.close()


# -- commands ---------------------------------------------------------------------------------------------------

NOT_ADMIN = "hanya untuk Admin"
STAFF_ONLY = "hanya untuk"
COMMANDS: dict[str, dict[str, str]] = {
    "/start": {"unregistered": UNREG, "*": "Selamat datang kembali"},
    "/bantuan": {"*": "Bantuan Sambang"},
    "/aspirasi": {"kepala_desa": "Langkah 1 dari 4", "unregistered": UNREG, "*": "hanya untuk Kepala Desa"},
    "/status": {"kepala_desa": "Aspirasi desa Anda", "camat": "Tembusan aspirasi", "pejabat_resp": "OPD Anda",
                "pejabat_other": "OPD Anda", "pimpinan": "Aspirasi terbaru", "admin": "Aspirasi terbaru",
                "unregistered": UNREG},
    "/status {ticket}": {"kepala_desa": "Riwayat", "camat": "bukan untuk Anda", "pejabat_resp": "Riwayat",
                         "pejabat_other": "bukan untuk Anda", "pimpinan": "Riwayat", "admin": "Riwayat",
                         "unregistered": UNREG},
    "/tangani {ticket}": {"pejabat_resp": "{ticket}", "pimpinan": "{ticket}", "admin": "{ticket}",
                          "pejabat_other": "bukan untuk Anda", "kepala_desa": STAFF_ONLY, "camat": STAFF_ONLY,
                          "unregistered": UNREG},
    "/undang camat Tiris": {"admin": "Undangan dibuat", "unregistered": UNREG, "*": NOT_ADMIN},
    "/audit": {"admin": "<document>", "unregistered": UNREG, "*": NOT_ADMIN},
    "/opd": {"admin": "OPD dan pembagian aspirasi", "pimpinan": "OPD dan pembagian aspirasi", "unregistered": UNREG,
             "*": STAFF_ONLY},
    "/inbox": {"*": "di dalam grup"},
    "/batal": {"*": "Tidak ada"},
    # Ngantor di Kecamatan
    "/jadwal": {"unregistered": UNREG, "*": "Jadwal Ngantor di Kecamatan"},
    "/kunjungan": {"admin": "Kelola kunjungan", "unregistered": UNREG, "*": NOT_ADMIN},
    "/briefing": {"pimpinan": "/briefing Sumber", "admin": "/briefing Sumber", "pejabat_resp": "/briefing Sumber",
                  "pejabat_other": "/briefing Sumber", "unregistered": UNREG, "*": STAFF_ONLY},
    "/janji": {"admin": "Catat janji", "pimpinan": "Catat janji", "unregistered": UNREG, "*": STAFF_ONLY},
    "/siaran": {"admin": "Siaran baru", "unregistered": UNREG, "*": NOT_ADMIN},
    "/umpanbalik": {"pimpinan": "Umpan balik", "unregistered": UNREG, "*": "hanya untuk Pimpinan"},
    # The map of problems and potential
    "/potensi": {"kepala_desa": "Potensi desa", "unregistered": UNREG, "*": "hanya untuk Kepala Desa"},
    "/desa Ledokombo": {"pimpinan": "Desa Ledokombo", "admin": "Desa Ledokombo", "pejabat_resp": "Desa Ledokombo",
                        "pejabat_other": "Desa Ledokombo", "unregistered": UNREG, "*": STAFF_ONLY},
    "/rekap": {"pimpinan": "Rekap aspirasi", "admin": "Rekap aspirasi", "unregistered": UNREG, "*": STAFF_ONLY},
    "/ekspor csv": {"pimpinan": "<document>", "admin": "<document>", "pejabat_resp": "<document>",
                    "pejabat_other": "<document>", "unregistered": UNREG, "*": STAFF_ONLY},
    "/lokasi": {"kepala_desa": "Lokasi kantor desa", "unregistered": UNREG, "*": "hanya untuk Kepala Desa"},
    "/dasbor": {"pimpinan": "Dasbor Sambang", "admin": "Dasbor Sambang", "pejabat_resp": "Dasbor Sambang",
                "pejabat_other": "Dasbor Sambang", "unregistered": UNREG, "*": STAFF_ONLY},
    # Dead letters: messages the bot could not process
    "/gagal": {"admin": "Tidak ada pesan gagal", "unregistered": UNREG, "*": NOT_ADMIN},
    # Access: looking people up, taking access away, giving it back, moving people
    "/orang": {"admin": "Orang di Sambang", "unregistered": UNREG, "*": NOT_ADMIN},
    "/nonaktifkan": {"admin": "Format:", "unregistered": UNREG, "*": NOT_ADMIN},
    "/aktifkan": {"admin": "Format:", "unregistered": UNREG, "*": NOT_ADMIN},
    "/pindah": {"admin": "Format:", "unregistered": UNREG, "*": NOT_ADMIN},
}
#: Commands that open a guided flow: the cell closes it again with /batal.
FLOWS = {"/aspirasi": "Aspirasi dibatalkan", "/kunjungan": "", "/janji": "", "/siaran": "", "/potensi": ""}


def _expected(table: dict[str, str], role: str) -> str:
    return table.get(role, table.get("*", ""))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("command", list(COMMANDS))
async def test_command(world: World, command: str, role: str) -> None:
    aspiration = await world.aspiration()
    user = world.users[role]
    text = command.format(ticket=aspiration.ticket)
    expected = _expected(COMMANDS[command], role).format(ticket=aspiration.ticket)
    invitations = await world.h.svc.db.fetchval("SELECT COUNT(*) FROM invitations")
    await world.expect(user, lambda: user.send(text), expected)
    created = await world.h.svc.db.fetchval("SELECT COUNT(*) FROM invitations") - invitations
    assert created == (1 if expected == "Undangan dibuat" else 0)
    assert await world.status(aspiration.id) == "baru"  # no command changes an aspiration
    if command in FLOWS and expected not in (NOT_ADMIN, STAFF_ONLY, "hanya untuk Kepala Desa", UNREG):
        mark = world.h.server.mark()
        user.send("/batal")
        await world.h.server.wait_for(lambda c: c.method == "sendMessage", 5, chat_id=user.id, since=mark)
        await world.h.settle()
    if expected in (NOT_ADMIN, STAFF_ONLY, "hanya untuk Kepala Desa", "hanya untuk Pimpinan", UNREG) and \
            command not in ("/start", "/bantuan"):
        refused = await world.h.svc.db.fetchval(
            "SELECT COUNT(*) FROM audit_log WHERE actor_telegram_id = ? AND action IN ('ditolak', 'refused')",
            (user.id,))
        assert refused >= 1


# -- buttons ----------------------------------------------------------------------------------------------------

STAFF = ("pejabat_resp", "pimpinan", "admin")
NOT_OFFICIAL = "hanya untuk pejabat OPD"
OTHER_DEPT = "tidak ditangani OPD Anda"


@dataclass(frozen=True)
class Button:
    data: str  # with {id}
    needs: str  # status the aspiration must have first
    allowed: tuple[str, ...]
    ok: str  # what an allowed press answers
    after: str  # status after an allowed press
    refusals: dict[str, str]


def _staff_button(action: str, ok: str, after: str, needs: str = "baru") -> Button:
    return Button(f"asp:act:{{id}}:{action}", needs, STAFF, ok, after,
                  {"kepala_desa": NOT_OFFICIAL, "camat": NOT_OFFICIAL, "pejabat_other": OTHER_DEPT,
                   "unregistered": UNREG})


BUTTONS: dict[str, Button] = {
    "terima": _staff_button("terima", "diterima", "diterima"),
    "proses": _staff_button("proses", "diproses", "diproses"),
    "selesai": _staff_button("selesai", "catatan hasil", "baru"),
    "tolak": _staff_button("tolak", "alasan penolakan", "baru"),
    "tidak_dapat": _staff_button("tdt", "tidak dapat ditindaklanjuti", "baru"),
    "balas": _staff_button("balas", "balasan", "baru"),
    "alihkan": _staff_button("alihkan", "kepada OPD mana", "baru"),
    # one department only (Infrastruktur -> PUPR): nobody steps aside, everyone is told why
    "bukan_kewenangan": Button("asp:act:{id}:lepas", "baru", (), "", "baru",
                               {"kepala_desa": NOT_OFFICIAL, "camat": NOT_OFFICIAL, "pejabat_other": OTHER_DEPT,
                                "unregistered": UNREG, "pejabat_resp": "satu-satunya",
                                "pimpinan": "Hanya pejabat OPD yang ikut menangani",
                                "admin": "Hanya pejabat OPD yang ikut menangani"}),
    "alihkan_ke": Button("asp:rte:{id}:DINKES", "baru", STAFF, "alasan", "baru",
                         {"kepala_desa": NOT_OFFICIAL, "camat": NOT_OFFICIAL, "pejabat_other": OTHER_DEPT,
                          "unregistered": UNREG}),
    "sudah_tertangani": Button("asp:cfm:{id}:ya", "selesai", ("kepala_desa",), "ditutup", "ditutup",
                               {"*": "hanya untuk kepala desa yang mengirim"}),
    "belum_tertangani": Button("asp:cfm:{id}:belum", "selesai", ("kepala_desa",), "Apa yang belum tertangani",
                               "selesai", {"*": "hanya untuk kepala desa yang mengirim"}),
    "aspirasi_baru": Button("asp:new", "baru", ("kepala_desa",), "Langkah 1 dari 4", "baru",
                            {"unregistered": UNREG, "*": "hanya untuk Kepala Desa"}),
    "forged_action": Button("asp:act:{id}:hapus", "baru", (), "", "baru", {"*": "tidak dikenal"}),
    "old_summary_send": Button("asp:sum:send", "baru", (), "", "baru", {"kepala_desa": "sudah terkirim",
                                                                       "*": "tidak berlaku"}),
    "old_category": Button("asp:cat:infrastruktur", "baru", (), "", "baru", {"*": "tidak berlaku"}),
    # an admin's answer to a succession: any other role is refused; an admin is told there is nothing to decide
    "confirm_successor": Button("ppl:ok:999999", "baru", ("admin",), "sudah diputuskan", "baru",
                                {"unregistered": UNREG, "*": "hanya untuk Admin"}),
    # (last: their prompts carry the ticket, so a later press would land on them)
    "minta_info": _staff_button("info", "pertanyaan", "baru"),
    "duplikat": _staff_button("duplikat", "nomor tiket aspirasi utama", "baru"),
    "kirim_pesan": Button("asp:msg:{id}:new", "baru", ("kepala_desa",), "Tuliskan pesan", "baru",
                          {"*": "hanya untuk kepala desa yang mengirim"}),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(BUTTONS))
async def test_button(world: World, name: str, role: str) -> None:
    button = BUTTONS[name]
    aspiration = await world.aspiration(button.needs)
    await world.h.settle()  # people press what they have been sent: the notifications are delivered first
    user = world.users[role]
    # press on the message that carries this aspiration's buttons where there is one (as people do), else on the
    # newest message (a forged press)
    message = next((m for m in world.h.server.bot_messages(user.id, newest_first=True)
                    if aspiration.ticket in (m.get("text") or "") and m.get("reply_markup")), user.last_message())
    assert message is not None
    data = button.data.format(id=aspiration.id)
    allowed = role in button.allowed
    expected = button.ok if allowed else button.refusals.get(role, button.refusals.get("*", ""))
    await world.expect(user, lambda: world.h.server.push_callback_query(user, message, data), expected)
    assert await world.status(aspiration.id) == (button.after if allowed else button.needs)
    officials = world.h.svc.officials
    assert officials is not None
    if allowed:
        await officials.cancel_input(user.id, user.id)  # a prompt waiting for a reason is left unanswered
        if name == "aspirasi_baru":
            await world.h.say(user, "/batal", "Aspirasi dibatalkan")
    else:
        assert await officials.pending_input(user.id, user.id) is None
        if name not in ("old_summary_send", "old_category"):  # stale buttons of one's own flow are not privileged
            refused = await world.h.svc.db.fetchval(
                "SELECT COUNT(*) FROM audit_log WHERE actor_telegram_id = ? AND action IN ('ditolak', 'refused')",
                (user.id,))
            assert refused >= 1


async def test_the_matrix_covers_every_command_in_the_menu() -> None:
    from bot.app import MENU

    covered = {c.split()[0].lstrip("/") for c in COMMANDS}
    missing = {name for name, _ in MENU} - covered
    assert not missing, f"commands without a row in the permission matrix: {missing}"
