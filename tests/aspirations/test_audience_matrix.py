"""Who sees which aspiration: every read path × every role, against one table of what each role may see.

The world: Kecamatan Sumber with two heads of Desa Ledokombo at once (the submitter and a successor registered
while the predecessor still is), the head of Pandansari (same kecamatan) and of a desa in Tiris, the camat of Sumber
and of Tiris, officials of PUPR (routed department) and DINKES (another one), the Bupati and an admin. Their
aspirations: copies to the camat and none, "Kinerja Kecamatan" reports of each Ledokombo head, one for DINKES, one
redirected from PUPR to DINKES, and one from each other village.

Each path is called as the services behind the command are (``/status`` list and detail, ``/desa``, ``/briefing``
on demand and scheduled, the daily and weekly digests, escalations and every other queued message, ``/rekap``,
``/ekspor``, ``sambang export``); what it shows must be exactly (or, for paths that show a part, only) what the
table allows — tickets and the descriptions' marker words. Two end-to-end checks replay the reported defects
through the real bot: the successor's ``/status`` and the DINKES official's ``/briefing``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import pytest_asyncio

from bot.aspirations import audience as audiences
from bot.aspirations.service import Draft
from bot.core.clock import FakeClock, to_iso
from bot.core.domain import NotAllowed, NotFound
from bot.officials import digests
from bot.people.roster import Person, get_person
from handlers.village_map.desa import ROLES as DESA_ROLES
from handlers.village_map.rekap import EXPORT_ROLES, RECAP_ROLES
from tests.conftest import START
from tests.harness import BotHarness

pytestmark = pytest.mark.asyncio(loop_scope="module")

LEDOKOMBO, PANDANSARI, TIRIS_DESA = "35.13.02.2001", "35.13.02.2002", "35.13.07.2001"
SUMBER = "35.13.02"

# name -> (submitter, category, copy to the camat, description with a marker word no other one has)
ASPIRATIONS: dict[str, tuple[str, str, bool, str]] = {
    "copy": ("kades_a", "infrastruktur", True, "Jembatan dusun Krajan putus, PenandaSalinan, warga memutar jauh."),
    "plain": ("kades_a", "infrastruktur", False, "Saluran irigasi tersier jebol, PenandaBiasa, sawah kering."),
    "conf_a": ("kades_a", "kinerja_kecamatan", True, "Pungutan liar surat pengantar, PenandaRahasiaLama."),
    "conf_b": ("kades_b", "kinerja_kecamatan", False, "Camat jarang di kantor, PenandaRahasiaBaru, layanan macet."),
    "health": ("kades_b", "kesehatan", False, "Posyandu kekurangan timbangan bayi, PenandaSehat, mohon bantuan."),
    "moved": ("kades_a", "infrastruktur", False, "Sampah menumpuk di saluran pasar, PenandaPindah, berbau."),
    "other": ("kades_other", "infrastruktur", True, "Jalan ke sekolah berlubang, PenandaTetangga, rawan."),
    "tiris": ("kades_tiris", "infrastruktur", True, "Longsor menutup jalan desa, PenandaTiris, akses putus."),
}
ALL = frozenset(ASPIRATIONS)
CONFIDENTIAL = frozenset({"conf_a", "conf_b"})

#: What each role may read in the bot. Written out, not derived from the rule under test.
VISIBLE: dict[str, frozenset[str]] = {
    "kades_a": frozenset({"copy", "plain", "conf_a", "health", "moved"}),
    "kades_b": frozenset({"copy", "plain", "conf_b", "health", "moved"}),  # not the predecessor's conf_a
    "kades_other": frozenset({"other"}),
    "kades_tiris": frozenset({"tiris"}),
    "camat": frozenset({"copy", "other"}),  # the copies of Sumber; never plain, never conf_a (asked, not made)
    "camat_tiris": frozenset({"tiris"}),
    "pupr": frozenset({"copy", "plain", "other", "tiris", "moved"}),  # moved: before the redirect, still readable
    "dinkes": frozenset({"health", "moved"}),
    "pimpinan": ALL,
    "admin": ALL,
}
ROLES = tuple(VISIBLE)
#: Who reads an aspiration's thread (the replies, questions and answers between the village and the departments):
#: the departments responsible now (PUPR no longer for "moved"), never another department or a camat without copy.
THREAD: dict[str, frozenset[str]] = {**VISIBLE, "pupr": frozenset({"copy", "plain", "other", "tiris"})}
#: Files that travel: "Kinerja Kecamatan" only in leadership's.
EXPORTED = {**VISIBLE, "admin": ALL - CONFIDENTIAL}
#: Assigned to the department now (its daily digest is its open work).
RESPONSIBLE = {"pupr": VISIBLE["pupr"] - {"moved"}, "dinkes": VISIBLE["dinkes"]}
IN_SUMBER = ALL - {"tiris"}
IN_LEDOKOMBO = frozenset({"copy", "plain", "conf_a", "conf_b", "health", "moved"})
#: May see who acted (names in the history), and the villages' feedback (in the bot; in exports).
ACTORS = {"pupr", "dinkes", "pimpinan", "admin"}
FEEDBACK = {"pimpinan", "admin"}
FEEDBACK_IN_EXPORTS = {"pimpinan"}

REFUSED = "refused"
WIB = ZoneInfo("Asia/Jakarta")


@dataclass
class World:
    h: BotHarness
    users: dict[str, Any]
    people: dict[str, Person]
    tickets: dict[str, str] = field(default_factory=dict)
    visit: Any = None

    def person(self, role: str) -> Person:
        return self.people[role]

    def shown(self, text: str) -> set[str]:
        """The aspirations ``text`` shows: by ticket or by the marker word of the description."""
        return {name for name, ticket in self.tickets.items()
                if ticket in text or _marker(ASPIRATIONS[name][3]) in text}

    async def outbox(self, chat_id: int, ref_like: str = "%") -> str:
        rows = await self.h.svc.db.fetchall(
            "SELECT params FROM outbox WHERE chat_id = ? AND ref LIKE ? ORDER BY id", (chat_id, ref_like))
        texts = []
        for r in rows:
            params = json.loads(r["params"])
            texts.append(str(params.get("text") or params.get("caption") or ""))
        return "\n".join(texts)


def _marker(description: str) -> str:
    found = re.search(r"Penanda\w+", description)
    assert found
    return found.group(0)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    h = BotHarness(tmp_path_factory.mktemp("audience"), FakeClock(START))
    await h.start()
    try:
        users = {
            "kades_a": h.user(720001, "KadesLama"), "kades_b": h.user(720002, "KadesBaru"),
            "kades_other": h.user(720003, "KadesPandansari"), "kades_tiris": h.user(720004, "KadesTiris"),
            "camat": h.user(720005, "CamatSumber"), "camat_tiris": h.user(720006, "CamatTiris"),
            "pupr": h.user(720007, "Andi"), "dinkes": h.user(720008, "Sari"), "pimpinan": h.user(720009, "Bupati"),
            "admin": h.admin,
        }
        await h.register(users["kades_a"], "kepala_desa", desa=LEDOKOMBO)
        await h.register(users["kades_other"], "kepala_desa", desa=PANDANSARI)
        await h.register(users["kades_tiris"], "kepala_desa", desa=TIRIS_DESA)
        await h.register(users["camat"], "camat", kecamatan="Sumber")
        await h.register(users["camat_tiris"], "camat", kecamatan="Tiris")
        await h.register(users["pupr"], "pejabat", department="PUPR")
        await h.register(users["dinkes"], "pejabat", department="DINKES")
        await h.register(users["pimpinan"], "pimpinan", title="Bupati")
        await h.say(users["admin"], "/start", "Selamat datang")
        # The successor: a second active kepala desa of Ledokombo while the predecessor is still registered (how
        # a successor comes in is another feature's business; the read rule must hold in this state).
        stamp = to_iso(h.clock.now())
        await h.svc.db.execute(
            "INSERT INTO people(telegram_id, name, role, desa_code, created_at, updated_at)"
            " VALUES (?, 'Kades Baru', 'kepala_desa', ?, ?, ?)", (users["kades_b"].id, LEDOKOMBO, stamp, stamp))
        people = {role: await get_person(h.svc.db, u.id) for role, u in users.items()}
        assert all(p is not None and p.active for p in people.values())
        w = World(h, users, people)
        for key, (who, category, copy, text) in ASPIRATIONS.items():
            draft = Draft(category=category, description=text, copy_to_camat=copy)
            aspiration, _ = await h.svc.aspirations.submit(w.person(who), draft, f"audience:{key}")
            w.tickets[key] = aspiration.ticket
            h.clock.advance(minutes=5)
        officials = h.svc.officials
        assert officials is not None
        moved = await h.svc.aspirations.by_ticket(w.tickets["moved"])
        assert moved is not None
        await officials.act(w.person("pupr"), moved.id, "alihkan", note="Ini urusan kebersihan lingkungan.",
                            target="DINKES")
        await h.settle()
        # Two weeks later, Monday 08:00: everything is overdue; escalations, digests and a visit's briefing.
        h.clock.set(datetime(2026, 3, 16, 8, 0, tzinfo=WIB))
        now = h.clock.now()
        assert sum(await officials.run_service_levels(now)) > 0
        n = h.svc.ngantor
        w.visit, _ = await n.visits.create("Sumber", date(2026, 3, 19), time(8, 0), departments=["PUPR", "DINKES"])
        assert await n.briefings.send_scheduled(w.visit, now)
        assert await digests.run_daily(h.svc, now) > 0
        assert await digests.run_weekly(h.svc, now) > 0
        await h.settle()
        yield w
    finally:
        await h.close()


# -- the paths --------------------------------------------------------------------------------------------------


async def status_list(w: World, role: str) -> str:
    items = await w.h.svc.aspirations.list_for(w.person(role))
    return "\n".join(f"{a.ticket} {a.description}" for a in items)


async def status_detail(w: World, role: str) -> str:
    texts = []
    for ticket in w.tickets.values():
        try:
            a = await w.h.svc.aspirations.viewable(w.person(role), ticket)
        except NotFound:
            continue
        texts.append(f"{a.ticket} {a.description}")
    return "\n".join(texts)


async def desa_profile(w: World, role: str) -> str:
    person = w.person(role)
    if person.role not in DESA_ROLES:
        return REFUSED
    vm = w.h.svc.village_map
    assert vm is not None
    profile = await vm.profile(LEDOKOMBO, audiences.for_person(person))
    text = "\n".join(profile.parts())
    count = re.search(r"Aspirasi</b>(?: yang ditangani \w+)?: (\d+)", text)
    assert count and int(count.group(1)) == len(VISIBLE[role] & IN_LEDOKOMBO), text
    return text


async def briefing_on_demand(w: World, role: str) -> str:
    n = w.h.svc.ngantor
    if not await n.briefings.allowed(w.person(role), SUMBER):
        return REFUSED
    return "\n".join(await n.briefings.for_person(w.person(role), SUMBER))


async def briefing_scheduled(w: World, role: str) -> str:
    return await w.outbox(w.users[role].id, f"visit:{w.visit.id}:brief") or REFUSED


async def daily_digest(w: World, role: str) -> str:
    return await w.outbox(w.users[role].id, "digest:daily:%") or REFUSED


async def weekly_digest(w: World, role: str) -> str:
    return await w.outbox(w.users[role].id, "digest:weekly:%") or REFUSED


async def rekap(w: World, role: str) -> str:
    person = w.person(role)
    if person.role not in RECAP_ROLES:
        return REFUSED
    vm = w.h.svc.village_map
    assert vm is not None
    recap = await vm.recap(audiences.for_person(person))
    assert recap.total.total == len(VISIBLE[role])
    return "\n".join(vm.recap_messages(recap))


async def ekspor(w: World, role: str) -> str:
    person = w.person(role)
    if person.role not in EXPORT_ROLES:
        return REFUSED
    vm = w.h.svc.village_map
    assert vm is not None
    audience = audiences.for_person(person, export=True)
    result = await vm.export("csv", audience)
    text = result.content.decode("utf-8-sig")
    assert result.rows == len(list(csv.reader(io.StringIO(text)))) - 1
    return text


#: ``sambang export --audience``: leadership, admin, or one department; nothing for the villages.
CLI_AUDIENCE = {"pimpinan": "pimpinan", "admin": "admin", "pupr": "pejabat:PUPR", "dinkes": "pejabat:DINKES",
                "kades_a": "kepala_desa", "camat": "camat"}


async def sambang_export(w: World, role: str) -> str:
    try:
        audience = await audiences.parse_audience(w.h.svc.db, CLI_AUDIENCE.get(role, role))
    except NotAllowed:
        return REFUSED
    vm = w.h.svc.village_map
    assert vm is not None
    result = await vm.export("xlsx", audience)
    book = openpyxl.load_workbook(io.BytesIO(result.content), read_only=True)
    assert ("Umpan Balik Desa" in book.sheetnames) == (role in FEEDBACK_IN_EXPORTS)
    cells = [str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row if v]
    return "\n".join(cells)


@dataclass(frozen=True)
class Path:
    read: Callable[[World, str], Awaitable[str]]
    #: Roles the path serves; the others are refused (or get nothing).
    roles: frozenset[str]
    #: What of a role's share the path is about (None: all of it).
    scope: frozenset[str] | None = None
    #: Whether it shows all of that (else: a part, e.g. the latest five, the oldest overdue).
    complete: bool = True
    exported: bool = False
    #: The department's work now, not what it handled before a redirect.
    responsible: bool = False
    #: Whether it names aspirations at all (/rekap only counts them: checked inside).
    lists: bool = True


STAFF = frozenset({"pupr", "dinkes", "pimpinan", "admin"})
PATHS: dict[str, Path] = {
    "/status": Path(status_list, frozenset(ROLES)),
    "/status <tiket>": Path(status_detail, frozenset(ROLES)),
    "/desa": Path(desa_profile, STAFF, IN_LEDOKOMBO, complete=False),  # the latest five, and the count
    "/briefing": Path(briefing_on_demand, STAFF, IN_SUMBER),
    "briefing terjadwal": Path(briefing_scheduled, frozenset({"pupr", "dinkes", "pimpinan"}), IN_SUMBER),
    "digest harian": Path(daily_digest, frozenset({"pupr", "dinkes"}), responsible=True),
    "digest mingguan": Path(weekly_digest, frozenset({"pimpinan", "admin"}), complete=False),
    "/rekap": Path(rekap, frozenset({"pimpinan", "admin"}), lists=False),
    "/ekspor": Path(ekspor, STAFF, exported=True),
    "sambang export": Path(sambang_export, STAFF, exported=True),
}


def _expected(path: Path, role: str) -> frozenset[str]:
    share = (EXPORTED if path.exported else VISIBLE)[role]
    if path.responsible:
        share &= RESPONSIBLE[role]
    return share if path.scope is None else share & path.scope


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(PATHS))
async def test_each_path_shows_each_role_exactly_their_share(world: World, name: str, role: str) -> None:
    path = PATHS[name]
    text = await path.read(world, role)
    if role not in path.roles:
        assert text == REFUSED, f"{name} served {role}:\n{text}"
        return
    assert text != REFUSED, f"{name} refused {role}"
    shown = world.shown(text)
    expected = _expected(path, role)
    assert shown <= expected, f"{name} shows {role} what is not theirs: {sorted(shown - expected)}"
    if not path.lists:
        assert not shown
    elif path.complete:
        assert shown == expected, f"{name} hides from {role}: {sorted(expected - shown)}"
    else:
        assert shown, f"{name} shows {role} nothing"


async def test_every_queued_message_about_an_aspiration_goes_to_someone_who_may_read_it(world: World) -> None:
    """Cards, copies to the camat, updates to the kepala desa, escalations, digests, briefings: whatever names an
    aspiration (its ticket or its words) went only to people who may read it."""
    chats = {u.id: role for role, u in world.users.items()}
    rows = await world.h.svc.db.fetchall("SELECT chat_id, ref, params FROM outbox ORDER BY id")
    escalations = 0
    for r in rows:
        params = json.loads(r["params"])
        text = str(params.get("text") or params.get("caption") or "")
        role = chats.get(r["chat_id"])
        assert role is not None, f"a message to an unknown chat {r['chat_id']}: {r['ref']}"
        shown = world.shown(text)
        assert shown <= VISIBLE[role], f"{r['ref']} told {role} about {sorted(shown - VISIBLE[role])}"
        escalations += "eskalasi" in text.lower() or "lewat batas" in text.lower()
    assert escalations  # the escalations really are among them


@pytest.mark.parametrize("role", ROLES)
async def test_which_fields_each_role_reads(world: World, role: str) -> None:
    person = world.person(role)
    audience = audiences.of(person)
    assert audience.actors == (role in ACTORS)
    assert audience.feedback == (role in FEEDBACK)
    assert audiences.of(person, export=True).feedback == (role in FEEDBACK_IN_EXPORTS)
    # the Python rule (one aspiration) and the SQL rule (lists) agree on every aspiration
    for name, ticket in world.tickets.items():
        aspiration = await world.h.svc.aspirations.by_ticket(ticket)
        assert aspiration is not None
        assert audience.sees(aspiration) == (name in VISIBLE[role]), (role, name)


@pytest.mark.parametrize("role", ROLES)
async def test_who_reads_each_thread(world: World, role: str) -> None:
    """The thread rule (audience.sees_thread) and the thread's one read path, for every role and aspiration."""
    person = world.person(role)
    for name, ticket in world.tickets.items():
        aspiration = await world.h.svc.aspirations.by_ticket(ticket)
        assert aspiration is not None
        allowed = name in THREAD[role]
        assert audiences.of(person).sees_thread(aspiration) == allowed, (role, name)
        assert (await world.h.svc.thread.visible(person, aspiration) is not None) == allowed, (role, name)
        if not allowed:
            with pytest.raises(NotFound):
                await world.h.svc.thread.read(person, aspiration)
    assert audiences.of(replace(person, active=False)).sees_thread(aspiration) is False


