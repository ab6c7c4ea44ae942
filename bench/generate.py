"""A province-sized database: 100,000 aspirations across the 8,494 villages of Jawa Timur (SAMBANG_WILAYAH=35).

The schema comes from the application itself (``open_services`` migrates, loads the regions and the departments),
then everything else is written with bulk inserts in one transaction:
people (kepala desa, camat, officials per department, leadership, admins), aspirations with a realistic spread of
categories, statuses and dates over a year, attachments, status history with the acting officials, the outbox
history those changes sent, and recent processed updates.

The tables of each feature are filled by ``FILLERS`` (one function each), so a new feature gets realistic rows by
adding one function. The database is cached in ``bench/out/volume`` and rebuilt when
the generator or the set of migrations changes.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .common import OUT, ROOT, Figures, file_size_mb, log

GENERATOR_VERSION = "3"
ASPIRATIONS = 100_000
WILAYAH = "35"
#: The moment the reports are asked for: a Monday, 09:00 WIB.
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
DAYS = 365
SEED = 35

#: Telegram ids by role, so the benchmarks can act as any of them.
KEPALA_DESA_IDS = 10_000_000
CAMAT_IDS = 20_000_000
PEJABAT_IDS = 30_000_000
PIMPINAN_IDS = 40_000_000
ADMIN_IDS = 50_000_000

CATEGORY_WEIGHTS = {
    "infrastruktur": 34, "pelayanan_publik": 10, "kesehatan": 10, "pendidikan": 8, "sosial": 12, "ekonomi": 12,
    "lingkungan": 8, "kinerja_kecamatan": 2, "lainnya": 4,
}
#: Used when the routing table of the officials feature is not in the database.
DEFAULT_ROUTES = {
    "infrastruktur": ["PUPR"], "pelayanan_publik": ["DISPENDUKCAPIL", "ORGANISASI"], "kesehatan": ["DINKES"],
    "pendidikan": ["DISDIK"], "sosial": ["DINSOS"], "ekonomi": ["DISTAN", "DISKOPERINDAG"],
    "lingkungan": ["DLH", "BPBD"], "kinerja_kecamatan": [], "lainnya": [],
}
OFFICIALS_PER_DEPARTMENT = 4
FIRST_NAMES = ("Ahmad", "Siti", "Budi", "Sri", "Agus", "Dewi", "Moh.", "Nur", "Hadi", "Rina", "Slamet", "Yuli",
               "Abdul", "Lilik", "Bambang", "Endang", "Imam", "Umi", "Joko", "Wahyu", "Eko", "Hasan", "Fatimah")
LAST_NAMES = ("Santoso", "Wahyudi", "Hidayat", "Rahmawati", "Susanto", "Maulana", "Prasetyo", "Kurniawan",
              "Syafi'i", "Hasanah", "Fauzi", "Setiawan", "Ramadhan", "Lestari", "Arifin", "Zainal")


@dataclass(frozen=True)
class Generated:
    """One generated aspiration, as the feature fillers need it."""

    id: int
    created_at: datetime
    status: str
    category: str
    departments: list[str]
    desa: str
    kecamatan: str
    closed_at: str | None
    submitter: int
    #: when each status after "baru" was reached (UTC)
    steps: dict[str, datetime]


@dataclass
class World:
    """What the fillers share: the random source, the people, and what was generated."""

    rng: random.Random
    con: sqlite3.Connection
    desa: list[tuple[str, str]]  # (code, kecamatan_code)
    kepala_desa: dict[str, tuple[int, int]] = field(default_factory=dict)  # desa -> (person id, telegram id)
    officials: dict[str, list[int]] = field(default_factory=dict)  # department -> person ids
    leadership: list[int] = field(default_factory=list)
    admins: list[int] = field(default_factory=list)
    routes: dict[str, list[str]] = field(default_factory=dict)
    aspirations: list[Generated] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)


Filler = Callable[[World], None]
#: table name -> filler, run when the table exists (added by the officials, visits and map features).
FILLERS: dict[str, Filler] = {}


def filler(table: str) -> Callable[[Filler], Filler]:
    def register(func: Filler) -> Filler:
        FILLERS[table] = func
        return func

    return register


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _fingerprint() -> str:
    from bot.storage.database import migration_files

    digest = hashlib.sha256(GENERATOR_VERSION.encode())
    digest.update(Path(__file__).read_bytes())
    for _, name, sql in migration_files():
        digest.update(name.encode() + sql.encode())
    return digest.hexdigest()[:16]


def volume_path() -> Path:
    return OUT / "volume" / "sambang-100k.db"


async def ensure_volume_db(figures: Figures, *, regenerate: bool = False) -> Path:
    path = volume_path()
    stamp = path.with_suffix(".fingerprint")
    fingerprint = _fingerprint()
    if not regenerate and path.exists() and stamp.exists() and stamp.read_text().strip() == fingerprint:
        log(f"volume database is current: {path}")
    else:
        seconds = await generate(path)
        stamp.write_text(fingerprint + "\n")
        figures.add("volume.generate_seconds", seconds, "s")
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for table in ("aspirations", "aspiration_history", "attachments", "people", "outbox"):
            figures.add(f"volume.rows.{table}", con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
        figures.add("volume.villages_with_aspirations",
                    con.execute("SELECT COUNT(DISTINCT desa_code) FROM aspirations").fetchone()[0])
    finally:
        con.close()
    figures.add("volume.db_size_mb", file_size_mb(path), "MB")
    return path


async def _application_schema(path: Path) -> None:
    """Let the application create its schema, regions and default data (departments, routes, ...)."""
    from bot.app import open_services
    from bot.config import Config
    from bot.core.clock import FakeClock

    config = Config(token="123456:GEN", db_path=path, wilayah=WILAYAH)
    services = await open_services(config, FakeClock(NOW - timedelta(days=DAYS + 1)))
    await services.db.close()


async def generate(path: Path, aspirations: int = ASPIRATIONS) -> float:
    """Build the database at ``path`` (replacing it). Returns the seconds it took."""
    started = time.perf_counter()
    _remove(path)
    log(f"generating {aspirations:,} aspirations for wilayah {WILAYAH} in {path}")
    await _application_schema(path)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA foreign_keys=OFF")
    con.execute("PRAGMA cache_size=-200000")
    try:
        desa = con.execute("SELECT code, kecamatan_code FROM desa ORDER BY code").fetchall()
        world = World(random.Random(SEED), con, desa)
        con.execute("BEGIN")
        _people(world)
        _routes(world)
        _aspirations(world, aspirations)
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for table, fill in FILLERS.items():
            if table in tables:
                fill(world)
                log(f"filled {table}")
        _outbox_history(world)
        _processed_updates(world)
        con.execute("COMMIT")
        # no ANALYZE: the running bot never collects statistics, so the planner here must do without them too
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    await _menus_as_sent(path)
    seconds = time.perf_counter() - started
    log(f"generated in {seconds:.1f}s: {world.stats}")
    return seconds


def _remove(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


async def _menus_as_sent(path: Path) -> None:
    """The command menus every registered user got long ago (so a start does not queue thousands again)."""
    from bot.app import MENU
    from bot.messaging.menu import Menu
    from bot.storage.database import Database

    db = await Database.open(path)
    try:
        await Menu(MENU).sync(db, NOW)
        await db.execute("UPDATE outbox SET status = 'sent', sent_at = created_at WHERE status = 'pending'")
    finally:
        await db.close()


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _people(w: World) -> None:
    rng, con = w.rng, w.con
    stamp = iso(NOW - timedelta(days=DAYS + 1))
    rows: list[tuple[Any, ...]] = []
    registered: list[str] = []
    for i, (code, _kec) in enumerate(w.desa):
        draw = rng.random()
        phone = f"+6281{i:09d}"
        if draw < 0.88:  # registered and using the bot
            rows.append((KEPALA_DESA_IDS + i, _name(rng), "kepala_desa", code, None, None, None, phone, stamp))
            registered.append(code)
        elif draw < 0.96:  # imported from the roster, has not shared the contact yet
            rows.append((None, _name(rng), "kepala_desa", code, None, None, None, phone, stamp))
    kecamatan = [r[0] for r in con.execute("SELECT code FROM kecamatan ORDER BY code")]
    for i, code in enumerate(kecamatan):
        rows.append((CAMAT_IDS + i, _name(rng), "camat", None, code, None, "Camat", f"+6282{i:09d}", stamp))
    departments = _department_codes(w)
    n = 0
    for dept in departments:
        for j in range(OFFICIALS_PER_DEPARTMENT):
            title = "Kepala Dinas" if j == 0 else "Staf"
            rows.append((PEJABAT_IDS + n, _name(rng), "pejabat", None, None, dept, title, f"+6283{n:09d}", stamp))
            n += 1
    for i, title in enumerate(("Bupati", "Wakil Bupati", "Sekda")):
        rows.append((PIMPINAN_IDS + i, _name(rng), "pimpinan", None, None, None, title, f"+6284{i:09d}", stamp))
    for i in range(3):
        rows.append((ADMIN_IDS + i, _name(rng), "admin", None, None, None, None, f"+6285{i:09d}", stamp))
    con.executemany(
        "INSERT INTO people(telegram_id, name, role, desa_code, kecamatan_code, department, title, phone, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?9)", rows)
    for pid, tg, role, desa_code, dept in con.execute(
            "SELECT id, telegram_id, role, desa_code, department FROM people WHERE telegram_id IS NOT NULL"):
        if role == "kepala_desa":
            w.kepala_desa[desa_code] = (pid, tg)
        elif role == "pejabat":
            w.officials.setdefault(dept, []).append(pid)
        elif role == "pimpinan":
            w.leadership.append(pid)
        elif role == "admin":
            w.admins.append(pid)
    w.stats["people"] = len(rows)


def _department_codes(w: World) -> list[str]:
    tables = {r[0] for r in w.con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "departments" in tables:
        codes = [r[0] for r in w.con.execute("SELECT code FROM departments WHERE active = 1 ORDER BY code")]
        if codes:
            return codes
    return sorted({d for ds in DEFAULT_ROUTES.values() for d in ds})


def _routes(w: World) -> None:
    tables = {r[0] for r in w.con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    routes: dict[str, list[str]] = {c: [] for c in CATEGORY_WEIGHTS}
    if "category_routes" in tables:
        for category, dept in w.con.execute("SELECT category, department FROM category_routes ORDER BY 1, 2"):
            routes.setdefault(category, []).append(dept)
    else:
        routes.update(DEFAULT_ROUTES)
    w.routes = routes


def _descriptions() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {c: [] for c in CATEGORY_WEIGHTS}
    for name in ("labelled_aspirations.csv", "labelled_aspirations_holdout.csv"):
        with (ROOT / "tests" / "data" / name).open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                found.setdefault(row["category"].strip(), []).append(row["description"].strip())
    for category, texts in found.items():
        if not texts:
            texts.append(f"Mohon perhatian untuk masalah {category.replace('_', ' ')} di desa kami")
    return found


#: How an aspiration moved, by its final status: the statuses it went through after "baru".
PATHS = {
    "baru": (),
    "diterima": ("diterima",),
    "diproses": ("diterima", "diproses"),
    "selesai": ("diterima", "diproses", "selesai"),
    "ditutup": ("diterima", "diproses", "selesai", "ditutup"),
    "tidak_dapat": ("diterima", "tidak_dapat"),
    "ditolak": ("ditolak",),
    "dibatalkan": ("dibatalkan",),
}
CLOSED = {"ditutup", "tidak_dapat", "ditolak", "dibatalkan"}
ACTIONS = {"diterima": "terima", "diproses": "proses", "selesai": "selesai", "ditutup": "dikonfirmasi",
           "tidak_dapat": "tidak_dapat", "ditolak": "tolak", "dibatalkan": "dibatalkan"}


def _final_status(rng: random.Random, age_days: float) -> str:
    """Older aspirations are mostly closed; recent ones mostly still open."""
    if age_days < 3:
        weights = {"baru": 60, "diterima": 25, "diproses": 12, "ditolak": 2, "dibatalkan": 1}
    elif age_days < 30:
        weights = {"baru": 12, "diterima": 20, "diproses": 33, "selesai": 12, "ditutup": 15, "tidak_dapat": 3,
                   "ditolak": 4, "dibatalkan": 1}
    elif age_days < 120:
        weights = {"baru": 3, "diterima": 6, "diproses": 16, "selesai": 5, "ditutup": 58, "tidak_dapat": 5,
                   "ditolak": 6, "dibatalkan": 1}
    else:
        weights = {"baru": 1, "diterima": 2, "diproses": 5, "selesai": 1, "ditutup": 76, "tidak_dapat": 6,
                   "ditolak": 7, "dibatalkan": 2}
    return rng.choices(list(weights), list(weights.values()))[0]


def _aspirations(w: World, count: int) -> None:
    rng, con = w.rng, w.con
    texts = _descriptions()
    categories, cat_weights = list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values())
    # Villages differ a lot: a heavy-tailed activity per registered village, and some never send anything.
    villages = [c for c, _ in w.desa if c in w.kepala_desa]
    kec_of = dict(w.desa)
    activity = [0.0 if rng.random() < 0.12 else min(rng.paretovariate(1.6), 40.0) for _ in villages]
    chosen = rng.choices(villages, activity, k=count)
    # Growth: more aspirations in recent months (the programme spreads); working hours in WIB.
    ages = sorted((DAYS * (1 - rng.random() ** 0.7) for _ in range(count)), reverse=True)
    counters: dict[int, int] = {}
    asp_rows, att_rows, hist_rows = [], [], []
    next_id = (con.execute("SELECT COALESCE(MAX(id), 0) FROM aspirations").fetchone()[0] or 0) + 1
    for n in range(count):
        age = ages[n]
        created = NOW - timedelta(days=age)
        local_hour = 7 + rng.random() * 10
        created = created.replace(hour=int((local_hour - 7) % 24), minute=rng.randrange(60), second=rng.randrange(60))
        if created > NOW:
            created = NOW - timedelta(minutes=rng.randrange(1, 600))
        desa_code = chosen[n]
        person_id, _tg = w.kepala_desa[desa_code]
        category = rng.choices(categories, cat_weights)[0]
        confidential = category == "kinerja_kecamatan"
        status = _final_status(rng, (NOW - created).total_seconds() / 86400)
        departments = list(w.routes.get(category, []))
        year = created.astimezone(UTC).year
        counters[year] = counters.get(year, 0) + 1
        ticket = f"ASP-{year}-{counters[year]:05d}"
        text = rng.choice(texts[category])
        if rng.random() < 0.5:
            text += rng.choice((". Mohon segera ditindaklanjuti.", ". Warga sangat berharap bantuan Bapak Bupati.",
                                ", sudah dilaporkan ke kecamatan tetapi belum ada tindak lanjut.",
                                ". Terima kasih atas perhatiannya."))
        copy = int(not confidential and rng.random() < 0.2)
        asp_id = next_id + n
        # history: submitted, then the steps to the final status, spread over the following days
        at = created
        hist_rows.append((asp_id, iso(at), person_id, "dikirim", None, "baru", None))
        previous = "baru"
        closed_at = None
        steps: dict[str, datetime] = {}
        for step in PATHS[status]:
            at = at + timedelta(hours=rng.uniform(2, 24 * 6))
            if at > NOW:
                at = NOW - timedelta(minutes=rng.randrange(1, 120))
            if step == "dibatalkan" or step == "ditutup":
                actor = person_id
            elif departments:
                actor = rng.choice(w.officials.get(rng.choice(departments)) or w.admins)
            else:
                actor = rng.choice(w.leadership if confidential else w.admins)
            note = None
            if step in ("ditolak", "tidak_dapat"):
                note = rng.choice(("Bukan kewenangan kabupaten.", "Anggaran tahun ini sudah habis, diusulkan tahun"
                                   " depan.", "Sudah ditangani melalui program desa.", "Data kurang lengkap."))
            hist_rows.append((asp_id, iso(at), actor, ACTIONS[step], previous, step, note))
            steps[step] = at
            if rng.random() < 0.15 and step in ("diterima", "diproses"):
                hist_rows.append((asp_id, iso(at + timedelta(minutes=30)), actor, "balas", step, step,
                                  "Tim kami akan meninjau lokasi minggu ini."))
            previous = step
            if step in CLOSED:
                closed_at = iso(at)
        updated = iso(at)
        asp_rows.append((asp_id, ticket, desa_code, kec_of[desa_code], person_id, category, text, status, copy,
                         int(confidential), departments[0] if departments else None, f"gen:{asp_id}",
                         iso(created), updated, closed_at))
        photos = rng.choices((0, 1, 2, 3), (30, 35, 20, 15))[0]
        pos = 0
        for _ in range(photos):
            att_rows.append((asp_id, pos, "photo", f"AgACAgUAAxkBAAI{asp_id:08d}{pos}", f"AQAD{asp_id:08d}{pos}",
                             None, None, rng.randrange(60_000, 250_000), None, None))
            pos += 1
        if rng.random() < 0.2:
            att_rows.append((asp_id, pos, "location", None, None, None, None, None,
                             -8.2 + rng.uniform(-0.6, 0.6), 112.6 + rng.uniform(-1.6, 1.6)))
            pos += 1
        if rng.random() < 0.05:
            att_rows.append((asp_id, pos, "document", f"BQACAgUAAxkBAAI{asp_id:08d}{pos}", f"AgAD{asp_id:08d}{pos}",
                             "proposal.pdf", "application/pdf", rng.randrange(100_000, 3_000_000), None, None))
        w.aspirations.append(Generated(asp_id, created, status, category, departments, desa_code, kec_of[desa_code],
                                       closed_at, person_id, steps))
    con.executemany(
        "INSERT INTO aspirations(id, ticket, desa_code, kecamatan_code, submitter_id, category, description, status,"
        " copy_to_camat, confidential, department, submission_key, created_at, updated_at, closed_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", asp_rows)
    con.executemany(
        "INSERT INTO attachments(aspiration_id, position, kind, file_id, file_unique_id, file_name, mime_type,"
        " file_size, latitude, longitude) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", att_rows)
    con.executemany(
        "INSERT INTO aspiration_history(aspiration_id, at, actor_id, action, from_status, to_status, note)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)", hist_rows)
    con.executemany(
        "INSERT INTO ticket_counters(year, last) VALUES (?, ?) ON CONFLICT(year) DO UPDATE SET last = excluded.last",
        sorted(counters.items()))
    w.stats.update(aspirations=len(asp_rows), attachments=len(att_rows), history=len(hist_rows))


# -- the officials feature: routing to departments and service levels -------------------------------------------

ACCEPT_DAYS, RESPOND_DAYS, CONFIRM_DAYS = 3, 5, 10
RESPONDED = {"selesai", "ditutup", "tidak_dapat", "ditolak"}


def _working_days_after(day: Any, n: int) -> Any:
    try:
        from bot.core.workdays import add_working_days
    except ImportError:  # weekends only
        while n > 0:
            day += timedelta(days=1)
            n -= day.weekday() < 5
        return day
    return add_working_days(day, n)


@filler("aspiration_departments")
def _aspiration_departments(w: World) -> None:
    """Every aspiration's departments; a few were redirected once (the first department released)."""
    rows = []
    for a in w.aspirations:
        assigned = iso(a.created_at)
        if a.departments and w.rng.random() < 0.03:
            other = w.rng.choice([d for ds in w.routes.values() for d in ds if d not in a.departments] or ["PUPR"])
            released = iso(a.created_at + timedelta(days=1))
            rows.append((a.id, other, 0, assigned, released))
            assigned = released
        rows += [(a.id, d, 1, assigned, None) for d in a.departments]
    w.con.executemany("INSERT OR IGNORE INTO aspiration_departments(aspiration_id, department, active, assigned_at,"
                      " released_at) VALUES (?, ?, ?, ?, ?)", rows)
    w.stats["aspiration_departments"] = len(rows)


