"""Departments (OPD), which categories each handles, their Telegram group inboxes, and service levels.

The default table is ``bot/officials/departments.toml`` (or ``SAMBANG_DEPARTMENTS_FILE``).
It fills the database on the first
start; afterwards the database is what counts — admins change it with ``sambang departments …`` — and the file is
applied again only when its content changed (an edited deployment) or on ``sambang departments reload``.

Routing rules: a category with departments goes to them (several at once, e.g. Pelayanan Publik → Dispendukcapil
and Bagian Organisasi); a confidential category (Kinerja Kecamatan) goes to leadership only and can never be routed
to a department; a category without departments (Lainnya) goes to the admins, who redirect it.
"""

from __future__ import annotations

import builtins
import hashlib
import logging
import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from bot.aspirations.service import Aspiration
from bot.config import Config, ConfigError
from bot.core.clock import Clock, to_iso
from bot.core.domain import CATEGORIES, CATEGORY_BY_CODE, DomainError, NotAllowed, Role
from bot.core.wording import phrases, plain
from bot.messaging import outbox
from bot.messaging.templates import render
from bot.people.roster import Person
from bot.storage import audit
from bot.storage.database import Database, Transaction

log = logging.getLogger(__name__)

#: Department codes travel in callback data (``asp:rte:<id>:<code>``), so they stay short and plain.
CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]{1,19}$")
AUDIENCE_DEPARTMENTS = "departments"
AUDIENCE_LEADERSHIP = "pimpinan"
AUDIENCE_ADMINS = "admin"


@dataclass(frozen=True)
class ServiceLevel:
    """Working days to accept (or redirect) and to respond."""

    accept: int = 3
    respond: int = 5


@dataclass(frozen=True)
class RoutingFile:
    departments: dict[str, str]
    routes: dict[str, list[str]]
    levels: dict[str, ServiceLevel] = field(default_factory=dict)
    default_level: ServiceLevel = ServiceLevel()
    confirm_days: int = 10
    sha: str = ""


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    active: bool
    categories: tuple[str, ...] = ()
    officials: int = 0
    inbox_chat_id: int | None = None
    inbox_title: str | None = None


def normalise_code(code: str) -> str:
    return code.strip().upper().replace("-", "_").replace(" ", "_")


def _check_code(code: str) -> str:
    normal = normalise_code(code)
    if not CODE_RE.match(normal):
        raise DomainError(
            "officials/kode_opd_tidak_valid", code=code
        )
    return normal


class RoutingError(ValueError):
    """What is wrong in a routing file, and where; its text is ``messages/officials/routing_<key>.txt.j2``."""

    def __init__(self, key: str, /, **params: object) -> None:
        super().__init__(plain(f"officials/routing_{key}", **params))
        self.key = key
        self.params = params


def _level(where: str, value: Any) -> ServiceLevel:
    if not isinstance(value, dict) or not {"accept", "respond"} <= value.keys():
        raise RoutingError("level_shape", where=where)
    accept, respond = value["accept"], value["respond"]
    if not (isinstance(accept, int) and isinstance(respond, int) and 1 <= accept <= respond <= 60):
        raise RoutingError("level_values", where=where)
    return ServiceLevel(accept, respond)


