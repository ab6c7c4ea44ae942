"""The dashboard: a second edge on the bot's services, served by tornado from the bot's own process.

``routes(web)`` are its pages; in webhook mode the webhook server serves them beside the webhook and ``/healthz``
(bot/telegram/webhook.py), in polling mode ``WebServer`` listens on ``SAMBANG_WEB_LISTEN``. Every page asks who
is there (a session started by Telegram's login, bot/web/auth.py), reads the person from the roster on every
request, and reads through the audience rule (bot/aspirations/audience.py): leadership everything; admins
everything but "Kinerja Kecamatan" items and the villages' feedback; officials their department's share; camat,
kepala desa and strangers a refusal page and no data.
"""

from __future__ import annotations

import asyncio
import json
import logging
import mimetypes
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from http import HTTPStatus
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

import tornado.netutil
import tornado.web
from tornado.httpserver import HTTPServer

from bot.aspirations import audience as audiences
from bot.core.domain import CATEGORIES, NotAllowed, Status
from bot.operations.health import health_report, heartbeat_limit
from bot.people.regions import get_desa, get_kecamatan, list_desa, list_kecamatan
from bot.people.roster import Person, get_person
from bot.services import Services
from bot.village_map.dashboard import ListFilters
from bot.village_map.recap import Filters
from bot.web.auth import (
    LoginRefused,
    Sessions,
    TelegramLogin,
    bot_username,
    cookie_secret,
    verify_init_data,
    verify_widget,
)
from bot.web.render import page

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
COOKIE = "sambang_sesi"
TICKET = r"(ASP-\d{4}-\d{5,})"
DESA = r"(\d{2}\.\d{2}\.\d{2}\.\d{4})"
_KAB_RE = re.compile(r"^\d{2}\.\d{2}$")
_KEC_RE = re.compile(r"^\d{2}\.\d{2}\.\d{2}$")
_DESA_RE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")
_DEPT_RE = re.compile(r"^[A-Za-z0-9_-]{1,20}$")
TELEGRAM_FRAMES = "https://web.telegram.org https://*.telegram.org https://telegram.org"
MAX_PAGE = 100_000
#: The visit calendar's file name, as /jadwal names it.
ICS_NAME = "jadwal-ngantor-di-kecamatan.ics"

#: Where a file people sent is in the media archive, by its Telegram ``file_unique_id`` (and the MIME type they
#: sent it with, if known): (path, MIME type), or None while it is not archived.
MediaLookup = Callable[[str | None, str | None], Awaitable[tuple[Path, str] | None]]


async def no_archive(file_unique_id: str | None, mime_type: str | None) -> tuple[Path, str] | None:
    return None


class Archive(Protocol):
    """The media archive as the dashboard reads it (bot/media): its folder and where each file is in it."""

    root: Path

    async def paths(self, file_unique_ids: Iterable[str]) -> dict[str, str]: ...


def archive_lookup(archive: Archive) -> MediaLookup:
    """Files served from the archive: named by their hash, their type as sent or else from the name."""

    async def lookup(file_unique_id: str | None, mime_type: str | None) -> tuple[Path, str] | None:
        if not file_unique_id:
            return None
        relative = (await archive.paths([file_unique_id])).get(file_unique_id)
        if relative is None:
            return None
        path = archive.root / relative
        if not path.is_file():
            return None
        return path, mime_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream"

    return lookup


async def send_file(handler: tornado.web.RequestHandler, found: tuple[Path, str] | None) -> None:
    """An archived file as the answer: shown in the page when it is an image, a sound or a video, else a download."""
    if found is None:
        raise tornado.web.HTTPError(HTTPStatus.NOT_FOUND)
    path, mime = found
    content = await asyncio.to_thread(path.read_bytes)
    handler.set_header("Content-Type", mime)
    handler.set_header("Cache-Control", "private, max-age=3600")
    if not mime.startswith(("image/", "audio/", "video/")):
        handler.set_header("Content-Disposition", f'attachment; filename="{path.name}"')
    handler.finish(content)


