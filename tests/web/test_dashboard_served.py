"""Served by the bot itself: in webhook mode one HTTP server answers Telegram, /healthz and the dashboard; in
polling mode ``SAMBANG_WEB_LISTEN`` starts the dashboard beside long polling, on the same database."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from bot.core.clock import FakeClock
from tests.harness import ADMIN_ID, BotHarness
from tests.telegram.test_webhook import WebhookHarness
from tests.web.dashboard_support import widget_fields


async def _login_and_read(base: str, clock: FakeClock) -> str:
    async with aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        first = await s.get("/", allow_redirects=False)
        assert first.status == 302 and first.headers["Location"].startswith("/masuk")
        login = await s.get(first.headers["Location"])
        html = await login.text()  # the Login Widget of the running bot, allowed by the login page's policy
        assert 'src="https://telegram.org/js/telegram-widget.js?22" data-telegram-login="' in html
        assert "script-src 'self' https://telegram.org" in login.headers["Content-Security-Policy"]
        r = await s.get("/auth/telegram", params=widget_fields(ADMIN_ID, clock.now()))
        assert r.status == 200
        health = await s.get("/healthz")
        assert (await health.json())["mode"] in ("webhook", "polling")
        return await r.text()


async def test_webhook_server_also_serves_the_dashboard(tmp_path: Path, clock: FakeClock) -> None:
    hook = WebhookHarness(tmp_path, clock)
    await hook.start()
    try:
        await hook.say(hook.admin, "/start", "Selamat datang")  # updates still arrive by webhook
        page = await _login_and_read(f"http://127.0.0.1:{hook.port}", clock)
        assert "Ringkasan aspirasi" in page
    finally:
        await hook.close()


async def test_polling_with_web_listen_serves_the_dashboard(tmp_path: Path, clock: FakeClock) -> None:
    h = BotHarness(tmp_path, clock, web_listen=("127.0.0.1", 0))
    await h.start()
    try:
        port = h.app.web_server.bound_port
        page = await _login_and_read(f"http://127.0.0.1:{port}", clock)
        assert "Ringkasan aspirasi" in page
        await h.say(h.admin, "/start", "Selamat datang")
    finally:
        await h.close()
    assert h.app is None  # stopped with the bot


async def test_without_web_listen_no_dashboard_server(tmp_path: Path, clock: FakeClock) -> None:
    h = BotHarness(tmp_path, clock)
    await h.start()
    try:
        assert getattr(h.app, "web_server", None) is None
    finally:
        await h.close()
