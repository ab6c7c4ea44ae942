"""`sambang people` as an operator uses it: the list, deactivate, activate and move with their refusals (one line,
exit 2, nothing stored), and a roster import that turns a new head of a registered desa into a successor."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.app import open_services
from bot.config import Config
from bot.core.clock import FakeClock
from bot.people import roster
from bot.storage.database import Database
from tests.app.test_cli import _sambang
from tests.conftest import START


async def _seed(tmp_path: Path) -> None:
    """Three registered people in the operator's database: a kepala desa, a PUPR official and a camat."""
    services = await open_services(Config(token="", db_path=tmp_path / "cli.db", wilayah="35.13"), FakeClock(START))
    try:
        for tg, name, role, place in ((10, "Budi", "kepala_desa", {"desa": "35.13.02.2001"}),
                                      (20, "Andi", "pejabat", {"department": "PUPR"}),
                                      (30, "Pak Camat", "camat", {"kecamatan": "35.13.07"})):
            invitation = await roster.create_invitation(services.db, services.clock, role=role, **place)
            await roster.redeem_invitation(services.db, services.clock, invitation.code, tg, name)
    finally:
        await services.db.close()


def _row(tmp_path: Path, telegram_id: int) -> tuple[object, ...]:
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        row = conn.execute("SELECT role, desa_code, kecamatan_code, department, active FROM people"
                           " WHERE telegram_id = ?", (telegram_id,)).fetchone()
    assert row is not None
    return tuple(row)


def _audit(tmp_path: Path, action: str) -> list[str]:
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        return [r[0] for r in conn.execute("SELECT detail FROM audit_log WHERE action = ? ORDER BY id", (action,))]


async def test_people_list_deactivate_activate_and_move(tmp_path: Path) -> None:
    await _seed(tmp_path)
    code, out, err = await _sambang(tmp_path, "people", "list")
    assert code == 0, err
    header = out.splitlines()[0]
    for column in ("TELEGRAM ID", "NAMA", "PERAN", "DESA/KECAMATAN", "OPD", "AKTIF"):
        assert column in header
    assert "35.13.02.2001 Ledokombo" in out and "PUPR" in out and "35.13.07 Tiris" in out
    code, out, _ = await _sambang(tmp_path, "people", "list", "--role", "pejabat")
    assert code == 0 and "Andi" in out and "Budi" not in out
    code, out, _ = await _sambang(tmp_path, "people", "list", "--desa", "35.13.02.2001")
    assert code == 0 and "Budi" in out and "Andi" not in out

    code, out, err = await _sambang(tmp_path, "people", "deactivate", "20")
    assert code == 0, err
    assert "Dinonaktifkan: Andi (20, Pejabat OPD)" in out
    assert _row(tmp_path, 20)[-1] == 0
    code, out, _ = await _sambang(tmp_path, "people", "list", "--role", "pejabat")
    assert "tidak" in out.splitlines()[1]
    code, out, err = await _sambang(tmp_path, "people", "activate", "20")
    assert code == 0 and "Diaktifkan" in out, err
    assert _row(tmp_path, 20)[-1] == 1

    code, out, err = await _sambang(tmp_path, "people", "move", "20", "--department", "DINKES")
    assert code == 0, err
    assert "OPD: PUPR → DINKES" in out
    assert _row(tmp_path, 20) == ("pejabat", None, None, "DINKES", 1)
    code, out, err = await _sambang(tmp_path, "people", "move", "20", "--role", "camat", "--kecamatan", "35.13.02")
    assert code == 0, err
    assert "peran: Pejabat OPD → Camat" in out and "kecamatan: - → 35.13.02" in out
    assert _row(tmp_path, 20) == ("camat", None, "35.13.02", None, 1)
    # every change is in the audit log
    assert len(_audit(tmp_path, "nonaktifkan")) == 1 and len(_audit(tmp_path, "aktifkan")) == 1
    assert len(_audit(tmp_path, "pindah")) == 2


