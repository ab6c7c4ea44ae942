"""Departments and routing as services and on the command line: the default file, validation, what persists,
service levels from file and environment, working days, visibility through routing, and status transitions."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.aspirations.service import TRANSITIONS, AspirationService, Draft, check_transition
from bot.cli import main
from bot.config import Config, ConfigError
from bot.core import workdays
from bot.core.clock import FakeClock
from bot.core.domain import CATEGORIES, DomainError, Status
from bot.officials.departments import DepartmentService, ServiceLevel, default_routing_text, load_routing, parse_routing
from bot.officials.service import OfficialsService, card_buttons
from bot.people import roster
from bot.storage.database import Database

TZ = ZoneInfo("Asia/Jakarta")
DEFAULT_ROUTES = {
    "infrastruktur": ["PUPR"],
    "pelayanan_publik": ["DISPENDUKCAPIL", "ORGANISASI"],
    "kesehatan": ["DINKES"],
    "pendidikan": ["DISDIK"],
    "sosial": ["DINSOS"],
    "ekonomi": ["DISTAN", "DISKOPERINDAG"],
    "lingkungan": ["DLH", "BPBD"],
    "kinerja_kecamatan": [],
    "lainnya": [],
}


def _config(**extra: str) -> Config:
    return Config(token="1:x", extra=extra)


async def _services(db: Database, clock: FakeClock, **extra: str) -> tuple[AspirationService, DepartmentService]:
    aspirations = AspirationService(db, clock, TZ)
    departments = DepartmentService(db, clock, load_routing(_config(**extra)))
    await departments.load_defaults()
    officials = OfficialsService(db, clock, TZ, aspirations, departments)
    aspirations.submit_hooks.append(officials.on_submit)
    return aspirations, departments


async def _person(db: Database, clock: FakeClock, tg: int, role: str, **place: str) -> roster.Person:
    inv = await roster.create_invitation(db, clock, role=role, **place)
    return await roster.redeem_invitation(db, clock, inv.code, tg, f"Orang {tg}")


def test_default_file_routes_every_category_as_decided() -> None:
    routing = parse_routing(default_routing_text())
    assert routing.routes == DEFAULT_ROUTES
    assert set(routing.routes) == {c.code for c in CATEGORIES}
    assert routing.default_level == ServiceLevel(3, 5) and routing.confirm_days == 10
    assert routing.departments["PUPR"] == "Dinas Pekerjaan Umum dan Penataan Ruang"
    assert len(routing.departments) == 10


@pytest.mark.parametrize(("text", "problem"), [
    ("[departments]\nPUPR = 'Dinas PU'\n[routes]\njalan = ['PUPR']", "kategori 'jalan' tidak dikenal"),
    ("[departments]\nPUPR = 'Dinas PU'\n[routes]\ninfrastruktur = ['DLH']", "OPD DLH yang tidak ada"),
    ("[departments]\nPUPR = 'Dinas PU'\n[routes]\nkinerja_kecamatan = ['PUPR']", "rahasia"),
    ("[departments]\n'P U P R!' = 'x'", "tidak valid"),
    ("[routes]\ninfrastruktur = []", "[departments] kosong"),
    ("[departments]\nPUPR = 'x'\n[service_levels]\ndefault = { accept = 6, respond = 5 }", "accept <= respond"),
    ("[departments\n", "bukan TOML"),
])
def test_a_wrong_routing_file_is_explained(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem.replace("[", r"\[").replace("(", r"\(")):
        parse_routing(text, "uji.toml")


def test_service_levels_from_the_environment(tmp_path: Path) -> None:
    routing = load_routing(_config(SAMBANG_SLA="lingkungan=1/3, kesehatan=2/4", SAMBANG_SLA_RESPOND_DAYS="7",
                                   SAMBANG_CONFIRM_DAYS="5"))
    assert routing.levels["lingkungan"] == ServiceLevel(1, 3) and routing.levels["kesehatan"] == ServiceLevel(2, 4)
    assert routing.default_level == ServiceLevel(3, 7) and routing.confirm_days == 5
    for bad in ({"SAMBANG_SLA": "lingkungan=3"}, {"SAMBANG_SLA": "jalan=1/3"}, {"SAMBANG_SLA": "kesehatan=5/2"},
                {"SAMBANG_CONFIRM_DAYS": "nol"}, {"SAMBANG_DEPARTMENTS_FILE": str(tmp_path / "tidak-ada.toml")}):
        with pytest.raises(ConfigError) as exc:
            load_routing(_config(**bad))
        assert exc.value.variable == next(iter(bad))
    own = tmp_path / "opd.toml"
    own.write_text("[departments]\nDISHUB = 'Dinas Perhubungan'\n[routes]\ninfrastruktur = ['DISHUB']\n"
                   "[service_levels]\nconfirm = 7\ninfrastruktur = { accept = 2, respond = 4 }\n")
    routing = load_routing(_config(SAMBANG_DEPARTMENTS_FILE=str(own)))
    assert routing.routes == {"infrastruktur": ["DISHUB"]} and routing.confirm_days == 7
    assert routing.levels["infrastruktur"] == ServiceLevel(2, 4)


async def test_the_file_seeds_once_and_admin_edits_persist(db: Database, clock: FakeClock, tmp_path: Path) -> None:
    _, departments = await _services(db, clock)
    assert (await departments.routes())["ekonomi"] == ["DISTAN", "DISKOPERINDAG"]
    await departments.add("dishub", "Dinas Perhubungan")
    await departments.route("infrastruktur", "DISHUB")
    await departments.unroute("ekonomi", "distan")
    await departments.rename("DLH", "Dinas Lingkungan Hidup Kabupaten")
    # a restart with the same file keeps the edits
    again = DepartmentService(db, clock, load_routing(_config()))
    assert not await again.load_defaults()
    routes = await again.routes()
    assert routes["infrastruktur"] == ["PUPR", "DISHUB"] and routes["ekonomi"] == ["DISKOPERINDAG"]
    assert (await again.names())["DLH"] == "Dinas Lingkungan Hidup Kabupaten"
    # a changed file is applied again for the categories it names; departments it does not name stay
    changed = tmp_path / "opd.toml"
    changed.write_text(default_routing_text().replace('ekonomi = ["DISTAN", "DISKOPERINDAG"]',
                                                      'ekonomi = ["DISKOPERINDAG", "DISTAN"]'))
    third = DepartmentService(db, clock, load_routing(_config(SAMBANG_DEPARTMENTS_FILE=str(changed))))
    assert await third.load_defaults()
    routes = await third.routes()
    assert routes["ekonomi"] == ["DISKOPERINDAG", "DISTAN"] and routes["infrastruktur"] == ["PUPR"]
    assert await third.get("DISHUB") is not None
    # refusals
    for call, problem in (
        (third.route("kinerja_kecamatan", "PUPR"), "rahasia"),
        (third.route("jalan", "PUPR"), "tidak dikenal"),
        (third.route("infrastruktur", "NOPE"), "tidak dikenal"),
        (third.add("PUPR", "Lagi"), "sudah ada"),
        (third.add("9X", "Angka"), "tidak valid"),
        (third.unroute("lainnya", "PUPR"), "memang tidak"),
    ):
        with pytest.raises(DomainError, match=problem):
            await call
    audit = await db.fetchval("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'departments:%'")
    assert audit >= 6


async def test_invitations_for_officials_check_the_department(db: Database, clock: FakeClock) -> None:
    _, departments = await _services(db, clock)
    inv = await roster.create_invitation(db, clock, role="pejabat", department="pupr")
    assert inv.department == "PUPR"
    with pytest.raises(DomainError, match="tidak dikenal"):
        await roster.create_invitation(db, clock, role="pejabat", department="DINAS_ANTAH")
    await departments.remove("BPBD")
    with pytest.raises(DomainError):
        await departments.route("lingkungan", "BPBD")
    assert (await departments.routes())["lingkungan"] == ["DLH"]


async def test_visibility_follows_routing(db: Database, clock: FakeClock) -> None:
    aspirations, _ = await _services(db, clock)
    kades = await _person(db, clock, 10, "kepala_desa", desa="35.13.02.2001")
    capil = await _person(db, clock, 20, "pejabat", department="DISPENDUKCAPIL")
    organisasi = await _person(db, clock, 21, "pejabat", department="ORGANISASI")
    pupr = await _person(db, clock, 22, "pejabat", department="PUPR")
    bupati = await _person(db, clock, 23, "pimpinan", title="Bupati")
    camat = await _person(db, clock, 24, "camat", kecamatan="Sumber")
    public, _ = await aspirations.submit(kades, Draft(category="pelayanan_publik",
                                                      description="Blanko KTP habis sejak sebulan."), "a")
    secret, _ = await aspirations.submit(kades, Draft(category="kinerja_kecamatan",
                                                      description="Pungutan liar di kantor kecamatan."), "b")
    assert public.departments == ("DISPENDUKCAPIL", "ORGANISASI") and public.department == "DISPENDUKCAPIL"
    assert secret.departments == () and secret.department is None
    for official in (capil, organisasi):
        assert aspirations.can_view(official, public) and aspirations.handles(official, public)
        assert aspirations.can_act(official, public)
        assert not aspirations.can_view(official, secret) and not aspirations.can_act(official, secret)
        assert [a.ticket for a in await aspirations.list_for(official)] == [public.ticket]
    assert not aspirations.can_view(pupr, public) and await aspirations.list_for(pupr) == []
    assert aspirations.can_act(bupati, secret) and aspirations.can_view(bupati, secret)
    assert not aspirations.can_act(kades, public) and not aspirations.can_act(camat, public)
    assert not aspirations.can_view(camat, public)


async def test_transition_rules() -> None:
    working = (Status.BARU, Status.DITERIMA, Status.DIPROSES)
    assert check_transition("T", "baru", "terima") is Status.DITERIMA
    assert check_transition("T", "diterima", "proses") is Status.DIPROSES
    for status in working:
        assert check_transition("T", status, "selesai") is Status.SELESAI
        assert check_transition("T", status, "tdt") is Status.TIDAK_DAPAT
        assert check_transition("T", status, "alihkan") is Status.BARU
    assert check_transition("T", "selesai", "balas") is None
    assert check_transition("T", "selesai", "konfirmasi") is Status.DITUTUP
    assert check_transition("T", "selesai", "buka_kembali") is Status.DIPROSES
    for closed in ("ditolak", "ditutup", "tidak_dapat", "dibatalkan"):
        for action in TRANSITIONS:
            with pytest.raises(DomainError, match="sudah ditutup"):
                check_transition("T", closed, action)
    with pytest.raises(DomainError, match="tidak berlaku lagi"):
        check_transition("T", "diproses", "terima")
    with pytest.raises(DomainError, match="tidak berlaku lagi"):
        check_transition("T", "baru", "konfirmasi")


async def test_buttons_follow_the_status(db: Database, clock: FakeClock) -> None:
    aspirations, _ = await _services(db, clock)
    kades = await _person(db, clock, 10, "kepala_desa", desa="35.13.02.2001")
    asp, _ = await aspirations.submit(kades, Draft(category="infrastruktur", description="Jalan rusak berat."), "a")
    datas = [d for row in card_buttons(asp) for _, d in row]
    assert datas == [f"asp:act:{asp.id}:{a}" for a in ("terima", "proses", "selesai", "balas", "info", "alihkan",
                                                         "tolak", "tdt", "duplikat")]
    assert max(len(d.encode()) for d in datas) <= 64
    secret, _ = await aspirations.submit(kades, Draft(category="kinerja_kecamatan", description="Pungli camat."),
                                         "b")
    assert not any(d.endswith(":alihkan") for row in card_buttons(secret) for _, d in row)


def test_working_days_skip_weekends_and_holidays() -> None:
    # Tuesday 17 March 2026: Nyepi (18-19), Idulfitri and cuti bersama (20-24) and a weekend follow
    assert workdays.add_working_days(date(2026, 3, 17), 3) == date(2026, 3, 27)
    assert workdays.add_working_days(date(2026, 3, 2), 3) == date(2026, 3, 5)
    assert workdays.add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)  # Friday -> Monday
    assert workdays.add_working_days(date(2026, 3, 7), 1) == date(2026, 3, 9)  # from a Saturday
    assert workdays.working_days_between(date(2026, 3, 2), date(2026, 3, 9)) == 5
    assert workdays.working_days_between(date(2026, 3, 9), date(2026, 3, 2)) == 0
    assert not workdays.is_working_day(date(2026, 8, 17))
    # beyond lokal-id's holiday data the bot keeps counting weekdays instead of failing
    assert workdays.add_working_days(date(2027, 12, 30), 3) == date(2028, 1, 4)
    assert workdays.is_working_day(date(2028, 1, 3)) and not workdays.is_working_day(date(2028, 1, 1))


def test_departments_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    for key in [k for k in list(__import__("os").environ) if k.startswith(("SAMBANG_", "TELEGRAM_"))]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("SAMBANG_DB", str(tmp_path / "cli.db"))
    assert main(["migrate"]) == 0
    assert main(["departments"]) == 0
    out = capsys.readouterr().out
    assert "PUPR" in out and "Dinas Pekerjaan Umum dan Penataan Ruang" in out
    assert "pelayanan_publik" in out and "DISPENDUKCAPIL, ORGANISASI" in out
    assert "pimpinan saja (rahasia)" in out and "admin (diteruskan manual)" in out
    assert main(["departments", "add", "DISHUB", "Dinas", "Perhubungan"]) == 0
    assert main(["departments", "route", "lainnya", "dishub"]) == 0
    assert "Lainnya → DISHUB" in capsys.readouterr().out
    assert main(["departments", "route", "kinerja_kecamatan", "DISHUB"]) == 1
    assert "rahasia" in capsys.readouterr().err
    assert main(["invite", "--role", "pejabat", "--department", "dishub"]) == 0
    assert "Kode undangan" in capsys.readouterr().out
    assert main(["invite", "--role", "pejabat", "--department", "NOPE"]) == 1
    assert "tidak dikenal" in capsys.readouterr().err
    assert main(["departments", "list"]) == 0
    out = capsys.readouterr().out
    assert "DISHUB" in out and "kategori: Lainnya" in out
    assert main(["departments", "unroute", "lainnya", "DISHUB"]) == 0
    assert main(["departments", "remove", "DISHUB"]) == 0
    assert main(["departments", "reload"]) == 0
    assert "Berkas routing diterapkan lagi" in capsys.readouterr().out
    monkeypatch.setenv("SAMBANG_SLA", "jalan=1/2")
    assert main(["departments"]) == 2
    assert "SAMBANG_SLA" in capsys.readouterr().err


async def test_service_levels_per_category_decide_due_dates_and_escalation(db: Database, clock: FakeClock) -> None:
    import asyncio
    from datetime import datetime

    aspirations, departments = await _services(db, clock, SAMBANG_SLA="lingkungan=1/3")
    officials = OfficialsService(db, clock, TZ, aspirations, departments)
    kades = await _person(db, clock, 10, "kepala_desa", desa="35.13.02.2001")
    await _person(db, clock, 70, "pimpinan", title="Bupati")
    flood, _ = await aspirations.submit(kades, Draft(category="lingkungan", description="Banjir bandang."), "a")
    road, _ = await aspirations.submit(kades, Draft(category="infrastruktur", description="Jalan rusak."), "b")
    rows = {r["aspiration_id"]: (r["accept_due"], r["respond_due"]) for r in await db.fetchall(
        "SELECT * FROM aspiration_sla")}
    assert rows[flood.id] == ("2026-03-03", "2026-03-05") and rows[road.id] == ("2026-03-05", "2026-03-09")
    clock.set(datetime(2026, 3, 4, 6, 0, tzinfo=TZ))
    assert await officials.run_service_levels(clock.now()) == (0, 0)  # before the working morning
    clock.set(datetime(2026, 3, 4, 7, 0, tzinfo=TZ))
    results = await asyncio.gather(*(officials.run_service_levels(clock.now()) for _ in range(3)))
    assert sum(escalated for _, escalated in results) == 1  # the flood, once, however many tickers run
    queued = await db.fetchall("SELECT chat_id, params FROM outbox WHERE ref LIKE 'escalation:%' AND chat_id = 70")
    assert len(queued) == 1 and "Eskalasi" in queued[0]["params"] and flood.ticket in queued[0]["params"]
    assert await officials.run_service_levels(clock.now()) == (0, 0)


async def test_aspirations_from_before_routing_are_adopted_once(db: Database, clock: FakeClock) -> None:
    plain = AspirationService(db, clock, TZ)  # a foundation-only installation: no routing yet
    kades = await _person(db, clock, 10, "kepala_desa", desa="35.13.02.2001")
    old, _ = await plain.submit(kades, Draft(category="infrastruktur", description="Jalan rusak lama."), "a")
    closed, _ = await plain.submit(kades, Draft(category="infrastruktur", description="Sudah beres dulu."), "b")
    await db.execute("UPDATE aspirations SET status = 'ditutup' WHERE id = ?", (closed.id,))
    aspirations, departments = await _services(db, clock)
    await _person(db, clock, 20, "pejabat", department="PUPR")
    officials = OfficialsService(db, clock, TZ, aspirations, departments)
    assert await officials.adopt_unrouted() == 1
    assert await officials.adopt_unrouted() == 0
    adopted = await aspirations.get(old.id)
    assert adopted.departments == ("PUPR",)
    assert await db.fetchval("SELECT COUNT(*) FROM aspiration_sla") == 1
    cards = await db.fetchall("SELECT chat_id FROM outbox WHERE ref = ?", (f"asp:{old.id}:fwd",))
    assert [r["chat_id"] for r in cards] == [20]
