"""Storage, regions and the roster, tested without Telegram."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.clock import FakeClock
from bot.core.domain import Role
from bot.people import roster
from bot.people.regions import UnknownRegion, count_regions, find_desa, find_kecamatan, load_regions, regions_of
from bot.people.roster import RegistrationError
from bot.storage.database import Database, migration_files


async def test_migrations_are_numbered_and_applied_once(tmp_path: Path) -> None:
    numbers = [n for n, _, _ in migration_files()]
    assert numbers == sorted(numbers) and numbers[0] == 1
    db = await Database.open(tmp_path / "m.db")
    try:
        assert await db.schema_version() == numbers[-1]
        assert await db.migrate() == []  # nothing new the second time
        assert await db.fetchval("PRAGMA journal_mode") == "wal"
        assert await db.fetchval("PRAGMA foreign_keys") == 1
    finally:
        await db.close()


async def test_transaction_rolls_back_everything_on_error(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO app_state(key, value) VALUES ('a', '1')")
            raise RuntimeError("boom")
    assert await db.fetchval("SELECT COUNT(*) FROM app_state WHERE key = 'a'") == 0


async def test_write_batch_is_one_transaction(db: Database) -> None:
    heard: list[str] = []
    db.on_commit(lambda: heard.append("app_state"), tables=("app_state",))
    db.on_commit(lambda: heard.append("outbox"), tables=("outbox",))
    results = await db.write_batch([
        ("INSERT INTO app_state(key, value) VALUES ('b', '1')", ()),
        ("UPDATE app_state SET value = '2' WHERE key IN ('b', 'nobody')", ()),
    ])
    assert [r.rowcount for r in results] == [1, 1] and results[0].lastrowid > 0
    assert heard == ["app_state"]  # only listeners of the tables written
    assert await db.fetchval("SELECT value FROM app_state WHERE key = 'b'") == "2"
    read = await db.write_batch([("UPDATE app_state SET value = '5' WHERE key = 'b'", ()),
                                 ("SELECT value FROM app_state WHERE key = 'b'", ())])
    assert read[1].rows[0][0] == "5"  # a read in the batch sees the batch's writes
    heard.clear()
    with pytest.raises(Exception, match="UNIQUE"):  # the second insert fails: the first is rolled back with it
        await db.write_batch([
            ("INSERT INTO app_state(key, value) VALUES ('c', '1')", ()),
            ("INSERT INTO app_state(key, value) VALUES ('b', '3')", ()),
        ])
    assert await db.fetchval("SELECT COUNT(*) FROM app_state WHERE key = 'c'") == 0
    assert heard == []  # nothing committed, nobody woken
    async with db.transaction() as tx:  # the writer is usable again
        await tx.execute("INSERT INTO app_state(key, value) VALUES ('c', '1')")
    assert await db.fetchval("SELECT value FROM app_state WHERE key = 'c'") == "1"


async def test_probolinggo_roster_counts_and_names(db: Database) -> None:
    assert await count_regions(db) == (24, 330)
    names = {r["name"] for r in await db.fetchall("SELECT name FROM kecamatan")}
    assert {"Sumber", "Tiris", "Krucil", "Lumbang"} <= names
    assert await db.fetchval("SELECT name FROM desa WHERE code = '35.13.02.2001'") == "Ledokombo"


async def test_loading_twice_adds_nothing(db: Database) -> None:
    await load_regions(db, "35.13")
    assert await count_regions(db) == (24, 330)


def test_province_code_loads_all_regencies() -> None:
    kecamatan, desa = regions_of("35")
    assert len(kecamatan) == 666
    assert len(desa) == 8494


def test_unknown_code_is_a_clear_error() -> None:
    with pytest.raises(UnknownRegion) as info:
        regions_of("35.99")
    assert "tidak dikenal" in info.value.message


async def test_name_search_tolerates_case_spacing_and_typos(db: Database) -> None:
    assert [k.name for k in await find_kecamatan(db, "  tIRIS ")] == ["Tiris"]
    assert [k.name for k in await find_kecamatan(db, "Krucill")] == ["Krucil"]
    desa = await find_desa(db, "ledok ombo")
    assert [d.code for d in desa] == ["35.13.02.2001"]


async def test_invitation_is_single_use(db: Database, clock: FakeClock) -> None:
    inv = await roster.create_invitation(db, clock, role="kepala_desa", desa="35.13.02.2001")
    assert len(inv.code) == roster.CODE_LENGTH
    person = await roster.redeem_invitation(db, clock, inv.code, 1001, "Budi")
    assert person.role is Role.KEPALA_DESA and person.desa_name == "Ledokombo"
    assert person.kecamatan_name == "Sumber"
    with pytest.raises(RegistrationError, match="sudah pernah dipakai"):
        await roster.redeem_invitation(db, clock, inv.code, 1002, "Siti")
    assert await roster.get_person(db, 1002) is None


async def test_expired_and_guessed_codes_are_refused(db: Database, clock: FakeClock) -> None:
    inv = await roster.create_invitation(db, clock, role="camat", kecamatan="Tiris", ttl_hours=1)
    clock.advance(hours=2)
    with pytest.raises(RegistrationError, match="kedaluwarsa"):
        await roster.redeem_invitation(db, clock, inv.code, 2001, "X")
    for _ in range(roster.MAX_FAILED_ATTEMPTS):
        with pytest.raises(RegistrationError, match="tidak dikenal"):
            await roster.redeem_invitation(db, clock, "ZZZZZZZZ", 2001, "X")
    fresh = await roster.create_invitation(db, clock, role="camat", kecamatan="Tiris")
    with pytest.raises(RegistrationError, match="Terlalu banyak"):
        await roster.redeem_invitation(db, clock, fresh.code, 2001, "X")
    clock.advance(timedelta(hours=1, minutes=1))
    person = await roster.redeem_invitation(db, clock, fresh.code, 2001, "X")
    assert person.role is Role.CAMAT and person.kecamatan_name == "Tiris"


async def test_invitation_needs_a_known_place(db: Database, clock: FakeClock) -> None:
    with pytest.raises(RegistrationError, match="kode desa"):
        await roster.create_invitation(db, clock, role="kepala_desa")
    with pytest.raises(RegistrationError, match="tidak ditemukan"):
        await roster.create_invitation(db, clock, role="kepala_desa", desa="35.13.99.9999")
    with pytest.raises(RegistrationError, match="tidak dikenal"):
        await roster.create_invitation(db, clock, role="lurah_besar")
    assert await db.fetchval("SELECT COUNT(*) FROM invitations") == 0


ROSTER_CSV = """kode_desa,nama,telepon
35.13.02.2001,Budi Santoso,0812-3456-7890
35.13.07.2001,Siti Aminah,+62 813 1111 2222
"""


async def test_roster_import_and_contact_matching(db: Database, clock: FakeClock) -> None:
    report = await roster.import_roster(db, clock, ROSTER_CSV)
    assert report.ok and report.created == 2
    # 62... form of the same number as 0812...
    person = await roster.register_by_contact(db, clock, telegram_id=5001, contact_user_id=5001,
                                              phone="6281234567890", name="Budi")
    assert person.desa_code == "35.13.02.2001" and person.name == "Budi Santoso"
    with pytest.raises(RegistrationError, match="sudah terhubung"):
        await roster.register_by_contact(db, clock, telegram_id=5002, contact_user_id=5002,
                                         phone="+6281234567890", name="Other")
    with pytest.raises(RegistrationError, match="nomor Anda sendiri"):
        await roster.register_by_contact(db, clock, telegram_id=5003, contact_user_id=9999,
                                         phone="081311112222", name="Other")
    with pytest.raises(RegistrationError, match="belum ada di daftar"):
        await roster.register_by_contact(db, clock, telegram_id=5004, contact_user_id=5004,
                                         phone="081900000000", name="Stranger")


async def test_roster_import_is_all_or_nothing(db: Database, clock: FakeClock) -> None:
    bad = ROSTER_CSV + "35.13.99.9999,Nobody,0812000\n"
    report = await roster.import_roster(db, clock, bad)
    assert not report.ok
    assert any("Baris 4" in e for e in report.errors or [])
    assert await db.fetchval("SELECT COUNT(*) FROM people") == 0


async def test_reimport_updates_instead_of_duplicating(db: Database, clock: FakeClock) -> None:
    await roster.import_roster(db, clock, ROSTER_CSV)
    report = await roster.import_roster(db, clock, "kode_desa,nama,telepon\n35.13.02.2001,Budi S,081299998888\n")
    assert report.ok and report.updated == 1 and report.created == 0
    assert await db.fetchval("SELECT phone FROM people WHERE desa_code = '35.13.02.2001'") == "+6281299998888"