def tile_origin(tiles: str) -> str:
    """The origin of the tile URL template for the CSP (``{s}`` subdomains as a wildcard)."""
    if not tiles:
        return ""
    parts = urlsplit(tiles.replace("{s}", "a"))
    host = (parts.hostname or "").replace("a.", "*.", 1) if "{s}." in tiles else parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def content_security_policy(tiles: str, *, login: bool = False) -> str:
    """Scripts and styles from the dashboard itself (no inline code); tiles from their server; framed by Telegram
    only. The login page also loads Telegram's Login Widget, whose button is Telegram's own frame."""
    img = " ".join(p for p in ("'self'", "data:", tile_origin(tiles)) if p)
    script = "'self' https://telegram.org" if login else "'self'"
    frame = "https://oauth.telegram.org" if login else "'none'"
    return (f"default-src 'self'; script-src {script}; style-src 'self'; img-src {img}; connect-src 'self';"
            f" frame-src {frame}; media-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self';"
            f" frame-ancestors 'self' {TELEGRAM_FRAMES}")


@dataclass
class Web:
    """What every request of the dashboard shares."""

    services: Services
    media: MediaLookup = no_archive
    sessions: Sessions = field(init=False)

    def __post_init__(self) -> None:
        self.sessions = Sessions(self.services.db, self.services.clock)

    @property
    def https(self) -> bool:
        return self.services.config.web_url.startswith("https://")

    def settings(self) -> dict[str, Any]:
        """The tornado Application settings the dashboard needs (cookie key, CSRF cookie, 404 page)."""
        same_site = "None" if self.https else "Lax"
        return {
            "cookie_secret": cookie_secret(self.services.config.token),
            "xsrf_cookie_kwargs": {"httponly": True, "secure": self.https, "samesite": same_site, "path": "/"},
            "default_handler_class": NotFoundPage,
            "default_handler_args": {"web": self},
        }


