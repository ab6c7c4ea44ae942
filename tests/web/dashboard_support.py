"""A running dashboard for tests: the bot's services on a temporary database (seeded aspirations, one person of
each role), the dashboard's own server on 127.0.0.1, and logins signed the way Telegram signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bot.app import dashboard, open_services
from bot.config import Config
from bot.core.clock import FakeClock, to_iso
from bot.services import Services
from bot.web.server import MediaLookup, WebServer
from tests import map_seed

TOKEN = "123456:TEST-token"
#: Telegram ids of one person per role (the seeded aspirations' kepala desa is another one).
PEOPLE = {
    "pimpinan": 710001, "admin": 710002, "pejabat": 710003, "pejabat_lain": 710004, "camat": 710005,
    "kepala_desa": 710006,
}
STRANGER = 719999


def widget_fields(telegram_id: int, auth_date: datetime, token: str = TOKEN, **extra: str) -> dict[str, str]:
    """What the Login Widget sends, signed as https://core.telegram.org/widgets/login#checking-authorization says:
    HMAC-SHA-256 of the sorted ``key=value`` lines, keyed by SHA-256 of the token."""
    fields = {"id": str(telegram_id), "first_name": "Uji", "username": f"uji{telegram_id}",
              "auth_date": str(int(auth_date.timestamp())), **extra}
    check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields)).encode()
    fields["hash"] = hmac.new(hashlib.sha256(token.encode()).digest(), check, hashlib.sha256).hexdigest()
    return fields


def init_data(telegram_id: int, auth_date: datetime, token: str = TOKEN) -> str:
    """A Mini App's initData, signed as https://core.telegram.org/bots/webapps#validating-data-received-via-the-
    mini-app says: the key is HMAC-SHA-256 of the token keyed by "WebAppData"."""
    fields = {"query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
              "user": json.dumps({"id": telegram_id, "first_name": "Uji", "language_code": "id"},
                                 separators=(",", ":")),
              "auth_date": str(int(auth_date.timestamp()))}
    check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields)).encode()
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check, hashlib.sha256).hexdigest()
    return urlencode(fields)


@dataclass
class Dashboard:
    services: Services
    server: WebServer
    clock: FakeClock
    #: a ticket a test prepared (e.g. the one with an archived photo)
    ticket: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.bound_port}"

    def client(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(self.url, cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def login(self, session: aiohttp.ClientSession, role: str) -> aiohttp.ClientResponse:
        telegram_id = PEOPLE.get(role, STRANGER)
        response = await session.get("/auth/telegram", params=widget_fields(telegram_id, self.clock.now()),
                                     allow_redirects=False)
        return response

    @staticmethod
    def csrf(html: str) -> str:
        found = re.search(r'name="csrf" content="([^"]+)"', html)
        assert found, "no CSRF token in the page"
        return found.group(1)


async def seed_people(services: Services, now: datetime) -> None:
    db = services.db
    for role, tg in PEOPLE.items():
        kind = "pejabat" if role.startswith("pejabat") else role
        department = {"pejabat": "PUPR", "pejabat_lain": "DINKES"}.get(role)
        desa = "35.13.02.2001" if role == "kepala_desa" else None
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO people(telegram_id, name, role, desa_code, kecamatan_code, department, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (tg, f"Orang {role}", kind, desa, "35.13.02" if role == "camat" else None, department,
                 to_iso(now), to_iso(now)))


@asynccontextmanager
async def running_dashboard(tmp_path: Path, clock: FakeClock, *, aspirations: int = 300,
                            config: dict[str, Any] | None = None,
                            media: MediaLookup | None = None) -> AsyncIterator[Dashboard]:
    cfg = Config(token=TOKEN, db_path=tmp_path / "sambang.db", wilayah="35.13", **(config or {}))
    services = await open_services(cfg, clock)
    try:
        await seed_people(services, clock.now())
        if aspirations:
            await map_seed.seed(services.db, aspirations, start=clock.now())
        web = dashboard(services)
        if media is not None:
            web.media = media
        server = WebServer(web, "127.0.0.1", 0)
        await server.start()
        try:
            yield Dashboard(services, server, clock)
        finally:
            await server.stop()
    finally:
        await services.db.close()
