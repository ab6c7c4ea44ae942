"""Webhook mode: a small HTTP server that takes Telegram's updates on one path and reports health on ``/healthz``.

PTB's own webhook server serves a single path, so this one (tornado, which PTB's webhook extra already brings) does
the same job on the webhook path — JSON only, Telegram's ``X-Telegram-Bot-Api-Secret-Token`` compared in constant
time, the update stored (``bot.telegram.inbound``) before Telegram gets its 200 — and adds ``GET /healthz``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import secrets
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import tornado.netutil
import tornado.web
from telegram import Bot, Update
from tornado.httpserver import HTTPServer

from bot.core.wording import plain
from bot.operations.health import Liveness, health_report
from bot.storage.database import Database

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
MAX_BODY = 1024 * 1024  # an update is a few KB; refuse anything absurd before reading it
#: Seconds a request waits for its update to be stored (while the database is locked or full) before a 500.
STORE_WAIT = 30.0


class WebhookError(ValueError):
    """A bad webhook setting; the message is one line for the command line, from
    ``messages/operations/webhook_<key>.txt.j2``."""

    def __init__(self, key: str, /, **params: object) -> None:
        super().__init__(plain(f"operations/webhook_{key}", **params))
        self.key = key
        self.params = params


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def check_secret(secret: str) -> str:
    if not _SECRET_RE.match(secret):
        raise WebhookError("secret_invalid")
    return secret


def webhook_path(url: str, url_path: str | None = None) -> str:
    """The local path the server answers on: ``--url-path`` if given, else the path of the public URL."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise WebhookError("url_not_https", url=url)
    path = url_path if url_path is not None else parts.path
    path = "/" + path.strip("/")
    if path == "/healthz":
        raise WebhookError("path_healthz")
    return path


class _UpdateHandler(tornado.web.RequestHandler):
    SUPPORTED_METHODS = ("POST",)

    def initialize(self, server: WebhookServer) -> None:
        self.server = server

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")

    def _refuse(self, status: HTTPStatus, why: str) -> None:
        self.set_status(status)
        self.finish(json.dumps({"ok": False, "error": why}))

    async def post(self) -> None:
        server = self.server
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), server.secret_token.encode()):
            server.refused += 1
            log.warning("webhook: refused a request from %s without the right secret token", self.request.remote_ip)
            self._refuse(HTTPStatus.FORBIDDEN, "forbidden")
            return
        if server.closing:
            # Telegram retries later; the next process takes it.
            self._refuse(HTTPStatus.SERVICE_UNAVAILABLE, "shutting down")
            return
        content_type = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            self._refuse(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "expected application/json")
            return
        try:
            data = json.loads(self.request.body)
            update = Update.de_json(data, server.bot) if isinstance(data, dict) else None
        except Exception:
            update = None
        if update is None:
            log.warning("webhook: a request with an unreadable update was refused")
            self._refuse(HTTPStatus.BAD_REQUEST, "not an update")
            return
        try:
            # stored before the 200 (bot.telegram.inbound, which retries a failing write);
            # Telegram delivers it again later
            # if the database stays unwritable
            await asyncio.wait_for(server.update_queue.put(update), STORE_WAIT)
        except Exception:
            log.error("webhook: could not store update %s within %s s; Telegram will deliver it again",
                      update.update_id, STORE_WAIT)
            self._refuse(HTTPStatus.INTERNAL_SERVER_ERROR, "not stored")  # Telegram delivers it again
            return
        server.received += 1
        self.set_status(HTTPStatus.OK)
        self.finish(json.dumps({"ok": True}))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        log.warning("webhook: error in request handler", exc_info=(typ, value, tb) if typ else None)


class _HealthHandler(tornado.web.RequestHandler):
    SUPPORTED_METHODS = ("GET", "HEAD")

    def initialize(self, server: WebhookServer) -> None:
        self.server = server

    async def get(self) -> None:
        report = await health_report(self.server.db, mode="webhook", max_heartbeat_age=self.server.max_heartbeat_age,
                                     liveness=self.server.liveness)
        self.set_status(HTTPStatus.OK if report["status"] == "ok" else HTTPStatus.SERVICE_UNAVAILABLE)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(report, ensure_ascii=False))

    async def head(self) -> None:
        await self.get()


class _App(tornado.web.Application):
    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        """Access logs stay quiet: Telegram calls often and IPs are personal data."""


class WebhookServer:
    """Serves ``path`` (Telegram's updates) and ``/healthz`` on ``listen:port``."""

    def __init__(
        self,
        *,
        bot: Bot,
        update_queue: asyncio.Queue[object],
        db: Database,
        path: str,
        secret_token: str,
        listen: str = "0.0.0.0",
        port: int = 8443,
        max_heartbeat_age: float | None = None,
        liveness: Liveness | None = None,
        extra_routes: list[Any] | None = None,
        settings: dict[str, Any] | None = None,
    ) -> None:
        """``extra_routes`` (with the tornado ``settings`` they need) are served beside the webhook: the dashboard
        (bot/web), so that one HTTP server answers Telegram, /healthz and people."""
        self.bot = bot
        self.update_queue = update_queue
        self.db = db
        self.path = path
        self.secret_token = check_secret(secret_token)
        self.listen = listen
        self.port = port
        self.max_heartbeat_age = max_heartbeat_age
        self.liveness = liveness
        self.closing = False
        self.received = 0
        self.refused = 0
        app = _App(
            [
                (re.escape(path) + "/?", _UpdateHandler, {"server": self}),
                (r"/healthz/?", _HealthHandler, {"server": self}),
                *(extra_routes or []),
            ],
            **{"default_handler_class": _NotFound, **(settings or {})},
        )
        self._http = HTTPServer(app, max_body_size=MAX_BODY, xheaders=True)
        self.bound_port: int | None = None

    async def start(self) -> None:
        sockets = tornado.netutil.bind_sockets(self.port, address=self.listen)
        self.bound_port = sockets[0].getsockname()[1]
        self._http.add_sockets(sockets)
        log.info("webhook: listening on %s:%s, path %s", self.listen, self.bound_port, self.path)

    async def stop(self) -> None:
        """Stop taking updates: close the listening socket, let requests in progress finish, close connections."""
        self.closing = True
        self._http.stop()
        try:
            await asyncio.wait_for(self._http.close_all_connections(), 5)
        except TimeoutError:
            log.warning("webhook: connections still open after 5 s; closing anyway")


class _NotFound(tornado.web.RequestHandler):
    def prepare(self) -> None:
        self.set_status(HTTPStatus.NOT_FOUND)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps({"ok": False, "error": "not found"}))

