"""Village potential: what a village can offer (farming, tourism, crafts, ...), recorded by its kepala desa.

Part of the village profile, not a ticket: no status, no department. Any kepala desa of the village may add,
change or delete its entries; every step of ``/potensi`` is saved as a draft before the bot answers.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime

from bot.core.clock import Clock, to_iso
from bot.core.domain import DomainError, NotAllowed, NotFound, Role
from bot.core.text import clean_text
from bot.media import queue
from bot.people.roster import Person
from bot.storage import audit
from bot.storage.database import Database, Row, Transaction
from bot.storage.drafts import DraftTable

MAX_PHOTOS = 5
MIN_DESCRIPTION = 15
MAX_DESCRIPTION = 1500
#: More than this many entries per village is more likely a mistake than a profile.
MAX_ENTRIES_PER_DESA = 30


@dataclass(frozen=True)
class PotentialKind:
    code: str
    label: str
    emoji: str


KINDS: tuple[PotentialKind, ...] = (
    PotentialKind("pertanian", "Pertanian", "🌾"),
    PotentialKind("peternakan", "Peternakan", "🐄"),
    PotentialKind("perikanan", "Perikanan", "🐟"),
    PotentialKind("wisata", "Wisata", "🏞"),
    PotentialKind("umkm", "UMKM/Kerajinan", "🧺"),
    PotentialKind("sda", "Sumber Daya Alam", "⛰"),
    PotentialKind("lainnya", "Lainnya", "✨"),
)
KIND_BY_CODE = {k.code: k for k in KINDS}


def kind_label(code: str) -> str:
    kind = KIND_BY_CODE.get(code)
    return kind.label if kind else code


@dataclass
class PotentialPhoto:
    file_id: str
    file_unique_id: str | None = None
    file_size: int | None = None


@dataclass
class PotentialDraft:
    """What a kepala desa has written so far; ``entry_id`` is set when an existing entry is being changed."""

    kind: str | None = None
    description: str | None = None
    photos: list[PotentialPhoto] = field(default_factory=list)
    latitude: float | None = None
    longitude: float | None = None
    entry_id: int | None = None
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    #: The entry being changed was deleted (by another kepala desa of the village): it cannot be saved to it.
    entry_deleted: bool = False

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> PotentialDraft:
        data = json.loads(text)
        data["photos"] = [PotentialPhoto(**p) for p in data.get("photos", [])]
        return cls(**data)


class EntryGone(NotFound):
    """The entry a draft changes no longer exists (or is no longer of the person's village)."""


@dataclass(frozen=True)
class Potential:
    id: int
    desa_code: str
    desa_name: str
    kecamatan_code: str
    kecamatan_name: str
    kind: str
    description: str
    latitude: float | None
    longitude: float | None
    photos: tuple[PotentialPhoto, ...]
    created_at: str
    updated_at: str
    updated_by_name: str | None = None

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None


def validate_description(text: str) -> str:
    """The cleaned description, or a DomainError saying what to fix (in Indonesian)."""
    cleaned = clean_text(text)
    if len(cleaned) < MIN_DESCRIPTION:
        raise DomainError(
            "village_map/uraian_terlalu_pendek_karakter", length=len(cleaned), min_description=MIN_DESCRIPTION
        )
    if len(cleaned) > MAX_DESCRIPTION:
        raise DomainError(
            "village_map/uraian_terlalu_panjang_karakter", length=len(cleaned), max_description=MAX_DESCRIPTION
        )
    return cleaned


def validate_location(latitude: float, longitude: float) -> None:
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise DomainError("village_map/lokasi_tidak_valid")


_SELECT = (
    "SELECT v.*, d.name AS desa_name, d.kecamatan_code, k.name AS kecamatan_name, p.name AS updated_by_name"
    " FROM village_potential v JOIN desa d ON d.code = v.desa_code JOIN kecamatan k ON k.code = d.kecamatan_code"
    " LEFT JOIN people p ON p.id = v.updated_by"
)


def _potential(row: Row, photos: tuple[PotentialPhoto, ...]) -> Potential:
    return Potential(
        id=row["id"], desa_code=row["desa_code"], desa_name=row["desa_name"], kecamatan_code=row["kecamatan_code"],
        kecamatan_name=row["kecamatan_name"], kind=row["kind"], description=row["description"],
        latitude=row["latitude"], longitude=row["longitude"], photos=photos, created_at=row["created_at"],
        updated_at=row["updated_at"], updated_by_name=row["updated_by_name"],
    )


class PotentialService:
    """Stores and reads village potential; the only place that knows how it sits in SQLite."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.drafts = DraftTable(db, clock, "potential_drafts", PotentialDraft.from_json)

    # -- drafts -------------------------------------------------------------------------------------------------

    async def load_draft(self, telegram_id: int) -> PotentialDraft | None:
        return await self.drafts.load(telegram_id)

    async def save_draft(self, telegram_id: int, draft: PotentialDraft) -> None:
        await self.drafts.save(telegram_id, draft)

    async def discard_draft(self, telegram_id: int) -> bool:
        return await self.drafts.discard(telegram_id)

    # -- reads --------------------------------------------------------------------------------------------------

    async def _photos(self, ids: list[int]) -> dict[int, list[PotentialPhoto]]:
        result: dict[int, list[PotentialPhoto]] = {i: [] for i in ids}
        if not ids:
            return result
        marks = ",".join("?" * len(ids))
        rows = await self.db.fetchall(
            f"SELECT * FROM village_potential_photos WHERE potential_id IN ({marks}) ORDER BY potential_id, position",
            ids,
        )
        for r in rows:
            result[r["potential_id"]].append(PotentialPhoto(r["file_id"], r["file_unique_id"], r["file_size"]))
        return result

    async def get(self, entry_id: int) -> Potential | None:
        row = await self.db.fetchone(_SELECT + " WHERE v.id = ?", (entry_id,))
        if row is None:
            return None
        photos = await self._photos([entry_id])
        return _potential(row, tuple(photos[entry_id]))

    async def _get_in(self, tx: Transaction, entry_id: int) -> Potential:
        row = await tx.fetchone(_SELECT + " WHERE v.id = ?", (entry_id,))
        assert row is not None
        photos = await tx.fetchall(
            "SELECT * FROM village_potential_photos WHERE potential_id = ? ORDER BY position", (entry_id,))
        return _potential(row, tuple(PotentialPhoto(r["file_id"], r["file_unique_id"], r["file_size"])
                                     for r in photos))

    async def list_for_desa(self, desa_code: str) -> list[Potential]:
        rows = await self.db.fetchall(_SELECT + " WHERE v.desa_code = ? ORDER BY v.kind, v.id", (desa_code,))
        photos = await self._photos([r["id"] for r in rows])
        return [_potential(r, tuple(photos[r["id"]])) for r in rows]

    async def list_all(self, kecamatan_codes: list[str] | None = None) -> list[Potential]:
        """Every entry (optionally of some kecamatan), ordered by kecamatan, desa and kind, for exports."""
        sql, params = _SELECT, []
        if kecamatan_codes:
            sql += f" WHERE d.kecamatan_code IN ({','.join('?' * len(kecamatan_codes))})"
            params = list(kecamatan_codes)
        rows = await self.db.fetchall(sql + " ORDER BY d.kecamatan_code, v.desa_code, v.kind, v.id", params)
        photos: dict[int, list[PotentialPhoto]] = {}
        for r in await self.db.fetchall("SELECT * FROM village_potential_photos ORDER BY potential_id, position"):
            photos.setdefault(r["potential_id"], []).append(
                PotentialPhoto(r["file_id"], r["file_unique_id"], r["file_size"]))
        return [_potential(r, tuple(photos.get(r["id"], ()))) for r in rows]

    async def owned_entry(self, person: Person, entry_id: int) -> Potential:
        """The entry if ``person`` is a kepala desa of its village; the same refusal for missing and foreign."""
        self._require_kepala_desa(person)
        entry = await self.get(entry_id)
        if entry is None or entry.desa_code != person.desa_code:
            raise NotFound("village_map/data_potensi_tidak_ditemukan")
        return entry

    # -- writes -------------------------------------------------------------------------------------------------

    @staticmethod
    def _require_kepala_desa(person: Person) -> None:
        if person.role is not Role.KEPALA_DESA or not person.desa_code:
            raise NotAllowed("village_map/hanya_kepala_desa_terdaftar")

    def draft_of(self, entry: Potential) -> PotentialDraft:
        return PotentialDraft(kind=entry.kind, description=entry.description, photos=list(entry.photos),
                              latitude=entry.latitude, longitude=entry.longitude, entry_id=entry.id)

    async def save(self, person: Person, draft: PotentialDraft) -> tuple[Potential, bool]:
        """Store a draft as a new entry or as the new version of ``draft.entry_id``; (entry, created).

        The draft is deleted in the same transaction, and pressing Simpan twice stores one entry.
        """
        self._require_kepala_desa(person)
        if draft.entry_deleted:
            raise EntryGone("village_map/entry_deleted")
        if draft.kind not in KIND_BY_CODE:
            raise DomainError("village_map/jenis_potensi_belum_dipilih")
        if not draft.description:
            raise DomainError("village_map/uraian_potensi_belum_diisi")
        description = validate_description(draft.description)
        if len(draft.photos) > MAX_PHOTOS:
            raise DomainError("village_map/paling_banyak_foto", max_photos=MAX_PHOTOS)
        if draft.latitude is not None and draft.longitude is not None:  # draft.has_location
            validate_location(draft.latitude, draft.longitude)
        now = self.clock.now()
        stamp = to_iso(now)
        key = f"{person.id}:{draft.token}"
        async with self.db.transaction() as tx:
            created = draft.entry_id is None
            if draft.entry_id is None:
                existing = await tx.fetchval("SELECT id FROM village_potential WHERE submission_key = ?", (key,))
                if existing:  # the same confirmation again: nothing new to store
                    entry_id = int(existing)
                    await tx.execute("DELETE FROM potential_drafts WHERE telegram_id = ?", (person.telegram_id,))
                    return await self._get_in(tx, entry_id), False
                else:
                    count = await tx.fetchval("SELECT COUNT(*) FROM village_potential WHERE desa_code = ?",
                                              (person.desa_code,))
                    if count >= MAX_ENTRIES_PER_DESA:
                        raise DomainError(
                            "village_map/desa_memiliki_data_potensi", count=count, maximum=MAX_ENTRIES_PER_DESA
                        )
                    entry_id = await tx.execute(
                        "INSERT INTO village_potential(desa_code, kind, description, latitude, longitude, created_by,"
                        " updated_by, submission_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (person.desa_code, draft.kind, description, draft.latitude, draft.longitude, person.id,
                         person.id, key, stamp, stamp),
                    )
                    await self._replace_photos(tx, entry_id, draft.photos)
            else:
                entry_id = int(draft.entry_id)
                owner = await tx.fetchval("SELECT desa_code FROM village_potential WHERE id = ?", (entry_id,))
                if owner != person.desa_code:
                    raise EntryGone("village_map/entry_gone")
                await tx.execute(
                    "UPDATE village_potential SET kind = ?, description = ?, latitude = ?, longitude = ?,"
                    " updated_by = ?, updated_at = ? WHERE id = ?",
                    (draft.kind, description, draft.latitude, draft.longitude, person.id, stamp, entry_id),
                )
                await self._replace_photos(tx, entry_id, draft.photos)
            await queue.enqueue(tx, [queue.MediaRef("photo", p.file_id, p.file_unique_id or "") for p in draft.photos],
                                owner=f"potensi:{entry_id}", now=now)  # the photos go to the media archive
            await self._audit(tx, person, "potensi_simpan" if created else "potensi_ubah", entry_id, now)
            await tx.execute("DELETE FROM potential_drafts WHERE telegram_id = ?", (person.telegram_id,))
        entry = await self.get(entry_id)
        assert entry is not None
        return entry, created

    async def delete(self, person: Person, entry_id: int) -> Potential:
        """Delete an entry of the person's village. Their own unsaved change of it goes with it; a change another
        kepala desa of the village is writing is marked, so saving it says why and offers a way on."""
        entry = await self.owned_entry(person, entry_id)
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM village_potential WHERE id = ? AND desa_code = ?",
                             (entry_id, person.desa_code))
            await tx.execute("DELETE FROM potential_drafts WHERE telegram_id = ? AND"
                             " json_extract(data, '$.entry_id') = ?", (person.telegram_id, entry_id))
            await tx.execute("UPDATE potential_drafts SET data = json_set(data, '$.entry_deleted', json('true'))"
                             " WHERE json_extract(data, '$.entry_id') = ?", (entry_id,))
            await self._audit(tx, person, "potensi_hapus", entry_id, self.clock.now())
        return entry

    @staticmethod
    async def _replace_photos(tx: Transaction, entry_id: int, photos: list[PotentialPhoto]) -> None:
        await tx.execute("DELETE FROM village_potential_photos WHERE potential_id = ?", (entry_id,))
        await tx.executemany(
            "INSERT INTO village_potential_photos(potential_id, position, file_id, file_unique_id, file_size)"
            " VALUES (?, ?, ?, ?, ?)",
            [(entry_id, i, p.file_id, p.file_unique_id, p.file_size) for i, p in enumerate(photos)],
        )

    @staticmethod
    async def _audit(tx: Transaction, person: Person, action: str, entry_id: int, now: datetime) -> None:
        await audit.record(tx, person.telegram_id, action, f"potensi {entry_id} desa {person.desa_code}", now=now)
