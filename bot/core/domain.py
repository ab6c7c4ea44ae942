"""The vocabulary of Sambang: roles, categories and statuses, with the labels people read."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.core.errors import DomainError as DomainError
from bot.core.errors import NotAllowed as NotAllowed
from bot.core.errors import NotFound as NotFound


class Role(StrEnum):
    KEPALA_DESA = "kepala_desa"
    CAMAT = "camat"
    PEJABAT = "pejabat"  # official of a department (OPD)
    PIMPINAN = "pimpinan"  # leadership: Bupati, Wakil Bupati, Sekda
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.KEPALA_DESA: "Kepala Desa",
    Role.CAMAT: "Camat",
    Role.PEJABAT: "Pejabat OPD",
    Role.PIMPINAN: "Pimpinan Daerah",
    Role.ADMIN: "Admin",
}

#: Other spellings accepted on the command line and in /undang.
ROLE_ALIASES = {
    "kepala_desa": Role.KEPALA_DESA,
    "kepaladesa": Role.KEPALA_DESA,
    "kades": Role.KEPALA_DESA,
    "lurah": Role.KEPALA_DESA,
    "camat": Role.CAMAT,
    "pejabat": Role.PEJABAT,
    "opd": Role.PEJABAT,
    "official": Role.PEJABAT,
    "pimpinan": Role.PIMPINAN,
    "leadership": Role.PIMPINAN,
    "bupati": Role.PIMPINAN,
    "admin": Role.ADMIN,
}


def parse_role(text: str) -> Role | None:
    return ROLE_ALIASES.get(text.strip().lower().replace("-", "_").replace(" ", "_"))


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    #: Confidential categories are seen by admins and leadership only and never copied to the camat.
    confidential: bool = False


CATEGORIES: tuple[Category, ...] = (
    Category("infrastruktur", "Infrastruktur"),
    Category("pelayanan_publik", "Pelayanan Publik"),
    Category("kesehatan", "Kesehatan & Stunting"),
    Category("pendidikan", "Pendidikan"),
    Category("sosial", "Kemiskinan & Sosial"),
    Category("ekonomi", "Ekonomi, Pertanian & UMKM"),
    Category("lingkungan", "Lingkungan & Bencana"),
    Category("kinerja_kecamatan", "Kinerja Kecamatan (rahasia)", confidential=True),
    Category("lainnya", "Lainnya"),
)
CATEGORY_BY_CODE = {c.code: c for c in CATEGORIES}


def category_label(code: str) -> str:
    cat = CATEGORY_BY_CODE.get(code)
    return cat.label if cat else code


class Status(StrEnum):
    BARU = "baru"
    DITERIMA = "diterima"
    DIPROSES = "diproses"
    SELESAI = "selesai"  # the department says it is done; the kepala desa is asked to confirm
    DITOLAK = "ditolak"
    DITUTUP = "ditutup"  # closed as resolved
    TIDAK_DAPAT = "tidak_dapat"  # closed as "tidak dapat ditindaklanjuti"
    DIBATALKAN = "dibatalkan"  # withdrawn by the kepala desa
    DUPLIKAT = "duplikat"  # merged into another aspiration about the same problem (its kepala desa follows that one)

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    Status.BARU: "Baru",
    Status.DITERIMA: "Diterima",
    Status.DIPROSES: "Sedang diproses",
    Status.SELESAI: "Selesai (menunggu konfirmasi desa)",
    Status.DITOLAK: "Ditolak",
    Status.DITUTUP: "Tuntas",
    Status.TIDAK_DAPAT: "Tidak dapat ditindaklanjuti",
    Status.DIBATALKAN: "Dibatalkan",
    Status.DUPLIKAT: "Digabung (duplikat)",
}
CLOSED_STATUSES = frozenset({Status.DITOLAK, Status.DITUTUP, Status.TIDAK_DAPAT, Status.DIBATALKAN, Status.DUPLIKAT})
OPEN_STATUSES = frozenset(Status) - CLOSED_STATUSES


def status_label(code: str) -> str:
    try:
        return Status(code).label
    except ValueError:
        return code