def local_next(value: str | None) -> str:
    """Where to go after login: a path of this site only."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


class Base(tornado.web.RequestHandler):
    login_page = False

    def initialize(self, web: Web) -> None:
        self.web = web
        self.person: Person | None = None
        self.audience: audiences.Audience | None = None
        self.set_default_headers()  # tornado sets them before ``initialize`` too, when ``web`` is not there yet

    @property
    def services(self) -> Services:
        return self.web.services

    def set_default_headers(self) -> None:
        if not hasattr(self, "web"):
            return
        self.set_header("Content-Security-Policy",
                        content_security_policy(self.web.services.config.map_tiles, login=self.login_page))
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "same-origin")
        self.set_header("Cache-Control", "no-store")

    async def prepare(self) -> None:
        if self.request.method == "POST":
            self.check_xsrf_cookie()  # every change of state carries the CSRF token

    def page(self, name: str, status: int = 200, **values: Any) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(page(name, person=self.person, audience=self.audience, xsrf=self.xsrf_token.decode(),
                         path=self.request.path, **values))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.page("galat", status_code, code=status_code)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, tornado.web.HTTPError):
            log.info("dashboard: %s %s -> %s", self.request.method, self.request.path, value.status_code)
        else:
            log.error("dashboard: error in %s %s", self.request.method, self.request.path,
                      exc_info=(typ, value, tb))

    async def session_person(self) -> tuple[str | None, Person | None]:
        """(session token, the person as the roster has them now); (None, None) without a live session."""
        raw = self.get_signed_cookie(COOKIE, max_age_days=2)
        if raw is None:
            return None, None
        token = raw.decode()
        session = await self.web.sessions.find(token)
        if session is None:
            return None, None
        return token, await get_person(self.services.db, session.telegram_id)

    def refuse(self, person: Person | None, status: int = HTTPStatus.FORBIDDEN) -> None:
        self.page("tolak", status, who=person, reason=_refusal(person))


def _refusal(person: Person | None) -> str:
    if person is None:
        return "belum_terdaftar"
    try:
        audiences.for_person(person)
    except NotAllowed as exc:
        return exc.message
    return ""


def _audience(person: Person | None) -> audiences.Audience | None:
    """What a person may read on the dashboard (files that travel follow the export rule: "Kinerja Kecamatan"
    items and the villages' feedback only for leadership); None for anyone refused."""
    if person is None:
        return None
    try:
        return audiences.for_person(person, export=True)
    except NotAllowed:
        return None


class Page(Base):
    """A page behind the login."""

    async def prepare(self) -> None:
        await super().prepare()
        token, person = await self.session_person()
        if token is None:  # never signed in, logged out, or the session expired
            if self.request.method in ("GET", "HEAD"):
                self.redirect("/masuk?" + urlencode({"lanjut": self.request.uri or "/"}))
            else:
                self.refuse(None, HTTPStatus.UNAUTHORIZED)
            return
        audience = _audience(person)
        if person is None or audience is None:
            self.refuse(person)
            return
        self.person, self.audience = person, audience

    @property
    def viewer(self) -> tuple[Person, audiences.Audience]:
        assert self.person is not None and self.audience is not None
        return self.person, self.audience


# -- login ------------------------------------------------------------------------------------------------------


class LoginPage(Base):
    login_page = True

    async def get(self) -> None:
        _, person = await self.session_person()
        target = local_next(self.get_query_argument("lanjut", None))
        if person is not None and _audience(person) is not None:
            self.redirect(target)
            return
        username = self.services.config.bot_username or await bot_username(self.services.db)
        # where the widget sends the person back: the public address when it is known (Telegram's examples use
        # absolute addresses), else this site's own path
        auth_url = f"{self.services.config.web_url}/auth/telegram?" + urlencode({"lanjut": target})
        self.page("masuk", bot_username=username, lanjut=target, auth_url=auth_url,
                  gagal=bool(self.get_query_argument("gagal", "")))


class Login(Base):
    """Both ways in end here: a session for a person the roster lets in, a refusal page for anyone else."""

    async def start(self, login: TelegramLogin) -> Person | None:
        person = await get_person(self.services.db, login.telegram_id)
        if _audience(person) is None:
            log.info("dashboard: login refused for a %s", person.role.value if person else "stranger")
            return None
        token = await self.web.sessions.start(login)
        https = self.web.https
        self.set_signed_cookie(COOKIE, token, expires_days=None, httponly=True, secure=https,
                               samesite="None" if https else "Lax", path="/",
                               max_age=int(self.web.sessions.lifetime.total_seconds()))
        return person


class WidgetLogin(Login):
    async def get(self) -> None:
        fields = {k: self.get_query_argument(k) for k in self.request.query_arguments}
        try:
            login = verify_widget(fields, self.services.config.token, self.services.clock.now())
        except LoginRefused as exc:
            log.info("dashboard: widget login refused: %s", exc.reason)
            self.page("tolak", HTTPStatus.FORBIDDEN, who=None, reason="login_tidak_sah")
            return
        person = await self.start(login)
        if person is None:
            self.refuse(await get_person(self.services.db, login.telegram_id))
            return
        self.redirect(local_next(self.get_query_argument("lanjut", None)))


class WebAppLogin(Login):
    async def post(self) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        try:
            login = verify_init_data(self.get_body_argument("initData", ""), self.services.config.token,
                                     self.services.clock.now())
        except LoginRefused as exc:
            log.info("dashboard: Mini App login refused: %s", exc.reason)
            self.set_status(HTTPStatus.FORBIDDEN)
            self.finish(json.dumps({"ok": False, "lanjut": "/masuk?gagal=1"}))
            return
        person = await self.start(login)
        if person is None:
            self.set_status(HTTPStatus.FORBIDDEN)
            self.finish(json.dumps({"ok": False, "lanjut": "/ditolak"}))
            return
        self.finish(json.dumps({"ok": True, "lanjut": local_next(self.get_body_argument("lanjut", None))}))


class Logout(Base):
    async def post(self) -> None:
        token, _ = await self.session_person()
        if token is not None:
            await self.web.sessions.end(token)
        self.clear_cookie(COOKIE, path="/")
        self.redirect("/masuk")


class Refused(Base):
    """Where the Mini App's login goes when the roster does not let the person in."""

    async def get(self) -> None:
        self.page("tolak", HTTPStatus.FORBIDDEN, who=None, reason="tanpa_akses")


# -- pages ------------------------------------------------------------------------------------------------------


class Overview(Page):
    async def get(self) -> None:
        _, audience = self.viewer
        kabupaten = self.get_query_argument("kabupaten", "")
        if kabupaten and not _KAB_RE.match(kabupaten):
            kabupaten = ""
        overview = await self.services.village_map.dashboard.overview(audience, self.services.clock.now(),
                                                                      kabupaten)
        self.page("ringkasan", overview=overview)


class MapPage(Page):
    async def get(self) -> None:
        self.page("peta", tiles=self.services.config.map_tiles)


class MapData(Page):
    async def get(self) -> None:
        _, audience = self.viewer
        vm = self.services.village_map
        key = ("map", audience.kind, audience.department, audience.confidential)
        data = await vm.dashboard.cached(key, self.services.clock.now(), lambda: vm.locations.map_data(audience))
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps({
            "desa": [[v.code, v.name, v.kecamatan, v.latitude, v.longitude, v.source, v.open, v.potential]
                     for v in data.villages],
            "tanpa_lokasi": data.unplaced, "jumlah_desa": data.total_villages,
        }, ensure_ascii=False, separators=(",", ":")))