async def test_people_refusals_are_one_line_exit_2_and_store_nothing(tmp_path: Path) -> None:
    await _seed(tmp_path)
    before = [_row(tmp_path, tg) for tg in (10, 20, 30)]
    refusals = {
        ("people", "deactivate", "424242"): "Tidak ada orang dengan Telegram id 424242",
        ("people", "deactivate", "abc"): "Telegram id harus angka",
        ("people", "activate", "20"): "sudah aktif",
        ("people", "move", "20", "--desa", "35.13.99.9999"): "tidak ditemukan",
        ("people", "move", "20", "--kecamatan", "35.13.99"): "tidak ditemukan",
        ("people", "move", "20", "--department", "NOPE"): "OPD 'NOPE' tidak dikenal",
        ("people", "move", "20", "--role", "kepala_desa"): "Kepala desa memerlukan desa",
        ("people", "move", "10", "--role", "camat"): "Camat memerlukan kecamatan",
        ("people", "move", "30", "--role", "pejabat"): "Pejabat memerlukan OPD",
        ("people", "move", "20", "--role", "lurah_besar"): "Peran 'lurah_besar' tidak dikenal",
        ("people", "move", "20"): "Sebutkan yang diubah",
        ("people", "move", "30", "--role", "kepala_desa", "--desa", "35.13.02.2001"): "sudah punya kepala desa",
        ("people", "list", "--desa", "35.13.99.9999"): "tidak dikenal",
        ("people", "list", "--role", "raja"): "tidak dikenal",
    }
    for args, expected in refusals.items():
        code, out, err = await _sambang(tmp_path, *args)
        assert code == 2, (args, code, out, err)
        assert expected in err and "Traceback" not in err, (args, err)
        assert len(err.strip().splitlines()) == 1, (args, err)
    assert [_row(tmp_path, tg) for tg in (10, 20, 30)] == before
    code, _, err = await _sambang(tmp_path, "people", "deactivate", "20")
    assert code == 0, err
    code, _, err = await _sambang(tmp_path, "people", "deactivate", "20")
    assert code == 2 and "sudah nonaktif" in err


async def test_roster_import_keeps_the_registered_head_and_adds_a_successor(tmp_path: Path) -> None:
    await _seed(tmp_path)
    first = tmp_path / "kades.csv"
    first.write_text("kode_desa,nama,telepon\n35.13.02.2002,Sari,0812-1111-2222\n")
    code, _, err = await _sambang(tmp_path, "roster", "import", str(first))
    assert code == 0, err
    db = await Database.open(tmp_path / "cli.db")
    try:
        await roster.register_by_contact(db, FakeClock(START), telegram_id=40, contact_user_id=40,
                                         phone="081211112222", name="Sari")
    finally:
        await db.close()
    # a new head of Pandansari, whose kepala desa Sari is registered
    second = tmp_path / "kades-baru.csv"
    second.write_text("kode_desa,nama,telepon\n35.13.02.2002,Joko Widodo,0813-5555-6666\n")
    code, out, err = await _sambang(tmp_path, "roster", "import", str(second))
    assert code == 0, err
    assert "1 kepala desa baru" in out and "pengganti" in out
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        sari = conn.execute("SELECT name, phone, active FROM people WHERE telegram_id = 40").fetchone()
        joko = conn.execute("SELECT name, phone, active, successor_of FROM people WHERE name = 'Joko Widodo'"
                            ).fetchone()
    assert sari == ("Sari", "+6281211112222", 1)  # the registered head's identity is untouched
    assert joko[:3] == ("Joko Widodo", "+6281355556666", 0) and joko[3] is not None
    code, out, _ = await _sambang(tmp_path, "people", "list", "--desa", "35.13.02.2002")
    assert "menunggu konfirmasi" in out and "Joko Widodo" in out
    # the same file again changes nothing twice
    code, out, _ = await _sambang(tmp_path, "roster", "import", str(second))
    assert code == 0
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM people WHERE desa_code = '35.13.02.2002'").fetchone()[0] == 2