@filler("aspiration_sla")
def _aspiration_sla(w: World) -> None:
    """Service levels counted in working days from submission; accepted/responded when the history says so."""
    tz = _tz()
    rows = []
    for a in w.aspirations:
        audience = "departments" if a.departments else ("pimpinan" if a.category == "kinerja_kecamatan" else "admin")
        day = a.created_at.astimezone(tz).date()
        accepted = a.steps.get("diterima") or a.steps.get("ditolak")
        responded = next((a.steps[s] for s in ("selesai", "tidak_dapat", "ditolak") if s in a.steps), None)
        confirm = None
        if "selesai" in a.steps:
            confirm = _working_days_after(a.steps["selesai"].astimezone(tz).date(), CONFIRM_DAYS).isoformat()
        rows.append((a.id, audience, iso(a.created_at), _working_days_after(day, ACCEPT_DAYS).isoformat(),
                     _working_days_after(day, RESPOND_DAYS).isoformat(), accepted and iso(accepted),
                     responded and iso(responded), confirm))
    w.con.executemany("INSERT OR IGNORE INTO aspiration_sla(aspiration_id, audience, started_at, accept_due,"
                      " respond_due, accepted_at, responded_at, confirm_due) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    w.stats["aspiration_sla"] = len(rows)


@filler("department_inboxes")
def _department_inboxes(w: World) -> None:
    codes = sorted({d for ds in w.routes.values() for d in ds})
    stamp = iso(NOW - timedelta(days=DAYS))
    w.con.executemany("INSERT OR IGNORE INTO department_inboxes(department, chat_id, title, registered_at)"
                      " VALUES (?, ?, ?, ?)",
                      [(code, -1001_000_000_000 - i, f"Inbox {code}", stamp) for i, code in enumerate(codes)])


# -- Ngantor di Kecamatan: visits, their departments, feedback and commitments ----------------------------------


@filler("visits")
def _visits(w: World) -> None:
    """Every kecamatan visited once in the past year (working hours, ~3 a month per regency), plus the next month's
    visits; feedback from about half of each visited kecamatan's kepala desa; two commitments per past visit."""
    rng, con = w.rng, w.con
    tz = _tz()
    kecamatan = [r[0] for r in con.execute("SELECT code FROM kecamatan ORDER BY code")]
    names = dict(con.execute("SELECT code, name FROM kecamatan").fetchall())
    departments = sorted({d for ds in w.routes.values() for d in ds}) or ["PUPR"]
    kades_by_kec: dict[str, list[tuple[int, str]]] = {}
    for desa_code, kec in w.desa:
        if desa_code in w.kepala_desa:
            kades_by_kec.setdefault(kec, []).append((w.kepala_desa[desa_code][0], desa_code))
    stamp = iso(NOW - timedelta(days=DAYS))
    visits, vdeps, feedback, commitments, cdesa, chist = [], [], [], [], [], []
    upcoming = set(rng.sample(kecamatan, min(60, len(kecamatan))))
    for n, kec in enumerate(kecamatan, start=1):
        future = kec in upcoming
        day = (NOW + timedelta(days=rng.randrange(1, 30))) if future else (NOW - timedelta(days=rng.randrange(2, DAYS)))
        local = day.astimezone(tz).replace(hour=8, minute=0, second=0, microsecond=0)
        visits.append((n, kec, local.date().isoformat(), "08:00", iso(local), f"Kantor Kecamatan {names[kec]}",
                       "Ngantor di Kecamatan: mendengar aspirasi kepala desa", "terjadwal", stamp, stamp))
        vdeps += [(n, d) for d in rng.sample(departments, min(3, len(departments)))]
        if future:
            continue
        for person_id, desa_code in kades_by_kec.get(kec, []):
            if rng.random() < 0.5:
                at = iso(local + timedelta(days=1, hours=rng.randrange(1, 10)))
                feedback.append((n, person_id, desa_code, rng.choice((3, 4, 4, 5, 5)), rng.choice((2, 3, 4, 4, 5)),
                                 rng.choice((None, "Terima kasih, sangat membantu.", "Mohon tindak lanjut cepat.")),
                                 at, at))
        for _ in range(2):
            cid = len(commitments) + 1
            due = (local + timedelta(days=rng.randrange(14, 120))).date()
            status = rng.choice(("terbuka", "berjalan", "terlaksana")) if due > NOW.date() else rng.choice(
                ("terlaksana", "terlaksana", "tidak_terlaksana", "berjalan"))
            commitments.append((cid, n, "Meninjau dan menganggarkan perbaikan di desa yang menyampaikan aspirasi",
                                rng.choice(departments), due.isoformat(), status, iso(local), iso(local)))
            villages = kades_by_kec.get(kec, [])
            cdesa += [(cid, d) for _, d in rng.sample(villages, min(2, len(villages)))]
            chist.append((cid, iso(local), rng.choice(w.leadership or w.admins), "terbuka", None))
    con.executemany("INSERT INTO visits(id, kecamatan_code, date, start_time, starts_at, place, agenda, status,"
                    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", visits)
    con.executemany("INSERT OR IGNORE INTO visit_departments(visit_id, department) VALUES (?, ?)", vdeps)
    con.executemany("INSERT OR IGNORE INTO visit_feedback(visit_id, person_id, desa_code, visit_rating,"
                    " service_rating, comment, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", feedback)
    con.executemany("INSERT INTO commitments(id, visit_id, description, department, due_date, status, created_at,"
                    " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", commitments)
    con.executemany("INSERT OR IGNORE INTO commitment_desa(commitment_id, desa_code) VALUES (?, ?)", cdesa)
    con.executemany("INSERT INTO commitment_history(commitment_id, at, actor_id, status, note) VALUES (?, ?, ?, ?, ?)",
                    chist)
    w.stats.update(visits=len(visits), visit_feedback=len(feedback), commitments=len(commitments))


# -- the map: village potential ----------------------------------------------------------------------------------

POTENTIAL = {
    "pertanian": "Sawah padi dan jagung, dua kali panen setahun",
    "peternakan": "Peternakan sapi perah dan kambing etawa milik warga",
    "perikanan": "Tambak bandeng dan udang vaname",
    "wisata": "Air terjun dan bukit untuk wisata alam",
    "umkm": "Kerajinan anyaman bambu dan keripik singkong",
    "sda": "Sumber mata air dan hutan rakyat",
    "lainnya": "Pasar desa setiap hari pasaran",
}


@filler("village_potential")
def _village_potential(w: World) -> None:
    """About a third of the villages recorded one to three kinds of potential."""
    rng, rows, photos = w.rng, [], []
    kinds = list(POTENTIAL)
    for desa_code, (person_id, _tg) in w.kepala_desa.items():
        if rng.random() < 0.35:
            for kind in rng.sample(kinds, rng.randint(1, 3)):
                at = iso(NOW - timedelta(days=rng.randrange(1, DAYS)))
                rows.append((len(rows) + 1, desa_code, kind, POTENTIAL[kind], person_id, person_id, at, at))
                if rng.random() < 0.5:
                    photos.append((len(rows), 0, f"AgACAgUAAxkBAAIpot{len(rows):08d}", f"AQADpot{len(rows):08d}",
                                   120_000))
    w.con.executemany("INSERT INTO village_potential(id, desa_code, kind, description, created_by, updated_by,"
                      " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    w.con.executemany("INSERT INTO village_potential_photos(potential_id, position, file_id, file_unique_id,"
                      " file_size) VALUES (?, ?, ?, ?, ?)", photos)
    w.stats["village_potential"] = len(rows)


@filler("village_locations")
def _village_locations(w: World) -> None:
    """Half of the villages' heads shared the office's location (/lokasi), around their kabupaten's middle."""
    rng, rows = w.rng, []
    for desa_code, (person_id, _tg) in w.kepala_desa.items():
        if rng.random() < 0.5:
            at = iso(NOW - timedelta(days=rng.randrange(1, DAYS)))
            lat = -7.0 - rng.random() * 1.3 - (0.5 if desa_code.startswith("35.1") else 0.0)
            rows.append((desa_code, round(lat, 5), round(111.2 + rng.random() * 3.0, 5), person_id, at))
    w.con.executemany("INSERT INTO village_locations(desa_code, latitude, longitude, set_by, set_at)"
                      " VALUES (?, ?, ?, ?, ?)", rows)
    w.stats["village_locations"] = len(rows)


def _tz() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Jakarta")


def _outbox_history(w: World) -> None:
    """What a year of forwarding and notifying leaves in the outbox: sent rows (and a few failed ones)."""
    rng, rows = w.rng, []
    tg_of = {pid: tg for pid, tg in w.kepala_desa.values()}
    official_tg = dict(w.con.execute("SELECT id, telegram_id FROM people WHERE role = 'pejabat'").fetchall())
    for a in w.aspirations:
        kades_tg = tg_of[a.submitter]
        created = iso(a.created_at)
        targets = [official_tg[p] for d in a.departments for p in w.officials.get(d, [])[:2]]
        for chat in targets + ([kades_tg] if a.status != "baru" else []):
            params = json.dumps({"chat_id": chat, "text": f"Aspirasi #{a.id}: pemberitahuan", "parse_mode": "HTML"})
            failed = rng.random() < 0.002
            rows.append((chat, "sendMessage", params, "failed" if failed else "sent", 1, created, f"asp:{a.id}",
                         None if failed else rng.randrange(1, 10_000), created, None if failed else created))
    w.con.executemany(
        "INSERT INTO outbox(chat_id, method, params, status, attempts, not_before, ref, message_id, created_at,"
        " sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    w.stats["outbox"] = len(rows)


def _processed_updates(w: World) -> None:
    """The update ids of the last two weeks (older ones are pruned by the operations feature)."""
    start = NOW - timedelta(days=14)
    rows = [(900_000_000 + i, iso(start + timedelta(seconds=i * 20))) for i in range(14 * 24 * 180)]
    w.con.executemany("INSERT INTO processed_updates(update_id, at) VALUES (?, ?)", rows)
    w.stats["processed_updates"] = len(rows)