#: What the list could not use, named for the page: (what, the value as given); the words are in the template.
Problems = list[tuple[str, str]]


def _date_arg(handler: tornado.web.RequestHandler, name: str, problems: Problems) -> date | None:
    raw = handler.get_query_argument(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append(("tanggal", raw[:20]))
        return None


def list_filters(handler: tornado.web.RequestHandler, audience: audiences.Audience) -> tuple[ListFilters, Problems]:
    """The list's filters from the query string; what cannot be used is named (in Indonesian) and left out."""
    problems: Problems = []

    def arg(name: str, pattern: re.Pattern[str] | None = None, choices: Any = None) -> str:
        raw = handler.get_query_argument(name, "").strip()
        if not raw:
            return ""
        if (pattern is not None and not pattern.match(raw)) or (choices is not None and raw not in choices):
            problems.append(("saringan", name))
            return ""
        return raw

    categories = {c.code for c in CATEGORIES if audience.confidential or not c.confidential}
    statuses = {s.value for s in Status} | {"terbuka", "tertutup"}
    page_raw = handler.get_query_argument("hal", "1")
    page = int(page_raw) if page_raw.isdigit() and 0 < int(page_raw) <= MAX_PAGE else 1
    filters = ListFilters(
        kabupaten=arg("kabupaten", _KAB_RE), kecamatan=arg("kecamatan", _KEC_RE), desa=arg("desa", _DESA_RE),
        category=arg("kategori", choices=categories),
        status=arg("status", choices=statuses), department=arg("opd", _DEPT_RE).upper(),
        since=_date_arg(handler, "sejak", problems), until=_date_arg(handler, "sampai", problems),
        overdue=handler.get_query_argument("terlambat", "") in ("1", "ya", "on"), page=page)
    return filters, problems


class AspirationList(Page):
    async def get(self) -> None:
        _, audience = self.viewer
        filters, problems = list_filters(self, audience)
        vm = self.services.village_map
        result = await vm.dashboard.aspirations(audience, filters, self.services.clock.now())
        departments = await vm.dashboard.department_names()
        if audience.department:
            departments = {k: v for k, v in departments.items() if k == audience.department}
        villages = await list_desa(self.services.db, filters.kecamatan) if filters.kecamatan else []
        self.page("daftar", filters=filters, result=result, problems=problems, villages=villages,
                  kecamatan=await list_kecamatan(self.services.db), departments=departments,
                  categories=[c for c in CATEGORIES if audience.confidential or not c.confidential],
                  statuses=list(Status), link=lambda **changes: "/aspirasi?" + urlencode(filters.query(**changes)))


class AspirationPage(Page):
    async def get(self, ticket: str) -> None:
        _, audience = self.viewer
        aspiration = await self.services.aspirations.by_ticket(ticket)
        if aspiration is None or not audience.sees(aspiration):
            self.page("galat", HTTPStatus.NOT_FOUND, code=404, ticket=ticket)
            return
        history = await self.services.aspirations.history(aspiration.id)
        names = await self.services.village_map.dashboard.department_names()
        overdue = await self.services.village_map.dashboard.is_overdue(aspiration.id, self.services.clock.now())
        archived = [a.kind != "location" and await self.web.media(a.file_unique_id, a.mime_type) is not None
                    for a in aspiration.attachments]
        self.page("aspirasi", a=aspiration, history=history, names=names, overdue=overdue, archived=archived,
                  attachments=list(enumerate(aspiration.attachments)), tiles=self.services.config.map_tiles)


class AttachmentFile(Page):
    async def get(self, ticket: str, position: str) -> None:
        _, audience = self.viewer
        aspiration = await self.services.aspirations.by_ticket(ticket)
        if aspiration is None or not audience.sees(aspiration):
            raise tornado.web.HTTPError(HTTPStatus.NOT_FOUND)
        index = int(position)
        if index >= len(aspiration.attachments):
            raise tornado.web.HTTPError(HTTPStatus.NOT_FOUND)
        attachment = aspiration.attachments[index]
        await send_file(self, await self.web.media(attachment.file_unique_id, attachment.mime_type))


class VillagePage(Page):
    async def get(self, code: str) -> None:
        _, audience = self.viewer
        db = self.services.db
        desa = await get_desa(db, code)
        if desa is None:
            self.page("galat", HTTPStatus.NOT_FOUND, code=404)
            return
        vm = self.services.village_map
        now = self.services.clock.now()
        facts = await vm.dashboard.village(code, audience)
        latest = await vm.dashboard.aspirations(audience, ListFilters(desa=code), now, page_size=20)
        visits = vm.visits
        last, upcoming = await visits.last_and_next(desa.kecamatan_code) if visits is not None else (None, None)
        potential = await vm.potential.list_for_desa(code)
        photos = {(p.id, n): await self.web.media(photo.file_unique_id, None) is not None
                  for p in potential for n, photo in enumerate(p.photos)}
        self.page("desa", desa=desa, facts=facts, latest=latest, office=await vm.locations.office(code),
                  potential=potential, photos=photos, last=last, upcoming=upcoming)


class PotentialPhotoFile(Page):
    """A photo of a village's potential, from the archive (potential is part of the village's profile: for
    everyone the dashboard lets in)."""

    async def get(self, code: str, entry_id: str, number: str) -> None:
        entry = await self.services.village_map.potential.get(int(entry_id))
        index = int(number)
        if entry is None or entry.desa_code != code or index >= len(entry.photos):
            raise tornado.web.HTTPError(HTTPStatus.NOT_FOUND)
        await send_file(self, await self.web.media(entry.photos[index].file_unique_id, None))


class VisitsPage(Page):
    async def get(self) -> None:
        visits = self.services.ngantor.visits
        today = visits.today()
        upcoming = await visits.upcoming(limit=200)
        past = [v for v in await visits.recent(days_back=120, days_ahead=0) if v.date < today]
        months: dict[tuple[int, int], list[Any]] = {}
        for v in upcoming:
            months.setdefault((v.date.year, v.date.month), []).append(v)
        self.page("kunjungan", months=sorted(months.items()), past=past, today=today)


class VisitsCalendar(Page):
    """The same visits as an .ics file to add to a phone's or an office's calendar (as /jadwal sends it)."""

    async def get(self) -> None:
        from bot.visits import ics  # icalendar loads only when a calendar is asked for

        services = self.services
        visits = await services.ngantor.visits.upcoming(limit=200)
        now = services.clock.now()
        text = ics.calendar(visits, now=now, domain=f"sambang-{services.config.wilayah}")
        self.set_header("Content-Type", "text/calendar; charset=utf-8")
        self.set_header("Content-Disposition", f'attachment; filename="{ICS_NAME}"')
        self.finish(text.encode("utf-8"))


class ExportPage(Page):
    async def get(self) -> None:
        self.page("ekspor", kecamatan=await list_kecamatan(self.services.db), problem="")

    async def post(self) -> None:
        person, _ = self.viewer
        audience = audiences.for_person(person, export=True)
        fmt = self.get_body_argument("format", "xlsx")
        raw_since = self.get_body_argument("sejak", "").strip()
        kecamatan = self.get_body_argument("kecamatan", "").strip()
        problem = ""
        since = None
        if fmt not in ("xlsx", "csv", "open311"):
            problem = "format"
        if raw_since:
            try:
                since = date.fromisoformat(raw_since)
            except ValueError:
                problem = "tanggal"
        if kecamatan and (not _KEC_RE.match(kecamatan) or await get_kecamatan(self.services.db, kecamatan) is None):
            problem = "kecamatan"
        if problem:
            self.page("ekspor", HTTPStatus.BAD_REQUEST, kecamatan=await list_kecamatan(self.services.db),
                      problem=problem)
            return
        vm = self.services.village_map
        result = await vm.export(fmt, audience, Filters(since=since, kecamatan_codes=(kecamatan,) if kecamatan
                                                        else ()))
        await vm.audit_export(person.telegram_id, fmt, result)
        self.set_header("Content-Type", result.mime_type)
        self.set_header("Content-Disposition", f'attachment; filename="{result.filename}"')
        self.finish(result.content)


class NotFoundPage(Base):
    async def prepare(self) -> None:
        self.page("galat", HTTPStatus.NOT_FOUND, code=404)


class Health(tornado.web.RequestHandler):
    def initialize(self, web: Web) -> None:
        self.web = web

    async def get(self) -> None:
        services = self.web.services
        report = await health_report(services.db, mode=services.liveness.mode, liveness=services.liveness,
                                     max_heartbeat_age=heartbeat_limit(services.config.tick_seconds))
        self.set_status(HTTPStatus.OK if report["status"] == "ok" else HTTPStatus.SERVICE_UNAVAILABLE)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(report, ensure_ascii=False))


