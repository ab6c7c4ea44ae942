"""Bulk test data for the map of problems: many aspirations with statuses, departments, history and locations,
written straight into SQLite (the submission flow itself is tested elsewhere), deterministic for a seed."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from bot.core.clock import to_iso
from bot.core.domain import CATEGORIES
from bot.storage.database import Database

DEPARTMENTS = {
    "infrastruktur": "PUPR",
    "pelayanan_publik": "DISPENDUKCAPIL",
    "kesehatan": "DINKES",
    "pendidikan": "DISDIK",
    "sosial": "DINSOS",
    "ekonomi": "DISTAN",
    "lingkungan": "BPBD",
    "kinerja_kecamatan": None,
    "lainnya": None,
}
STATUSES = ["baru", "diterima", "diproses", "selesai", "ditutup", "ditutup", "ditutup", "tidak_dapat", "ditolak"]


async def person(db: Database, telegram_id: int, role: str, *, desa: str | None = None, name: str = "Kades",
                 department: str | None = None, now: datetime) -> int:
    async with db.transaction() as tx:
        return await tx.execute(
            "INSERT INTO people(telegram_id, name, role, desa_code, department, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (telegram_id, name, role, desa, department, to_iso(now), to_iso(now)),
        )


async def seed(db: Database, n: int, *, start: datetime, seed_value: int = 7, desa_share: float = 0.6,
               history: bool = True) -> None:
    """``n`` aspirations over the 90 days before ``start`` from a random ``desa_share`` of the villages."""
    rnd = random.Random(seed_value)
    villages = [(r["code"], r["kecamatan_code"]) for r in await db.fetchall("SELECT code, kecamatan_code FROM desa")]
    active = rnd.sample(villages, max(1, int(len(villages) * desa_share)))
    cats = [c.code for c in CATEGORIES]
    year = start.year
    rows, atts, hist = [], [], []
    first = int(await db.fetchval("SELECT COALESCE(MAX(id), 0) FROM aspirations")) + 1
    number = int(await db.fetchval("SELECT COALESCE(MAX(last), 0) FROM ticket_counters WHERE year = ?", (year,)))
    submitter = await person(db, 777000 + first, "kepala_desa", desa=active[0][0], now=start)
    for i in range(first, first + n):
        desa, kec = rnd.choice(active)
        cat = rnd.choices(cats, weights=[30, 10, 15, 10, 12, 10, 8, 2, 3])[0]
        status = rnd.choice(STATUSES)
        created = start - timedelta(days=rnd.uniform(1, 90))
        closed = created + timedelta(days=rnd.uniform(0.5, 20)) if status in ("ditutup", "tidak_dapat",
                                                                             "ditolak") else None
        updated = closed or created + timedelta(hours=rnd.uniform(1, 48))
        ticket = f"ASP-{year}-{number + i - first + 1:05d}"
        rows.append((i, ticket, desa, kec, submitter, cat, f"Uraian aspirasi nomor {i} tentang {cat}",
                     status, int(cat == "kinerja_kecamatan"), DEPARTMENTS[cat], to_iso(created), to_iso(updated),
                     to_iso(closed) if closed else None))
        if i % 3 == 0:
            atts.append((i, 0, "location", -7.8 - rnd.random() / 5, 113.2 + rnd.random() / 3))
        if history:
            hist.append((i, to_iso(created), submitter, "dikirim", None, "baru", None))
            if status != "baru":
                hist.append((i, to_iso(updated), None, status, "baru", status, f"Tanggapan untuk nomor {i}"))
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO aspirations(id, ticket, desa_code, kecamatan_code, submitter_id, category, description,"
            " status, confidential, department, created_at, updated_at, closed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        await tx.executemany(
            "INSERT INTO attachments(aspiration_id, position, kind, latitude, longitude) VALUES (?, ?, ?, ?, ?)", atts)
        await tx.executemany(  # the officials' routing table: where departments live
            "INSERT INTO aspiration_departments(aspiration_id, department, active, assigned_at) VALUES (?, ?, 1, ?)",
            [(r[0], r[9], r[10]) for r in rows if r[9]])
        await tx.execute("INSERT INTO ticket_counters(year, last) VALUES (?, ?) ON CONFLICT(year) DO UPDATE SET"
                         " last = MAX(last, excluded.last)", (year, number + n))
        await tx.executemany(
            "INSERT INTO aspiration_history(aspiration_id, at, actor_id, action, from_status, to_status, note)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)", hist)