def parse_routing(text: str, source: str = "departments.toml") -> RoutingFile:
    """Read a routing file; ValueError with the place and the problem when it is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RoutingError("not_toml", source=source, error=exc) from None
    raw_departments = data.get("departments", {})
    if not isinstance(raw_departments, dict) or not raw_departments:
        raise RoutingError("no_departments", source=source)
    departments: dict[str, str] = {}
    for code, name in raw_departments.items():
        normal = normalise_code(code)
        if not CODE_RE.match(normal):
            raise RoutingError("code_invalid", source=source, code=code)
        if not isinstance(name, str) or not name.strip():
            raise RoutingError("name_empty", source=source, code=code)
        departments[normal] = name.strip()
    routes: dict[str, list[str]] = {}
    raw_routes = data.get("routes", {})
    if not isinstance(raw_routes, dict):
        raise RoutingError("routes_shape", source=source)
    for category, codes in raw_routes.items():
        if category not in CATEGORY_BY_CODE:
            raise RoutingError("category_unknown", source=source, category=category,
                               known=", ".join(c.code for c in CATEGORIES))
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise RoutingError("route_codes", source=source, category=category)
        normal_codes = [normalise_code(c) for c in codes]
        for code in normal_codes:
            if code not in departments:
                raise RoutingError("route_department_unknown", source=source, category=category, code=code)
        if normal_codes and CATEGORY_BY_CODE[category].confidential:
            raise RoutingError("route_confidential", source=source, category=category)
        routes[category] = list(dict.fromkeys(normal_codes))
    levels: dict[str, ServiceLevel] = {}
    default_level = ServiceLevel()
    confirm = 10
    raw_levels = data.get("service_levels", {})
    if not isinstance(raw_levels, dict):
        raise RoutingError("levels_shape", source=source)
    for key, value in raw_levels.items():
        if key == "default":
            default_level = _level(f"{source}: service_levels.default", value)
        elif key == "confirm":
            if not isinstance(value, int) or not 1 <= value <= 60:
                raise RoutingError("confirm_days", source=source)
            confirm = value
        elif key in CATEGORY_BY_CODE:
            levels[key] = _level(f"{source}: service_levels.{key}", value)
        else:
            raise RoutingError("level_category_unknown", source=source, key=key)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return RoutingFile(departments, routes, levels, default_level, confirm, sha)


def default_routing_text() -> str:
    return resources.files("bot.officials").joinpath("departments.toml").read_text(encoding="utf-8")


def _int_env(config: Config, name: str, low: int, high: int) -> int | None:
    raw = (config.extra.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ConfigError(name, "integer_range", low=low, high=high, raw=raw)
    return int(raw)


def load_routing(config: Config) -> RoutingFile:
    """The routing file named by SAMBANG_DEPARTMENTS_FILE (default: the one shipped in the repo), with the service
    levels of SAMBANG_SLA_ACCEPT_DAYS, SAMBANG_SLA_RESPOND_DAYS, SAMBANG_SLA and SAMBANG_CONFIRM_DAYS on top."""
    path_text = (config.extra.get("SAMBANG_DEPARTMENTS_FILE") or "").strip()
    if path_text:
        path = Path(path_text)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError("SAMBANG_DEPARTMENTS_FILE", "cannot_read", path=path, error=exc.strerror) from None
        source = str(path)
    else:
        text, source = default_routing_text(), "bot/officials/departments.toml"
    try:
        routing = parse_routing(text, source)
    except ValueError as exc:
        raise ConfigError("SAMBANG_DEPARTMENTS_FILE", "as_given", text=str(exc)) from None
    default = routing.default_level
    accept = _int_env(config, "SAMBANG_SLA_ACCEPT_DAYS", 1, 60)
    respond = _int_env(config, "SAMBANG_SLA_RESPOND_DAYS", 1, 60)
    if accept is not None or respond is not None:
        default = ServiceLevel(accept or default.accept, respond or default.respond)
        if default.accept > default.respond:
            raise ConfigError("SAMBANG_SLA_ACCEPT_DAYS", "sla_accept_over_respond")
    levels = dict(routing.levels)
    raw = (config.extra.get("SAMBANG_SLA") or "").strip()
    for part in filter(None, (p.strip() for p in raw.split(","))):
        m = re.fullmatch(r"([a-z_]+)\s*=\s*(\d{1,2})\s*/\s*(\d{1,2})", part)
        if not m or m.group(1) not in CATEGORY_BY_CODE:
            raise ConfigError("SAMBANG_SLA", "sla_invalid", part=part)
        a, r = int(m.group(2)), int(m.group(3))
        if not 1 <= a <= r <= 60:
            raise ConfigError("SAMBANG_SLA", "sla_days", part=part)
        levels[m.group(1)] = ServiceLevel(a, r)
    confirm = _int_env(config, "SAMBANG_CONFIRM_DAYS", 1, 60) or routing.confirm_days
    return RoutingFile(routing.departments, routing.routes, levels, default, confirm, routing.sha)


class DepartmentService:
    """Departments and routing, over SQLite. Changes are audited; codes are case-insensitive on input."""

    def __init__(self, db: Database, clock: Clock, routing: RoutingFile) -> None:
        self.db = db
        self.clock = clock
        self.routing = routing

    # -- service levels ---------------------------------------------------------------------------------------

    def service_level(self, category: str) -> ServiceLevel:
        return self.routing.levels.get(category, self.routing.default_level)

    @property
    def confirm_days(self) -> int:
        return self.routing.confirm_days

    # -- the routing file ------------------------------------------------------------------------------------

    async def load_defaults(self, *, force: bool = False) -> bool:
        """Apply the routing file when the database has no departments yet, when the file changed since it was
        last applied, or when ``force``. Returns whether it was applied."""
        stored = await self.db.fetchval("SELECT value FROM app_state WHERE key = 'departments_file_sha'")
        count = await self.db.fetchval("SELECT COUNT(*) FROM departments")
        if not force and count and stored == self.routing.sha:
            return False
        now = to_iso(self.clock.now())
        async with self.db.transaction() as tx:
            for code, name in self.routing.departments.items():
                await tx.execute(
                    "INSERT INTO departments(code, name, active, created_at, updated_at) VALUES (?, ?, 1, ?, ?)"
                    " ON CONFLICT(code) DO UPDATE SET name = excluded.name, active = 1,"
                    " updated_at = excluded.updated_at",
                    (code, name, now, now),
                )
            for category, codes in self.routing.routes.items():
                await tx.execute("DELETE FROM category_routes WHERE category = ?", (category,))
                await tx.executemany("INSERT INTO category_routes(category, department) VALUES (?, ?)",
                                     [(category, c) for c in codes])
            await tx.execute(
                "INSERT INTO app_state(key, value) VALUES ('departments_file_sha', ?) ON CONFLICT(key) DO UPDATE"
                " SET value = excluded.value", (self.routing.sha,))
            await self._audit(tx, None, "departments:load", f"{len(self.routing.departments)} OPD dari berkas")
        log.info("departments: applied the routing file (%s departments)", len(self.routing.departments))
        return True

    # -- reads -----------------------------------------------------------------------------------------------

    async def list(self, *, include_inactive: bool = False) -> builtins.list[Department]:
        rows = await self.db.fetchall(
            "SELECT d.code, d.name, d.active, i.chat_id AS inbox_chat_id, i.title AS inbox_title,"
            " (SELECT group_concat(category, ',') FROM category_routes r WHERE r.department = d.code) AS cats,"
            " (SELECT COUNT(*) FROM people p WHERE p.role = 'pejabat' AND p.active = 1 AND p.telegram_id IS NOT NULL"
            "   AND p.department = d.code) AS officials"
            " FROM departments d LEFT JOIN department_inboxes i ON i.department = d.code"
            + ("" if include_inactive else " WHERE d.active = 1") + " ORDER BY d.code"
        )
        order = {c.code: i for i, c in enumerate(CATEGORIES)}
        return [
            Department(r["code"], r["name"], bool(r["active"]),
                       tuple(sorted((r["cats"] or "").split(","), key=lambda c: order.get(c, 99))) if r["cats"]
                       else (), r["officials"], r["inbox_chat_id"], r["inbox_title"])
            for r in rows
        ]

    async def get(self, code: str) -> Department | None:
        wanted = normalise_code(code)
        return next((d for d in await self.list(include_inactive=True) if d.code == wanted), None)

    async def names(self) -> dict[str, str]:
        rows = await self.db.lookup_all("SELECT code, name FROM departments")  # a few dozen rows, each forward
        return {r["code"]: r["name"] for r in rows}

    async def routes(self) -> dict[str, builtins.list[str]]:
        """Category code -> department codes, for every category (empty list: admins, or leadership if secret)."""
        rows = await self.db.fetchall(
            "SELECT r.category, r.department FROM category_routes r JOIN departments d ON d.code = r.department"
            " WHERE d.active = 1 ORDER BY r.rowid")
        result: dict[str, builtins.list[str]] = {c.code: [] for c in CATEGORIES}
        for r in rows:
            result.setdefault(r["category"], []).append(r["department"])
        return result

    async def audience_for(self, tx: Transaction, category: str) -> tuple[str, builtins.list[str]]:
        """Who handles a new aspiration of ``category``: (audience, department codes)."""
        cat = CATEGORY_BY_CODE.get(category)
        if cat is None or cat.confidential:
            return AUDIENCE_LEADERSHIP, []
        rows = await tx.fetchall(
            "SELECT r.department FROM category_routes r JOIN departments d ON d.code = r.department"
            " WHERE r.category = ? AND d.active = 1 ORDER BY r.rowid", (category,))
        codes = [r["department"] for r in rows]
        return (AUDIENCE_DEPARTMENTS, codes) if codes else (AUDIENCE_ADMINS, [])

    async def label_for(self, aspiration: Aspiration) -> str:
        """Who handles it, as people read it: 'Dinas PUPR', 'Pimpinan Daerah', 'Admin (menunggu pengalihan)'."""
        if aspiration.departments:
            names = await self.names()
            return ", ".join(names.get(c, c) for c in aspiration.departments)
        return phrases("officials/department_labels")["confidential" if aspiration.confidential else "unrouted"]

    # -- edits (command line) --------------------------------------------------------------------------------

    async def _audit(self, tx: Transaction, actor: int | None, action: str, detail: str) -> None:
        await audit.record(tx, actor, action, detail, now=self.clock.now())

    async def _require(self, tx: Transaction, code: str, *, active: bool = True) -> str:
        normal = normalise_code(code)
        row = await tx.fetchone("SELECT code, active FROM departments WHERE code = ?", (normal,))
        if row is None or (active and not row["active"]):
            raise DomainError("officials/opd_tidak_dikenal_lihat", code=code)
        return str(row["code"])

    async def add(self, code: str, name: str) -> Department:
        normal = _check_code(code)
        name = name.strip()
        if not name:
            raise DomainError("officials/nama_opd_tidak_boleh")
        now = to_iso(self.clock.now())
        async with self.db.transaction() as tx:
            existing = await tx.fetchone("SELECT active FROM departments WHERE code = ?", (normal,))
            if existing is not None and existing["active"]:
                raise DomainError("officials/opd_mengganti_namanya_sambang", normal=normal)
            await tx.execute(
                "INSERT INTO departments(code, name, active, created_at, updated_at) VALUES (?, ?, 1, ?, ?)"
                " ON CONFLICT(code) DO UPDATE SET name = excluded.name, active = 1, updated_at = excluded.updated_at",
                (normal, name, now, now))
            await self._audit(tx, None, "departments:add", f"{normal} {name}")
        dept = await self.get(normal)
        assert dept is not None
        return dept

    async def rename(self, code: str, name: str) -> Department:
        name = name.strip()
        if not name:
            raise DomainError("officials/nama_opd_tidak_boleh")
        async with self.db.transaction() as tx:
            normal = await self._require(tx, code)
            await tx.execute("UPDATE departments SET name = ?, updated_at = ? WHERE code = ?",
                             (name, to_iso(self.clock.now()), normal))
            await self._audit(tx, None, "departments:rename", f"{normal} {name}")
        dept = await self.get(normal)
        assert dept is not None
        return dept

    async def remove(self, code: str) -> int:
        """Deactivate a department and drop its routes. Returns how many open aspirations it still holds (they stay
        with it until an admin or leadership redirects them)."""
        async with self.db.transaction() as tx:
            normal = await self._require(tx, code)
            await tx.execute("UPDATE departments SET active = 0, updated_at = ? WHERE code = ?",
                             (to_iso(self.clock.now()), normal))
            await tx.execute("DELETE FROM category_routes WHERE department = ?", (normal,))
            await tx.execute("DELETE FROM department_inboxes WHERE department = ?", (normal,))
            await self._audit(tx, None, "departments:remove", normal)
            open_count = await tx.fetchval(
                "SELECT COUNT(*) FROM aspiration_departments ad JOIN aspirations a ON a.id = ad.aspiration_id"
                " WHERE ad.department = ? AND ad.active = 1 AND a.status IN ('baru', 'diterima', 'diproses',"
                " 'selesai')", (normal,))
        return int(open_count or 0)

    async def route(self, category: str, code: str) -> builtins.list[str]:
        cat = CATEGORY_BY_CODE.get(category.strip().lower())
        if cat is None:
            raise DomainError("officials/kategori_tidak_dikenal_pilih", category=category,
                              choices=", ".join(c.code for c in CATEGORIES))
        if cat.confidential:
            raise DomainError("officials/kategori_rahasia_hanya_pimpinan", label=cat.label)
        async with self.db.transaction() as tx:
            normal = await self._require(tx, code)
            await tx.execute("INSERT OR IGNORE INTO category_routes(category, department) VALUES (?, ?)",
                             (cat.code, normal))
            await self._audit(tx, None, "departments:route", f"{cat.code} -> {normal}")
        return (await self.routes())[cat.code]

    async def unroute(self, category: str, code: str) -> builtins.list[str]:
        cat = CATEGORY_BY_CODE.get(category.strip().lower())
        if cat is None:
            raise DomainError("officials/kategori_tidak_dikenal", category=category)
        async with self.db.transaction() as tx:
            normal = normalise_code(code)
            removed = await tx.execute_rowcount(
                "DELETE FROM category_routes WHERE category = ? AND department = ?", (cat.code, normal))
            if not removed:
                raise DomainError("officials/kategori_memang_tidak_diteruskan", label=cat.label, normal=normal)
            await self._audit(tx, None, "departments:unroute", f"{cat.code} -x- {normal}")
        return (await self.routes())[cat.code]

    # -- group inboxes ---------------------------------------------------------------------------------------

    async def register_inbox(self, person: Person, chat_id: int, title: str | None, code: str | None) -> Department:
        """Make a group the inbox of a department: an official for their own department while it has none, an admin
        for any (also moving one). The department's other officials, and the group it had until now, are told."""
        if chat_id >= 0:
            raise DomainError("officials/perintah_inbox_dijalankan_dalam")
        if person.role is Role.PEJABAT:
            if code and normalise_code(code) != person.department:
                raise NotAllowed("officials/pejabat_hanya_mendaftarkan_grup", department=person.department)
            code = person.department
        elif person.role is not Role.ADMIN:
            raise NotAllowed("officials/hanya_admin_pejabat_opd_2")
        if not code:
            raise DomainError("officials/sebutkan_kode_opd_nya")
        now = self.clock.now()
        async with self.db.transaction() as tx:
            normal = await self._require(tx, code)
            previous = await tx.fetchone("SELECT chat_id, title FROM department_inboxes WHERE department = ?",
                                         (normal,))
            previous_chat = int(previous["chat_id"]) if previous is not None else None
            previous_title = previous["title"] if previous is not None else None
            moved = previous_chat is not None and previous_chat != chat_id
            if moved and person.role is not Role.ADMIN:
                raise NotAllowed(
                    "officials/punya_grup_kotak_masuk", normal=normal, previous=previous_title)
            await tx.execute(
                "INSERT INTO department_inboxes(department, chat_id, title, registered_by, registered_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT(department) DO UPDATE SET chat_id = excluded.chat_id,"
                " title = excluded.title, registered_by = excluded.registered_by,"
                " registered_at = excluded.registered_at",
                (normal, chat_id, (title or "")[:128], person.telegram_id, to_iso(now)))
            if previous is None or moved:
                await self._audit(tx, person.telegram_id, "inbox:move" if moved else "inbox:register",
                                  f"{normal} chat {chat_id}" + (f" (was {previous_chat})" if moved else ""))
                await self._tell_inbox_change(tx, person, normal, title, previous, now)
        dept = await self.get(normal)
        assert dept is not None
        return dept

    async def _tell_inbox_change(self, tx: Transaction, person: Person, code: str, title: str | None,
                                 previous: Any, now: datetime) -> None:
        """Through the outbox: the department's officials (but the one who did it) and the group that was the
        inbox until now hear where the department's aspiration cards go from now on."""
        name = await tx.fetchval("SELECT name FROM departments WHERE code = ?", (code,))
        text = render("officials/inbox_changed", code=code, name=name or code, title=title or "",
                      old_title=previous["title"] if previous is not None else None,
                      by=person.name or person.role.label, admin=person.role is Role.ADMIN)
        rows = await tx.fetchall("SELECT telegram_id FROM people WHERE role = 'pejabat' AND department = ? AND"
                                 " active = 1 AND telegram_id IS NOT NULL ORDER BY id", (code,))
        chats = [int(r["telegram_id"]) for r in rows if r["telegram_id"] != person.telegram_id]
        if previous is not None:
            chats.append(int(previous["chat_id"]))
        for chat_id in chats:
            await outbox.enqueue_text(tx, chat_id, text, now=now, ref=f"inbox:{code}")

    async def unregister_inbox(self, person: Person, chat_id: int) -> builtins.list[str]:
        """Stop using a group as inbox (of the official's department, or of every department for an admin)."""
        if person.role not in (Role.PEJABAT, Role.ADMIN):
            raise NotAllowed("officials/hanya_admin_pejabat_opd")
        async with self.db.transaction() as tx:
            rows = await tx.fetchall("SELECT department FROM department_inboxes WHERE chat_id = ?", (chat_id,))
            codes = [r["department"] for r in rows
                     if person.role is Role.ADMIN or r["department"] == person.department]
            if not codes:
                raise DomainError("officials/grup_bukan_kotak_masuk")
            for code in codes:
                await tx.execute("DELETE FROM department_inboxes WHERE department = ? AND chat_id = ?", (code, chat_id))
            await self._audit(tx, person.telegram_id, "inbox:unregister", f"{','.join(codes)} chat {chat_id}")
        return codes

    async def inbox_departments(self, chat_id: int) -> builtins.list[str]:
        rows = await self.db.fetchall("SELECT department FROM department_inboxes WHERE chat_id = ? ORDER BY"
                                      " department", (chat_id,))
        return [r["department"] for r in rows]

    async def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> int:
        """A group became a supergroup (new id): keep it as the same inbox."""
        async with self.db.transaction() as tx:
            return await tx.execute_rowcount("UPDATE department_inboxes SET chat_id = ? WHERE chat_id = ?",
                                             (new_chat_id, old_chat_id))

    async def forget_chat(self, chat_id: int) -> int:
        """The bot was removed from a group: it is nobody's inbox any more."""
        async with self.db.transaction() as tx:
            count = await tx.execute_rowcount("DELETE FROM department_inboxes WHERE chat_id = ?", (chat_id,))
            if count:
                await self._audit(tx, None, "inbox:removed", f"chat {chat_id}")
            return count