class Static(tornado.web.StaticFileHandler):
    def set_extra_headers(self, path: str) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "public, max-age=86400")


def routes(web: Web) -> list[Any]:
    """The dashboard's pages, for the webhook server or ``WebServer``."""
    args = {"web": web}
    return [
        (r"/", Overview, args),
        (r"/masuk", LoginPage, args),
        (r"/auth/telegram", WidgetLogin, args),
        (r"/auth/webapp", WebAppLogin, args),
        (r"/keluar", Logout, args),
        (r"/ditolak", Refused, args),
        (r"/peta", MapPage, args),
        (r"/peta/data\.json", MapData, args),
        (r"/aspirasi", AspirationList, args),
        (rf"/aspirasi/{TICKET}", AspirationPage, args),
        (rf"/aspirasi/{TICKET}/lampiran/(\d{{1,3}})", AttachmentFile, args),
        (rf"/desa/{DESA}", VillagePage, args),
        (rf"/desa/{DESA}/potensi/(\d{{1,12}})/(\d{{1,2}})", PotentialPhotoFile, args),
        (r"/kunjungan", VisitsPage, args),
        (r"/kunjungan\.ics", VisitsCalendar, args),
        (r"/ekspor", ExportPage, args),
        (r"/static/(.*)", Static, {"path": str(STATIC)}),
    ]


class _App(tornado.web.Application):
    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        """No access log: the people behind the requests are personal data."""


class WebServer:
    """Polling mode: the dashboard and ``/healthz`` on ``SAMBANG_WEB_LISTEN``."""

    def __init__(self, web: Web, listen: str, port: int) -> None:
        self.web = web
        self.listen = listen
        self.port = port
        app = _App([(r"/healthz/?", Health, {"web": web}), *routes(web)], **web.settings())
        self._http = HTTPServer(app, xheaders=True, max_body_size=1024 * 1024)
        self.bound_port: int | None = None

    async def start(self) -> None:
        sockets = tornado.netutil.bind_sockets(self.port, address=self.listen)
        self.bound_port = sockets[0].getsockname()[1]
        self._http.add_sockets(sockets)
        log.info("dashboard: listening on %s:%s", self.listen, self.bound_port)

    async def stop(self) -> None:
        self._http.stop()
        await self.web.services.village_map.dashboard.settled()
        try:
            await asyncio.wait_for(self._http.close_all_connections(), 5)
        except TimeoutError:
            log.warning("dashboard: connections still open after 5 s; closing anyway")