@pytest.mark.parametrize("role", ROLES)
async def test_possible_duplicates_shown_before_kirim_follow_one_rule(world: World, role: str) -> None:
    """A kepala desa is shown open, non-confidential aspirations of their kecamatan as possible duplicates; nobody
    else is shown any. The SQL condition and the rule for one aspiration agree."""
    audience = audiences.of(world.person(role))
    where, params = audience.duplicate_hints_where()
    rows = await world.h.svc.db.fetchall(f"SELECT ticket FROM aspirations a WHERE {where}", params)
    in_sql = {r["ticket"] for r in rows} & set(world.tickets.values())
    by_rule = set()
    for ticket in world.tickets.values():
        aspiration = await world.h.svc.aspirations.by_ticket(ticket)
        assert aspiration is not None
        if audience.sees_duplicate_hint(aspiration):
            by_rule.add(ticket)
    assert in_sql == by_rule
    expected = {world.tickets[n] for n in IN_SUMBER - CONFIDENTIAL} if role in ("kades_a", "kades_b",
                                                                              "kades_other") else set()
    if role == "kades_tiris":
        expected = {world.tickets["tiris"]}
    assert by_rule == expected, role


async def test_a_deactivated_head_reads_nothing(world: World) -> None:
    person = world.person("kades_a")
    gone = replace(person, active=False)
    assert await world.h.svc.aspirations.list_for(gone) == []
    with pytest.raises(NotFound):
        await world.h.svc.aspirations.viewable(gone, world.tickets["conf_a"])


