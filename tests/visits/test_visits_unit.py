"""Unit tests of Ngantor di Kecamatan's services without Telegram: parsing, warnings, what is due when and to whom,
corrections, CSV import/export, the planner on the command line, the iCalendar file, the broadcast engine, the
briefing's content, feedback rules and commitment follow-up."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from lokal import is_working_day

from bot.aspirations import audience as audiences
from bot.aspirations.service import AspirationService, Draft
from bot.cli import main
from bot.core.clock import FakeClock, to_iso
from bot.core.domain import DomainError, Role
from bot.messaging import outbox
from bot.people.roster import Person, get_person
from bot.storage.database import Database
from bot.visits import broadcast, ics, ngantor
from bot.visits.commitments import CommitmentDraft
from bot.visits.service import parse_date, parse_time

WIB = ZoneInfo("Asia/Jakarta")
DAY = dt.date(2026, 3, 12)  # Thursday


def wib(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=WIB)


DEPARTMENTS = ("PUPR", "DINKES", "DISPERINDAG")


async def add_departments(db: Database, *codes: str) -> None:
    """Known departments, in the ``departments`` table of the officials feature."""
    for code in codes:
        await db.execute("INSERT OR IGNORE INTO departments(code, name, created_at, updated_at) VALUES (?, ?, '', '')",
                         (code, f"Dinas {code}"))


@pytest.fixture
async def n(db: Database, clock: FakeClock) -> ngantor.Ngantor:
    await add_departments(db, *DEPARTMENTS)  # the officials feature's table must know them
    return ngantor.build(db, clock, WIB)


async def add_person(db: Database, clock: FakeClock, telegram_id: int, role: str, *, desa: str | None = None,
                     kecamatan: str | None = None, department: str | None = None) -> Person:
    now = to_iso(clock.now())
    await db.execute(
        "INSERT INTO people(telegram_id, name, role, desa_code, kecamatan_code, department, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (telegram_id, f"Orang {telegram_id}", role, desa, kecamatan, department,
                                             now, now))
    person = await get_person(db, telegram_id)
    assert person is not None
    return person


async def sumber_people(db: Database, clock: FakeClock) -> dict[str, Person]:
    return {
        "kades_a": await add_person(db, clock, 11, "kepala_desa", desa="35.13.02.2001"),
        "kades_b": await add_person(db, clock, 12, "kepala_desa", desa="35.13.02.2002"),
        "kades_tiris": await add_person(db, clock, 13, "kepala_desa", desa="35.13.07.2001"),
        "camat": await add_person(db, clock, 21, "camat", kecamatan="35.13.02"),
        "camat_tiris": await add_person(db, clock, 22, "camat", kecamatan="35.13.07"),
        "bupati": await add_person(db, clock, 31, "pimpinan"),
        "pupr": await add_person(db, clock, 41, "pejabat", department="PUPR"),
        "dinkes": await add_person(db, clock, 42, "pejabat", department="DINKES"),
    }


async def queued(db: Database, ref_like: str) -> list[tuple[int, str]]:
    rows = await db.fetchall("SELECT chat_id, dedup_key FROM outbox WHERE ref LIKE ? ORDER BY id", (ref_like,))
    return [(r["chat_id"], r["dedup_key"]) for r in rows]


# -- parsing ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["2026-03-12", "12-03-2026", "12/3/2026", "12.03.2026", "12 Maret 2026",
                                  "12 mar 2026", "Kamis, 12 Maret 2026", " 12  MARET 2026 "])
def test_dates_as_admins_type_them(text: str) -> None:
    assert parse_date(text) == DAY


@pytest.mark.parametrize("text", ["31-02-2026", "besok", "12 Bulan 2026", "2026/13/01", ""])
def test_bad_dates_are_refused_in_indonesian(text: str) -> None:
    with pytest.raises(DomainError, match="tidak dikenali"):
        parse_date(text)


def test_times() -> None:
    assert parse_time("08:00") == parse_time("8") == parse_time("0800") == parse_time("08.00 WIB") == dt.time(8)
    assert parse_time("13.30") == dt.time(13, 30)
    for bad in ("25:00", "8:7", "pagi"):
        with pytest.raises(DomainError):
            parse_time(bad)


# -- visits -----------------------------------------------------------------------------------------------------


async def test_create_defaults_and_warnings(n: ngantor.Ngantor) -> None:
    visit, warnings = await n.visits.create("sumber", DAY)
    assert (visit.kecamatan_name, visit.place, visit.jam, warnings) == ("Sumber", "Kantor Kecamatan Sumber",
                                                                        "08.00", [])
    assert visit.starts_at == wib("2026-03-12 08:00")
    _, w = await n.visits.create("Tiris", DAY)
    assert w == ["Sudah ada kunjungan lain pada tanggal ini."]
    _, w = await n.visits.create("Krucil", dt.date(2026, 3, 14))
    assert w == ["Tanggal ini jatuh pada hari Sabtu."]
    _, w = await n.visits.create("Gading", dt.date(2026, 3, 19))
    assert any("libur nasional: Hari Suci Nyepi" in x for x in w)
    _, w = await n.visits.create("Paiton", dt.date(2026, 3, 24))
    assert any("cuti bersama: Idulfitri" in x for x in w)
    _, w = await n.visits.create("Sumber", dt.date(2026, 4, 8))
    assert any("sudah punya kunjungan terjadwal" in x for x in w)
    _, w = await n.visits.create("Besuk", dt.date(2026, 2, 2))
    assert "Tanggal ini sudah lewat." in w
    with pytest.raises(DomainError, match="tidak ditemukan"):
        await n.visits.create("Atlantis", DAY)


async def test_departments_are_validated_against_the_departments_table(db: Database, n: ngantor.Ngantor) -> None:
    # only known codes, as the departments table spells them
    await add_departments(db, "PUPR", "Dinsos")
    visit, _ = await n.visits.create("Tiris", DAY, departments=["pupr", "DINSOS", "PUPR"])
    assert visit.departments == ("PUPR", "Dinsos")
    with pytest.raises(DomainError, match="OPD tidak dikenal: BAPPEDA"):
        await n.visits.create("Krucil", DAY, departments=["BAPPEDA"])


async def test_announcements_due_at_their_times_to_kecamatan_only(db: Database, clock: FakeClock,
                                                                  n: ngantor.Ngantor) -> None:
    p = await sumber_people(db, clock)
    await db.execute("UPDATE people SET blocked_bot_at = ? WHERE telegram_id = 12", (to_iso(clock.now()),))
    visit, _ = await n.visits.create("Sumber", DAY, dt.time(8, 0))
    for moment, expected in [
        ("2026-03-05 08:59", []),
        ("2026-03-05 09:00", ["h-7"]),
        ("2026-03-11 18:00", ["h-7"]),
        ("2026-03-11 19:00", ["h-7", "h-1"]),
        ("2026-03-12 06:00", ["h-7", "h-1", "h0"]),
        ("2026-03-12 07:00", ["h-7", "h-1", "h0"]),
    ]:
        await n.visits.run_due(wib(moment))
        rows = await queued(db, f"visit:{visit.id}:ann:%")
        stages = sorted({key.split(":")[3] for _, key in rows}, key=["h-7", "h-1", "h0"].index)
        assert stages == expected, moment
    rows = await queued(db, f"visit:{visit.id}:ann:%")
    # kepala desa A and the camat (B blocked the bot and is skipped); nobody of Tiris, no leadership
    assert sorted({chat for chat, _ in rows}) == [p["kades_a"].telegram_id, p["camat"].telegram_id]
    assert len(rows) == 6
    reports = await broadcast.recent_reports(db, kind="pengumuman")
    assert [(r.recipients, r.skipped_blocked) for r in reports] == [(2, 1)] * 3


async def test_move_corrects_those_announced_and_withdraws_the_unsent(db: Database, clock: FakeClock,
                                                                      n: ngantor.Ngantor) -> None:
    await sumber_people(db, clock)
    visit, _ = await n.visits.create("Sumber", DAY)
    # moved before anyone heard of it: no correction
    clock.set(wib("2026-03-03 10:00"))
    visit, _ = await n.visits.move(visit.id, dt.date(2026, 3, 13))
    assert await queued(db, f"visit:{visit.id}:fix:%") == []
    assert visit.revision == 2
    # announced (h-7 on 6 March), then moved again: a correction to the same people
    await n.visits.run_due(wib("2026-03-06 09:00"))
    async with db.transaction() as tx:  # the sender delivered them
        await tx.execute("UPDATE outbox SET status = 'sent' WHERE ref LIKE 'visit:%:ann:%'")
    clock.set(wib("2026-03-09 10:00"))
    moved, warnings = await n.visits.move(visit.id, dt.date(2026, 3, 16), dt.time(9, 30), place="Balai Desa Sumber")
    assert warnings == []
    fixes = await queued(db, f"visit:{visit.id}:fix:%")
    assert sorted(chat for chat, _ in fixes) == [11, 12, 21]
    # the h-7 of the new date (9 March 09:00) is already due: the correction stands in for it; the rest follow
    await n.visits.run_due(wib("2026-03-09 10:01"))
    assert not [k for _, k in await queued(db, f"visit:{visit.id}:ann:%") if ":r3:h-7" in k]
    await n.visits.run_due(wib("2026-03-15 19:00"))
    assert len([k for _, k in await queued(db, f"visit:{visit.id}:ann:%") if ":r3:h-1" in k]) == 3
    # the same dates again is refused
    with pytest.raises(DomainError, match="tidak ada yang diubah"):
        await n.visits.move(visit.id, moved.date, moved.start_time, place=moved.place)


async def test_cancel_withdraws_pending_announcements(db: Database, clock: FakeClock, n: ngantor.Ngantor) -> None:
    await sumber_people(db, clock)
    visit, _ = await n.visits.create("Sumber", DAY)
    await n.visits.run_due(wib("2026-03-05 09:00"))
    async with db.transaction() as tx:  # one went out, two are still waiting
        await tx.execute("UPDATE outbox SET status = 'sent' WHERE chat_id = 11")
    clock.set(wib("2026-03-05 09:01"))
    await n.visits.cancel(visit.id, "Bencana banjir")
    assert await db.fetchval("SELECT COUNT(*) FROM outbox WHERE ref LIKE ? AND status = 'pending'",
                             (f"visit:{visit.id}:ann:%",)) == 0
    # the one who heard gets the cancellation, and so does the rest of the kecamatan's audience
    assert sorted(chat for chat, _ in await queued(db, f"visit:{visit.id}:fix:%")) == [11, 12, 21]
    with pytest.raises(DomainError, match="sudah dibatalkan"):
        await n.visits.cancel(visit.id)
    with pytest.raises(DomainError):
        await n.visits.get(visit.id)  # what the aspiration button uses
    await n.visits.run_due(wib("2026-03-11 19:00"))
    assert not [k for _, k in await queued(db, f"visit:{visit.id}:ann:%") if "h-1" in k]


async def test_csv_round_trip_and_all_or_nothing_import(db: Database, clock: FakeClock, n: ngantor.Ngantor) -> None:
    await n.visits.create("Sumber", DAY, agenda="Dialog, tinjau jalan", departments=["PUPR"])
    await n.visits.create("Tiris", dt.date(2026, 3, 26), dt.time(9, 0))
    exported = await n.visits.export_csv()
    lines = exported.splitlines()
    assert lines[0] == "id,kecamatan_kode,kecamatan,tanggal,jam,tempat,agenda,opd,status"
    assert lines[1] == ('1,35.13.02,Sumber,2026-03-12,08:00,Kantor Kecamatan Sumber,"Dialog, tinjau jalan",PUPR,'
                        "terjadwal")
    # editing the export moves one, cancels one, adds one
    edited = exported.replace("2026-03-12,08:00", "2026-03-13,09:30").replace("09:00,Kantor Kecamatan Tiris,,,"
                                                                               "terjadwal", "09:00,Kantor Kecamatan"
                                                                               " Tiris,,,dibatalkan")
    edited += ",,Krucil,2 April 2026,,,,PUPR;DINKES,\n"
    report = await n.visits.import_csv(edited)
    assert report.ok, report.errors
    assert (report.created, report.moved, report.cancelled, report.unchanged) == (1, 1, 1, 0)
    visits = await n.visits.all_visits()
    assert [(v.kecamatan_name, v.date.isoformat(), v.jam, v.status) for v in visits] == [
        ("Sumber", "2026-03-13", "09.30", "terjadwal"), ("Tiris", "2026-03-26", "09.00", "dibatalkan"),
        ("Krucil", "2026-04-02", "08.00", "terjadwal")]
    assert visits[2].departments == ("PUPR", "DINKES")
    # importing the same file again changes nothing
    again = await n.visits.import_csv(await n.visits.export_csv(include_cancelled=True))
    assert (again.created, again.moved, again.cancelled, again.updated) == (0, 0, 0, 0)
    # a bad row stores nothing, and every bad row is named
    before = await db.fetchval("SELECT COUNT(*) FROM visits")
    bad = await n.visits.import_csv("kecamatan;tanggal;jam\nSumber;2026-05-05;08:00\nAtlantis;2026-05-06;08:00\n"
                                    "Tiris;2026-05-07;25:00\n")
    assert not bad.ok and len(bad.errors) == 2
    assert "Baris 3" in bad.errors[0] and "Atlantis" in bad.errors[0] and "Baris 4" in bad.errors[1]
    assert await db.fetchval("SELECT COUNT(*) FROM visits") == before
    assert not (await n.visits.import_csv("nama,telepon\nx,1\n")).ok


def _cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str) -> int:
    monkeypatch.setenv("SAMBANG_DB", str(tmp_path / "cli.db"))
    monkeypatch.setenv("SAMBANG_WILAYAH", "35.13")
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return main(["--log-level", "ERROR", *args])


def test_schedule_plan_for_the_24_kecamatan_of_probolinggo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    args = ("schedule", "plan", "--start", "2026-01-12", "--per-month", "3", "--first", "Sumber")
    assert _cli(monkeypatch, tmp_path, "migrate") == 0  # only run and migrate create the database
    capsys.readouterr()
    assert _cli(monkeypatch, tmp_path, *args) == 0
    out = capsys.readouterr().out
    table = out.split("\n\n")[0].splitlines()[2:]
    assert len(table) == 24
    assert table[0].split()[-1] == "Sumber" and table[-1].split()[-1] == "Sukapura"
    assert "Selasa, 13 Januari 2026" in table[0]
    assert "Belum disimpan" in out
    # --apply stores them; running it again stores nothing twice
    assert _cli(monkeypatch, tmp_path, *args, "--apply") == 0
    assert "Disimpan: 24 kunjungan baru" in capsys.readouterr().out
    assert _cli(monkeypatch, tmp_path, *args, "--apply") == 0
    assert "Disimpan: 0 kunjungan baru, 24 sudah ada sebelumnya." in capsys.readouterr().out
    assert _cli(monkeypatch, tmp_path, "schedule", "export") == 0
    rows = capsys.readouterr().out.strip().splitlines()[1:]
    assert len(rows) == 24
    dates = [dt.date.fromisoformat(r.split(",")[3]) for r in rows]
    assert all(is_working_day(d, cuti_bersama=True) for d in dates)
    assert len(set(dates)) == 24
    assert {r.split(",")[4] for r in rows} == {"08:00"}
    # export to a file, edit it, import it back
    target = tmp_path / "jadwal.csv"
    assert _cli(monkeypatch, tmp_path, "schedule", "export", "--output", str(target)) == 0
    text = target.read_text(encoding="utf-8").replace("2026-01-13,08:00", "2026-01-14,09:00")
    target.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert _cli(monkeypatch, tmp_path, "schedule", "import", str(target)) == 0
    assert "1 dipindah" in capsys.readouterr().out
    # errors are clear and exit non-zero
    assert _cli(monkeypatch, tmp_path, "schedule", "plan", "--start", "2028-01-10") == 1
    assert "Data hari libur tahun 2028 belum tersedia" in capsys.readouterr().err
    assert _cli(monkeypatch, tmp_path, "schedule", "plan", "--start", "2026-01-12", "--first", "Atlantis") == 1
    assert _cli(monkeypatch, tmp_path, "schedule", "import", str(tmp_path / "tidak-ada.csv")) == 1


# -- iCalendar --------------------------------------------------------------------------------------------------


def _unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


async def test_ics_follows_rfc_5545(n: ngantor.Ngantor, clock: FakeClock) -> None:
    long_agenda = "Dialog; kepala desa, camat\\OPD — " + "pembahasan jalan poros désa " * 6
    visit, _ = await n.visits.create("Sumber", DAY, agenda=long_agenda, departments=["PUPR"])
    moved, _ = await n.visits.move(visit.id, DAY, dt.time(9, 0))
    text = ics.calendar([moved], now=clock.now(), domain="sambang-35.13")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    assert all(len(line.encode("utf-8")) <= 75 for line in text.split("\r\n"))
    lines = _unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and "VERSION:2.0" in lines and lines[-2] == "END:VCALENDAR"
    assert f"UID:visit-{visit.id}@sambang-35.13" in lines
    assert "DTSTART:20260312T020000Z" in lines and "DTEND:20260312T060000Z" in lines
    assert "SEQUENCE:1" in lines  # moved once
    assert "LOCATION:Kantor Kecamatan Sumber" in lines
    description = next(line for line in lines if line.startswith("DESCRIPTION:Dialog"))
    assert description.startswith("DESCRIPTION:Dialog\\; kepala desa\\, camat\\\\OPD — pembahasan")
    assert description.endswith("\\nOPD hadir: PUPR")
    assert any(line.startswith("DTSTAMP:") and line.endswith("Z") for line in lines)


async def test_ics_folding_never_splits_a_character(n: ngantor.Ngantor, clock: FakeClock) -> None:
    visit, _ = await n.visits.create("Sumber", DAY, place="é" * 100)
    text = ics.calendar([visit], now=clock.now())
    found = re.search(r"LOCATION:[^\r\n]*(?:\r\n [^\r\n]*)*", text)  # the line and its continuations
    assert found is not None
    folded = found.group(0)
    parts = folded.split("\r\n ")
    assert len(parts) > 1  # it really was folded
    assert all(len(p.encode("utf-8")) <= 75 for p in parts[:1]) and all(len(p.encode()) <= 74 for p in parts[1:])
    assert "".join(parts) == "LOCATION:" + "é" * 100


async def test_ics_reads_back_with_the_icalendar_library(n: ngantor.Ngantor, clock: FakeClock) -> None:
    """What a calendar app reads: the events, their UIDs and SEQUENCE, UTC times, the texts exactly as written
    (commas, semicolons, new lines, backslashes, Indonesian names, emoji) and alarms only where asked."""
    agenda = ("Dialog dengan Kades Ngatemo Kertowijoyo & Bu Siti Rahayu; jalan poros, irigasi, stunting.\n"
              "Baris kedua: pupuk bersubsidi 🌾🚜 — désa Pandanlaras, C:\\arsip; selesai " + "panjang " * 30)
    sumber, _ = await n.visits.create("Sumber", DAY, agenda=agenda, departments=["PUPR", "DINKES"],
                                      place="Balai Desa Sumber; lantai 2, ruang 😀")
    sumber, _ = await n.visits.move(sumber.id, dt.date(2026, 3, 13), dt.time(9, 0))
    sumber, _ = await n.visits.move(sumber.id, dt.date(2026, 3, 16))
    tiris, _ = await n.visits.create("Tiris", dt.date(2026, 3, 17))
    tiris = await n.visits.cancel(tiris.id, "Banjir")
    assert "\n" in sumber.agenda and sumber.revision == 3  # stored as written, moved twice
    text = ics.calendar([sumber, tiris], now=clock.now(), domain="sambang-35.13",
                        alarm=lambda v: v.kecamatan_code == sumber.kecamatan_code)

    cal = icalendar.Calendar.from_ical(text)
    assert str(cal["PRODID"]) == ics.PRODID and str(cal["METHOD"]) == "PUBLISH" and str(cal["VERSION"]) == "2.0"
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {f"visit-{sumber.id}@sambang-35.13", f"visit-{tiris.id}@sambang-35.13"}
    first, second = events[f"visit-{sumber.id}@sambang-35.13"], events[f"visit-{tiris.id}@sambang-35.13"]
    assert first["SEQUENCE"] == 2 and second["SEQUENCE"] == 0
    start = first.decoded("DTSTART")
    assert start == wib("2026-03-16 09:00") and start.utcoffset() == dt.timedelta()
    assert "DTSTART:20260316T020000Z" in text  # UTC, no VTIMEZONE needed
    assert first.decoded("DTEND") - first.decoded("DTSTART") == sumber.ends_at - sumber.starts_at
    assert str(first["STATUS"]) == "CONFIRMED" and str(second["STATUS"]) == "CANCELLED"
    assert str(first["SUMMARY"]) == "Ngantor di Kecamatan Sumber"
    assert str(first["LOCATION"]) == "Balai Desa Sumber; lantai 2, ruang 😀"
    assert str(first["DESCRIPTION"]) == f"{sumber.agenda}\nOPD hadir: {', '.join(sumber.departments)}"
    assert str(first["DESCRIPTION"]).startswith("Dialog dengan Kades Ngatemo Kertowijoyo & Bu Siti Rahayu; jalan")
    # the kepala desa of Sumber is reminded of Sumber's visit only, the evening before
    (reminder,) = first.walk("VALARM")
    assert reminder.decoded("TRIGGER") == -dt.timedelta(hours=12) and str(reminder["ACTION"]) == "DISPLAY"
    assert str(reminder["DESCRIPTION"]) == "Besok: Ngantor di Kecamatan Sumber"
    assert second.walk("VALARM") == []


# -- broadcast engine -------------------------------------------------------------------------------------------


async def test_fan_out_queues_each_chat_once_and_skips_blocked(db: Database, clock: FakeClock) -> None:
    p = await sumber_people(db, clock)
    await db.execute("UPDATE people SET blocked_bot_at = ? WHERE telegram_id = 11", (to_iso(clock.now()),))
    audience = await broadcast.resolve_audience(db, "kecamatan", "sumbr")
    assert audience.label.startswith("Kecamatan Sumber")
    assert await broadcast.count_audience(db, audience) == (2, 1)
    bid, created = await broadcast.send_siaran(db, audience=audience, text="Halo <semua> & selamat", now=clock.now(),
                                               sender_telegram_id=900001, sender_name="Admin", request_key="k1")
    again, created_again = await broadcast.send_siaran(db, audience=audience, text="Halo", now=clock.now(),
                                                       sender_telegram_id=900001, sender_name="Admin",
                                                       request_key="k1")
    assert created and not created_again and again == bid
    rows = await db.fetchall("SELECT chat_id, dedup_key, params FROM outbox WHERE broadcast_id = ?", (bid,))
    assert sorted((r["chat_id"], r["dedup_key"]) for r in rows) == [(12, f"bcast:{bid}:12"), (21, f"bcast:{bid}:21")]
    assert "Halo &lt;semua&gt; &amp; selamat" in rows[0]["params"]
    report = await broadcast.report(db, bid)
    assert report is not None and (report.recipients, report.pending, report.skipped_blocked) == (2, 2, 1)
    # the roles audience and everyone
    assert await broadcast.count_audience(db, await broadcast.resolve_audience(db, "peran", "pejabat")) == (2, 0)
    assert (await broadcast.count_audience(db, await broadcast.resolve_audience(db, "semua")))[0] == 7
    for kind, value in (("kecamatan", "Atlantis"), ("peran", "raja"), ("lain", "")):
        with pytest.raises(DomainError):
            await broadcast.resolve_audience(db, kind, value)
    with pytest.raises(DomainError, match="terlalu panjang"):
        await broadcast.send_siaran(db, audience=audience, text="x" * 4000, now=clock.now(), sender_telegram_id=1,
                                    sender_name="", request_key="k2")
    assert p


# -- briefing, feedback, commitments ----------------------------------------------------------------------------


async def test_briefing_content_and_confidentiality(db: Database, clock: FakeClock, n: ngantor.Ngantor) -> None:
    p = await sumber_people(db, clock)
    asp = AspirationService(db, clock, WIB)
    clock.set(wib("2026-02-01 09:00"))
    first, _ = await asp.submit(p["kades_b"], Draft(category="pendidikan", description="Atap SD bocor parah."), "1")
    clock.advance(days=3)
    second, _ = await asp.submit(p["kades_a"], Draft(category="kinerja_kecamatan",
                                                     description="Camat jarang di kantor."), "2")
    clock.advance(days=3)
    third, _ = await asp.submit(p["kades_a"], Draft(category="infrastruktur",
                                                    description="Jalan desa rusak <parah>."), "3")
    clock.set(wib("2026-03-02 09:00"))
    full = await n.briefings.build("35.13.02", audiences.for_export("pimpinan"))
    assert [(v.name, v.count) for v in full.villages] == [("Pandansari", 1), ("Ledokombo", 2)]
    assert [c for c, _ in full.villages[1].categories] == ["kinerja_kecamatan", "infrastruktur"]
    assert full.villages[0].categories[0][1][0].days_open == 29
    assert len(full.silent) == 7 and full.desa_total == 9
    for asp_id, department in ((first.id, "DISDIK"), (third.id, "PUPR")):  # routing, as the officials feature does
        await db.execute("INSERT INTO aspiration_departments(aspiration_id, department, assigned_at) VALUES (?, ?, ?)",
                         (asp_id, department, to_iso(clock.now())))
    # a department reads its own share only: no "Kinerja Kecamatan", nothing routed to another department
    shared = await n.briefings.build("35.13.02", audiences.for_department("PUPR"))
    assert [(v.name, v.count) for v in shared.villages] == [("Ledokombo", 1)]
    text = "\n".join(n.briefings.render(shared))
    assert third.ticket in text and second.ticket not in text and "Camat jarang" not in text
    assert first.ticket not in text and "Atap SD" not in text
    assert "Jalan desa rusak &lt;parah&gt;." in text
    assert first.ticket in "\n".join(n.briefings.render(full))
    # who may ask for it
    assert await n.briefings.allowed(p["bupati"], "35.13.02")
    assert not await n.briefings.allowed(p["camat"], "35.13.02")
    assert not await n.briefings.allowed(p["pupr"], "35.13.02")
    await n.visits.create("Sumber", DAY, departments=["PUPR"])
    assert await n.briefings.allowed(p["pupr"], "35.13.02")
    assert not await n.briefings.allowed(p["dinkes"], "35.13.02")


async def test_a_long_briefing_is_split_between_villages(db: Database, clock: FakeClock, n: ngantor.Ngantor) -> None:
    p = await sumber_people(db, clock)
    asp = AspirationService(db, clock, WIB)
    for i in range(40):
        await asp.submit(p["kades_a"], Draft(category="lainnya", description=f"Masalah nomor {i} " + "x" * 180),
                         f"k{i}")
    parts = n.briefings.render(await n.briefings.build("35.13.02", audiences.for_export("pimpinan")))
    assert len(parts) >= 2 and all(len(part) <= 4096 for part in parts)
    assert sum(part.count("Masalah nomor") for part in parts) == 40


async def test_feedback_rules(db: Database, clock: FakeClock, n: ngantor.Ngantor) -> None:
    p = await sumber_people(db, clock)
    visit, _ = await n.visits.create("Sumber", DAY)
    clock.set(wib("2026-03-11 10:00"))
    with pytest.raises(DomainError, match="belum berlangsung"):
        await n.feedback.rate(visit.id, p["kades_a"], "v", 4)
    clock.set(wib("2026-03-13 10:00"))
    await n.visits.run_due(clock.now(), feedback=n.feedback)
    assert sorted(chat for chat, _ in await queued(db, f"visit:{visit.id}:feedback")) == [11, 12]
    state = await n.feedback.rate(visit.id, p["kades_a"], "v", 4)
    state = await n.feedback.rate(visit.id, p["kades_a"], "k", 2)
    state = await n.feedback.rate(visit.id, p["kades_a"], "v", 5)  # changing one's mind
    assert (state.visit_rating, state.service_rating) == (5, 2)
    for who in ("camat", "kades_tiris", "bupati"):
        with pytest.raises(DomainError):
            await n.feedback.rate(visit.id, p[who], "v", 3)
    with pytest.raises(DomainError):
        await n.feedback.rate(visit.id, p["kades_a"], "v", 6)
    summary = await n.feedback.summary(visit)
    assert (summary.asked, summary.responses, summary.visit_avg, summary.service_avg) == (2, 1, 5.0, 2.0)
    clock.set(wib("2026-03-20 10:00"))
    with pytest.raises(DomainError, match="sudah berakhir"):
        await n.feedback.rate(visit.id, p["kades_b"], "v", 3)
    # the summary goes to leadership only, once
    await n.feedback.send_summary(visit, clock.now())
    await n.feedback.send_summary(visit, clock.now())
    assert [chat for chat, _ in await queued(db, f"visit:{visit.id}:feedback-summary")] == [31]


async def test_commitment_follow_up_schedule(db: Database, clock: FakeClock, n: ngantor.Ngantor) -> None:
    p = await sumber_people(db, clock)
    svc = n.commitments
    assert svc.parse_due("30 hari") == dt.date(2026, 4, 1)
    assert svc.parse_due("2 minggu") == dt.date(2026, 3, 16)
    with pytest.raises(DomainError, match="sebelum hari ini"):
        svc.parse_due("01-01-2026")
    desa = await svc.resolve_desa("ledokombo, Pandansari", "35.13.02")
    assert [d.code for d in desa] == ["35.13.02.2001", "35.13.02.2002"]
    with pytest.raises(DomainError, match="tidak ditemukan"):
        await svc.resolve_desa("Atlantis")
    with pytest.raises(DomainError, match="beberapa desa"):
        await svc.resolve_desa("Wonorejo")  # a desa of that name in more than one kecamatan
    draft = CommitmentDraft(description="Bangun jembatan dusun Krajan", department="pupr",
                            desa_codes=["35.13.02.2001"], due_date="2026-03-20")
    with pytest.raises(DomainError):
        await svc.create(p["camat"], draft)
    c, created = await svc.create(p["bupati"], draft)
    c2, created2 = await svc.create(p["bupati"], draft)
    assert created and not created2 and c.id == c2.id and c.department == "PUPR"
    assert [chat for chat, _ in await queued(db, f"janji:{c.id}:desa")] == [11]
    assert [chat for chat, _ in await queued(db, f"janji:{c.id}:opd")] == [41]
    for moment in ("2026-03-13 07:59", "2026-03-13 08:00", "2026-03-13 20:00", "2026-03-19 08:00",
                   "2026-03-20 08:00", "2026-03-21 08:00", "2026-03-27 08:00"):
        await svc.run_due(wib(moment))
    keys = [k for _, k in await queued(db, f"janji:{c.id}:opd")]
    assert keys == [f"janji:{c.id}:new:opd:41", f"janji:remind:{c.id}:d-7:41", f"janji:remind:{c.id}:d-1:41",
                    f"janji:ask:{c.id}:2026-03-20:41", f"janji:ask:{c.id}:2026-03-27:41"]
    open_, overdue = await svc.for_kecamatan("35.13.02", dt.date(2026, 3, 21))
    assert not open_ and [x.id for x in overdue] == [c.id]
    clock.set(wib("2026-03-27 10:00"))
    with pytest.raises(DomainError, match="bukan tanggung jawab"):
        await svc.record_outcome(c.id, p["dinkes"], "ok")
    done = await svc.record_outcome(c.id, p["pupr"], "ok", "Jembatan selesai dibangun.")
    assert done.status == "terlaksana" and not done.is_open
    assert sorted(chat for chat, _ in await queued(db, f"janji:{c.id}:hasil")) == [11, 31]
    with pytest.raises(DomainError, match="sudah ditutup"):
        await svc.record_outcome(c.id, p["pupr"], "no")
    await svc.run_due(wib("2026-04-03 08:00"))
    assert len(await queued(db, f"janji:{c.id}:opd")) == 5
    digest = await svc.digest(wib("2026-03-28 09:00"))
    assert digest.open == 0 and [x.id for x in digest.finished_recently] == [c.id]


async def test_department_without_officials_falls_back_to_admins(db: Database, clock: FakeClock,
                                                                 n: ngantor.Ngantor) -> None:
    p = await sumber_people(db, clock)
    admin = await add_person(db, clock, 900001, "admin")
    c, _ = await n.commitments.create(p["bupati"], CommitmentDraft(
        description="Kaji pasar desa", department="DISPERINDAG", desa_codes=["35.13.02.2002"],
        due_date="2026-04-01"))
    assert [chat for chat, _ in await queued(db, f"janji:{c.id}:opd")] == [admin.telegram_id]
    assert Role.ADMIN is admin.role


async def test_scheduled_work_survives_a_second_look(db: Database, clock: FakeClock, n: ngantor.Ngantor) -> None:
    """Running the scheduler twice for the same moment (a restart) queues nothing twice."""
    await sumber_people(db, clock)
    visit, _ = await n.visits.create("Sumber", DAY, departments=["PUPR"])
    for _ in range(2):
        await n.visits.run_due(wib("2026-03-10 16:00"), briefing=n.briefings, feedback=n.feedback)
    assert len(await queued(db, f"visit:{visit.id}:ann:%")) == 3
    assert sorted(chat for chat, _ in await queued(db, f"visit:{visit.id}:brief")) == [31, 41]
    assert await outbox.counts(db) == {"pending": 5, "sending": 0, "sent": 0, "failed": 0, "blocked": 0}


async def test_late_reminders_and_announcements_say_how_long_is_left(db: Database, clock: FakeClock,
                                                                     n: ngantor.Ngantor) -> None:
    p = await sumber_people(db, clock)
    clock.set(wib("2026-03-10 10:00"))
    c, _ = await n.commitments.create(p["bupati"], CommitmentDraft(
        description="Perbaiki pompa air", department="PUPR", desa_codes=["35.13.02.2001"], due_date="2026-03-13"))
    await n.commitments.run_due(wib("2026-03-10 10:01"))
    params = await db.fetchval("SELECT params FROM outbox WHERE dedup_key = ?", (f"janji:remind:{c.id}:d-7:41",))
    assert "tenggat 3 hari lagi" in params
    visit, _ = await n.visits.create("Sumber", dt.date(2026, 3, 14))
    await n.visits.run_due(wib("2026-03-10 10:01"))
    params = await db.fetchval("SELECT params FROM outbox WHERE dedup_key = ?", (f"visit:{visit.id}:r1:h-7:11",))
    assert "Kecamatan Sumber 4 hari lagi, Sabtu, 14 Maret 2026" in params


async def test_commitments_section_of_the_weekly_digest(db: Database, clock: FakeClock, n: ngantor.Ngantor) -> None:
    assert await n.commitments.digest_section() == ""  # nothing to say: no section
    p = await sumber_people(db, clock)
    c, _ = await n.commitments.create(p["bupati"], CommitmentDraft(
        description="Kaji ulang irigasi", department="PUPR", desa_codes=["35.13.02.2001"], due_date="2026-03-05"))
    text = await n.commitments.digest_section(wib("2026-03-09 07:30"))
    assert "Terbuka: 1 · lewat tenggat: <b>1</b>" in text and "#1 Kaji ulang irigasi" in text and "4 hari lewat" in text
    clock.set(wib("2026-03-10 10:00"))
    await n.commitments.record_outcome(c.id, p["pupr"], "ok", "Selesai.")
    week = await n.commitments.digest_section(wib("2026-03-16 07:30"), since=wib("2026-03-09 00:00"),
                                              until=wib("2026-03-16 00:00"))
    assert "selesai minggu ini: 1" in week and "Terlaksana: Selesai." in week
    assert await n.commitments.digest_section(wib("2026-03-23 07:30"), since=wib("2026-03-16 00:00"),
                                              until=wib("2026-03-23 00:00")) == ""


async def test_commitments_join_the_weekly_digest_when_it_exists(db: Database, clock: FakeClock) -> None:
    from bot.app import WEEKLY_SECTIONS
    from bot.visits.commitments_digest import weekly_commitments

    assert ("commitments", weekly_commitments) in WEEKLY_SECTIONS
