"""Where the villages are: the village office's location each kepala desa shares once (/lokasi), the one gentle
prompt that asks for it, and the map's data (every village with a place, its open aspirations and its potential).

A village's point on the map is its office when a kepala desa shared it; otherwise the middle of the locations
attached to its aspirations (of the reader's share) or to its potential. Villages without any location are counted,
not placed. Everything is aggregated in SQL, per village, so the 8,494 villages of a province come in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.aspirations.audience import Audience
from bot.core.clock import Clock, to_iso
from bot.core.domain import NotAllowed, Role
from bot.messaging import outbox
from bot.messaging.templates import render
from bot.people.roster import Person
from bot.storage.database import Database
from bot.village_map.potential import validate_location

#: The prompt goes out in the local daytime only, and to at most this many kepala desa per run.
PROMPT_FROM = time(9, 0)
PROMPT_UNTIL = time(17, 0)
PROMPT_BATCH = 200
#: A kepala desa is asked after their first day with Sambang, not while they are still finding their way.
SETTLED = timedelta(days=1)
OPEN = ("baru", "diterima", "diproses", "selesai")


@dataclass(frozen=True)
class OfficeLocation:
    desa_code: str
    latitude: float
    longitude: float
    set_at: str


@dataclass(frozen=True)
class MapVillage:
    code: str
    name: str
    kecamatan: str
    latitude: float
    longitude: float
    #: office | aspirasi | potensi: where the point comes from
    source: str
    open: int
    potential: int


@dataclass(frozen=True)
class MapData:
    villages: list[MapVillage]
    #: Villages with open aspirations or potential but no location at all.
    unplaced: int
    total_villages: int


class VillageLocations:
    def __init__(self, db: Database, clock: Clock, tz: ZoneInfo) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz

    async def office(self, desa_code: str) -> OfficeLocation | None:
        row = await self.db.fetchone("SELECT * FROM village_locations WHERE desa_code = ?", (desa_code,))
        return OfficeLocation(row["desa_code"], row["latitude"], row["longitude"], row["set_at"]) if row else None

    async def set_office(self, person: Person, latitude: float, longitude: float) -> OfficeLocation:
        """The kepala desa's village office is here (the newest share counts)."""
        if person.role is not Role.KEPALA_DESA or not person.desa_code or not person.active:
            raise NotAllowed("aspirations/hanya_kepala_desa_terdaftar")
        validate_location(latitude, longitude)
        stamp = to_iso(self.clock.now())
        async with self.db.transaction() as tx:
            await tx.execute("INSERT OR REPLACE INTO village_locations(desa_code, latitude, longitude, set_by, set_at)"
                             " VALUES (?, ?, ?, ?, ?)", (person.desa_code, latitude, longitude, person.id, stamp))
            # asked or not, this kepala desa is not asked again
            await tx.execute("INSERT OR IGNORE INTO village_location_prompts(person_id, prompted_at) VALUES (?, ?)",
                             (person.id, stamp))
        return OfficeLocation(person.desa_code, latitude, longitude, stamp)

    async def prompt_due(self, now: datetime) -> int:
        """Ask each registered kepala desa whose village office has no location, once: in the local daytime, after
        their first day, never in the middle of writing something."""
        local = now.astimezone(self.tz).time()
        if not PROMPT_FROM <= local < PROMPT_UNTIL:
            return 0
        rows = await self.db.fetchall(
            "SELECT p.id, p.telegram_id, p.name, d.name AS desa FROM people p JOIN desa d ON d.code = p.desa_code"
            " WHERE p.role = 'kepala_desa' AND p.active = 1 AND p.telegram_id IS NOT NULL"
            " AND p.blocked_bot_at IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM village_locations l WHERE l.desa_code = p.desa_code)"
            " AND NOT EXISTS (SELECT 1 FROM village_location_prompts q WHERE q.person_id = p.id)"
            # gentle: not in their first day with Sambang, nor while they write an aspiration or their potential
            " AND p.created_at <= ?"
            " AND NOT EXISTS (SELECT 1 FROM drafts dr WHERE dr.telegram_id = p.telegram_id)"
            " AND NOT EXISTS (SELECT 1 FROM potential_drafts pd WHERE pd.telegram_id = p.telegram_id)"
            " ORDER BY p.id LIMIT ?", (to_iso(now - SETTLED), PROMPT_BATCH))
        if not rows:
            return 0
        stamp = to_iso(now)
        async with self.db.transaction() as tx:
            for r in rows:
                claimed = await tx.execute_rowcount(
                    "INSERT OR IGNORE INTO village_location_prompts(person_id, prompted_at) VALUES (?, ?)",
                    (r["id"], stamp))
                if claimed:
                    await outbox.enqueue_text(tx, r["telegram_id"], render("village_map/lokasi_prompt", desa=r["desa"]),
                                              now=now, dedup_key=f"lokasi:prompt:{r['id']}")
        return len(rows)

    async def map_data(self, audience: Audience) -> MapData:
        """Every village with a place on the map: its open aspirations (of ``audience``'s share) and potential."""
        share, params = audience.scan()
        open_marks = ",".join("?" * len(OPEN))
        rows = await self.db.fetchall(
            "WITH open_counts AS (SELECT a.desa_code, COUNT(*) AS n FROM aspirations a"
            f"   WHERE a.status IN ({open_marks}) AND ({share}) GROUP BY a.desa_code),"
            " asp_places AS (SELECT a.desa_code, AVG(l.latitude) AS lat, AVG(l.longitude) AS lon"
            "   FROM attachments l JOIN aspirations a ON a.id = l.aspiration_id"
            f"   WHERE l.kind = 'location' AND l.latitude IS NOT NULL AND ({share}) GROUP BY a.desa_code),"
            " pot AS (SELECT desa_code, COUNT(*) AS n, AVG(latitude) AS lat, AVG(longitude) AS lon"
            "   FROM village_potential GROUP BY desa_code)"
            " SELECT d.code, d.name, k.name AS kecamatan, o.latitude AS office_lat, o.longitude AS office_lon,"
            " ap.lat AS asp_lat, ap.lon AS asp_lon, pot.lat AS pot_lat, pot.lon AS pot_lon,"
            " COALESCE(oc.n, 0) AS open_n, COALESCE(pot.n, 0) AS pot_n"
            " FROM desa d JOIN kecamatan k ON k.code = d.kecamatan_code"
            " LEFT JOIN village_locations o ON o.desa_code = d.code"
            " LEFT JOIN open_counts oc ON oc.desa_code = d.code"
            " LEFT JOIN asp_places ap ON ap.desa_code = d.code"
            " LEFT JOIN pot ON pot.desa_code = d.code"
            " WHERE o.desa_code IS NOT NULL OR oc.n IS NOT NULL OR pot.n IS NOT NULL OR ap.lat IS NOT NULL"
            " ORDER BY d.code",
            [*OPEN, *params, *params])
        villages: list[MapVillage] = []
        unplaced = 0
        for r in rows:
            for source, lat, lon in (("kantor", r["office_lat"], r["office_lon"]),
                                     ("aspirasi", r["asp_lat"], r["asp_lon"]),
                                     ("potensi", r["pot_lat"], r["pot_lon"])):
                if lat is not None and lon is not None:
                    villages.append(MapVillage(r["code"], r["name"], r["kecamatan"], round(lat, 5), round(lon, 5),
                                               source, r["open_n"], r["pot_n"]))
                    break
            else:
                unplaced += 1
        total = int(await self.db.fetchval("SELECT COUNT(*) FROM desa"))
        return MapData(villages, unplaced, total)