# -- the reported defects, through the real bot -----------------------------------------------------------------


async def test_the_successor_does_not_see_the_predecessors_confidential_report(world: World) -> None:
    h, t = world.h, world.tickets
    listing = (await h.say(world.users["kades_b"], "/status", "Aspirasi desa Anda")).text or ""
    assert t["conf_a"] not in listing and "PenandaRahasiaLama" not in listing and "Pungutan" not in listing
    for name in VISIBLE["kades_b"]:
        assert t[name] in listing, name
    await h.say(world.users["kades_b"], f"/status {t['conf_a']}", "bukan untuk Anda")
    # and the other way round: the predecessor does not see the successor's
    listing = (await h.say(world.users["kades_a"], "/status", "Aspirasi desa Anda")).text or ""
    assert t["conf_b"] not in listing and "PenandaRahasiaBaru" not in listing and t["conf_a"] in listing
    # the kepala desa reads what happened, not who did it
    detail = (await h.say(world.users["kades_a"], f"/status {t['moved']}", "Riwayat")).text or ""
    assert "dialihkan" in detail and "Andi" not in detail
    detail = (await h.say(world.users["pimpinan"], f"/status {t['moved']}", "Riwayat")).text or ""
    assert "Andi" in detail


async def test_an_official_at_a_visit_reads_only_their_departments_aspirations(world: World) -> None:
    h, t = world.h, world.tickets
    mark = h.server.mark()
    world.users["dinkes"].send("/briefing Sumber")
    await h.server.wait_for_text(world.users["dinkes"].id, "Briefing Ngantor", 5, since=mark)
    await h.settle()
    text = "\n".join(m.get("text") or "" for c in h.server.calls[mark:] if c.chat_id == world.users["dinkes"].id
                     for m in c.messages)
    assert world.shown(text) == {"health", "moved"}, text
    assert "PenandaSalinan" not in text and t["copy"] not in text and t["other"] not in text
    assert "hanya aspirasi untuk DINKES" in text
