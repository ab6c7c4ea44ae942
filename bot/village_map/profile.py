"""The village profile behind /desa: the village, its head, then a list of sections.

Each section is an async function ``(ProfileRequest) -> str | None`` returning rendered Telegram HTML (or None to
leave it out). The map feature supplies "aspirations" and "potential"; other features add theirs (feedback the
village gave, its kecamatan's visits) with ``VillageMap.add_section`` — a section decides itself whether the
audience may see it (``request.audience.feedback``, ``request.audience.is_department``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from bot.aspirations.audience import Audience
from bot.core.domain import CATEGORIES, Status, category_label, status_label
from bot.core.wording import plain
from bot.messaging.templates import render
from bot.people.regions import Desa
from bot.storage.database import Database

if TYPE_CHECKING:
    from bot.village_map.service import VillageMap

LATEST = 5


@dataclass(frozen=True)
class ProfileRequest:
    desa: Desa
    audience: Audience
    now: datetime
    map: VillageMap


Section = Callable[[ProfileRequest], Awaitable[str | None]]


class VisitSchedule(Protocol):
    """What a village profile needs of the visits feature (``bot.visits.service.VisitService``), which this
    package may not import: the last and the next visit to a kecamatan."""

    async def last_and_next(self, kecamatan_code: str) -> tuple[Any, Any]: ...


@dataclass(frozen=True)
class VillageProfile:
    desa: Desa
    heads: tuple[str, ...]
    sections: tuple[tuple[str, str], ...]  # (key, rendered HTML)

    def parts(self) -> list[str]:
        """The header and each section: items for ``split_message``."""
        header = render("village_map/desa_profile", desa=self.desa, heads=self.heads)
        return [header, *(text for _, text in self.sections)]

    def section(self, key: str) -> str | None:
        return next((text for k, text in self.sections if k == key), None)


async def village_heads(request: ProfileRequest) -> tuple[str, ...]:
    rows = await request.map.db.fetchall(
        "SELECT name, telegram_id FROM people WHERE role = 'kepala_desa' AND active = 1 AND desa_code = ?"
        " ORDER BY id", (request.desa.code,))
    return tuple(plain("village_map/profile_village_head", name=r["name"], connected=bool(r["telegram_id"]))
                 for r in rows)


async def village_counts(db: Database, desa_code: str, audience: Audience) -> tuple[dict[str, int], dict[str, int]]:
    """A village's aspirations in ``audience``'s share, counted by status and by category."""
    share, params = audience.where()
    by_status: dict[str, int] = {}
    by_category: dict[str, int] = {}
    for r in await db.fetchall(
            f"SELECT a.status, a.category, COUNT(*) AS n FROM aspirations a WHERE a.desa_code = ? AND ({share})"
            " GROUP BY a.status, a.category", [desa_code, *params]):
        by_status[r["status"]] = by_status.get(r["status"], 0) + r["n"]
        by_category[r["category"]] = by_category.get(r["category"], 0) + r["n"]
    return by_status, by_category


async def aspirations_section(request: ProfileRequest) -> str | None:
    vm = request.map
    share, params = request.audience.where(vm.aspirations)
    by_status, by_category = await village_counts(vm.db, request.desa.code, request.audience)
    order = [s.value for s in Status]
    statuses = [(status_label(s), by_status[s]) for s in sorted(by_status, key=lambda s: (
        order.index(s) if s in order else len(order), s))]
    cat_order = [c.code for c in CATEGORIES]
    categories = [(category_label(c), n) for c, n in sorted(by_category.items(), key=lambda kv: (
        -kv[1], cat_order.index(kv[0]) if kv[0] in cat_order else len(cat_order)))]
    latest = await vm.db.fetchall(
        f"SELECT a.ticket, a.category, a.status, a.created_at, a.description FROM aspirations a"
        f" WHERE a.desa_code = ? AND ({share}) ORDER BY a.created_at DESC, a.id DESC LIMIT {LATEST}",
        [request.desa.code, *params])
    return render(
        "village_map/desa_section_aspirations", total=sum(by_status.values()), statuses=statuses, categories=categories,
        latest=[dict(r) for r in latest], audience=request.audience,
    )


async def potential_section(request: ProfileRequest) -> str | None:
    entries = await request.map.potential.list_for_desa(request.desa.code)
    return render("village_map/desa_section_potential", entries=entries)



async def visits_section(request: ProfileRequest) -> str | None:
    """Last and next "Ngantor di Kecamatan" visit of the village's kecamatan (the visits feature)."""
    visits = request.map.visits
    if visits is None:
        return None
    last, upcoming = await visits.last_and_next(request.desa.kecamatan_code)
    return render("village_map/desa_section_visits", kecamatan=request.desa.kecamatan_name, last=last, next=upcoming)


def _average(values: list[int]) -> str:
    return f"{sum(values) / len(values):.1f}".replace(".", ",") if values else "-"


async def feedback_section(request: ProfileRequest) -> str | None:
    """What the village's head said about visits and the kecamatan's services: leadership and admins only."""
    if not request.audience.feedback:
        return None
    db = request.map.db
    rows = await db.fetchall(
        "SELECT f.visit_rating, f.service_rating, f.comment, v.date, k.name AS kecamatan FROM visit_feedback f"
        " JOIN visits v ON v.id = f.visit_id JOIN kecamatan k ON k.code = v.kecamatan_code WHERE f.desa_code = ?"
        " AND (f.visit_rating IS NOT NULL OR f.service_rating IS NOT NULL OR f.comment IS NOT NULL)"
        " ORDER BY v.date DESC, f.id DESC", (request.desa.code,))
    return render(
        "village_map/desa_section_feedback", count=len(rows), latest=[dict(r) for r in rows[:LATEST]],
        visit_avg=_average([r["visit_rating"] for r in rows if r["visit_rating"]]),
        service_avg=_average([r["service_rating"] for r in rows if r["service_rating"]]),
    )
