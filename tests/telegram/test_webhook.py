"""Webhook mode over real HTTP on 127.0.0.1: the secret-token check, /healthz, duplicates, graceful stop.

``WebhookHarness`` runs the real bot in webhook mode and plays Telegram's part: it takes the updates the fake Bot
API has queued and POSTs them to the bot's webhook with the secret token, so every ``say``/``press`` helper of the
polling harness works unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import WebhookSettings, build_application, open_services, start_bot, stop_bot
from bot.config import Config
from bot.core.clock import FakeClock
from bot.telegram.webhook import SECRET_HEADER, WebhookError, webhook_path
from tests.harness import ADMIN_ID, TOKEN, BotHarness

SECRET = "s3cret-Token_for-tests"
URL = "https://sambang.example.test/tg/hook"


class WebhookHarness(BotHarness):
    def __init__(self, tmp_path: Path, clock: FakeClock, **config_changes: Any) -> None:
        super().__init__(tmp_path, clock, **config_changes)
        self._pump: asyncio.Task[None] | None = None
        self.http: aiohttp.ClientSession | None = None
        self.deliveries: list[int] = []  # HTTP status of each delivery by the pump

    async def start(self) -> None:
        if self.server.port is None:
            await self.server.start()
        config = Config(
            token=TOKEN, db_path=self.tmp_path / "sambang.db", base_url=self.server.base_url,
            base_file_url=self.server.base_file_url, wilayah="35.13", admins=frozenset({ADMIN_ID}),
            outbox_chat_interval=0.0, outbox_group_interval=0.0, outbox_rate=1000.0, tick_seconds=3600.0,
            persistence_interval=0.2,
            extra={"SAMBANG_RATE_LIMIT_BURST": "100000", "SAMBANG_RATE_LIMIT_PER_MINUTE": "100000"},
        )
        self.config = replace(config, **self.config_changes)
        self.services = await open_services(self.config, self.clock)
        self.app = build_application(self.services)
        await start_bot(self.app, webhook=WebhookSettings(URL, SECRET, listen="127.0.0.1", port=0))
        if self.http is None:
            self.http = aiohttp.ClientSession()
        self._pump = asyncio.create_task(self._deliver())

    @property
    def port(self) -> int:
        port = self.app.webhook_server.bound_port
        assert port
        return int(port)

    def url(self, path: str = "/tg/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def post(self, update: dict[str, Any], *, secret: str | None = SECRET,
                   content_type: str = "application/json", body: bytes | None = None) -> int:
        assert self.http is not None
        headers = {"Content-Type": content_type}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        data = body if body is not None else json.dumps(update).encode()
        async with self.http.post(self.url(), data=data, headers=headers) as response:
            await response.read()
            return response.status

    async def _deliver(self) -> None:
        while True:
            for update in await self.server.take_updates(0.5):
                self.deliveries.append(await self.post(update))

    async def stop(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None
        await super().stop()

    async def close(self) -> None:
        await super().close()
        if self.http is not None:
            await self.http.close()
            self.http = None


@pytest.fixture
async def hook(tmp_path: Path, clock: FakeClock) -> AsyncIterator[WebhookHarness]:
    h = WebhookHarness(tmp_path, clock)
    await h.start()
    try:
        yield h
    finally:
        await h.close()


async def test_webhook_is_registered_with_the_secret(hook: WebhookHarness) -> None:
    call = hook.server.last_call("setWebhook")
    assert call is not None and call.ok
    assert call.params["url"] == URL
    assert call.params["secret_token"] == SECRET
    assert "callback_query" in call.params["allowed_updates"] and "edited_message" in call.params["allowed_updates"]
    assert hook.server.last_call("getUpdates") is None  # no polling in webhook mode


async def test_full_registration_and_reply_through_the_webhook(hook: WebhookHarness) -> None:
    kades = await hook.kepala_desa(10)
    await hook.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await hook.press(kades, "Infrastruktur", "Langkah 2 dari 4")
    await hook.say(kades, "Jalan desa Ledokombo rusak berat sepanjang satu kilometer.", "Langkah 3 dari 4")
    await hook.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    await hook.press(kades, "✅ Kirim", "Aspirasi terkirim")
    assert await hook.svc.db.fetchval("SELECT COUNT(*) FROM aspirations") == 1
    assert set(hook.deliveries) == {200}
    assert await hook.svc.db.fetchval("SELECT COUNT(*) FROM inbound_updates") == 0


async def test_requests_without_or_with_a_wrong_secret_are_refused_and_not_processed(hook: WebhookHarness) -> None:
    stranger = hook.user(55, "Asing")
    update = {"update_id": 777001, "message": {
        "message_id": 1, "date": 1772416800, "chat": stranger.private_chat, "from": stranger.as_dict,
        "text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
    mark = hook.server.mark()
    assert await hook.post(update, secret=None) == 403
    assert await hook.post(update, secret="wrong-secret") == 403
    assert await hook.post(update, secret=SECRET[:-1]) == 403
    await asyncio.sleep(0.3)
    assert [c for c in hook.server.calls[mark:] if c.chat_id == 55] == []
    assert await hook.svc.db.fetchval("SELECT COUNT(*) FROM processed_updates WHERE update_id = 777001") == 0
    assert await hook.svc.db.fetchval("SELECT COUNT(*) FROM inbound_updates") == 0
    # with the secret the same update is handled: the reply appears on the fake Bot API server
    assert await hook.post(update) == 200
    await hook.server.wait_for_text(55, "Anda belum terdaftar", since=mark)


async def test_bad_requests_get_clear_http_errors(hook: WebhookHarness) -> None:
    assert await hook.post({}, body=b"not json") == 400
    assert await hook.post({"hello": "world"}) == 400
    assert await hook.post({"update_id": 1}, content_type="text/plain") == 415
    assert hook.http is not None
    async with hook.http.get(hook.url()) as response:  # only POST on the webhook path
        assert response.status == 405
    async with hook.http.post(hook.url("/other"), data=b"{}") as response:
        assert response.status == 404
    async with hook.http.post(hook.url(), data=b"x" * (2 * 1024 * 1024),
                              headers={"Content-Type": "application/json", SECRET_HEADER: SECRET}) as response:
        assert response.status in (400, 413)


async def test_the_same_update_delivered_twice_is_handled_once(hook: WebhookHarness) -> None:
    kades = await hook.kepala_desa(10)
    await hook.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await hook.press(kades, "Infrastruktur", "Langkah 2 dari 4")
    await hook.say(kades, "Jembatan gantung dusun Krajan putus diterjang banjir kemarin sore.", "Langkah 3 dari 4")
    await hook.press(kades, "➡️ Lanjut ke ringkasan", "Ringkasan aspirasi")
    # Telegram redelivers an update whose answer it did not get: the same "Kirim" press arrives twice
    summary = kades.last_message()
    assert summary is not None
    press = hook.server.push_callback_query(kades, summary, "asp:sum:send")
    hook.server._updates.remove(press)  # the test delivers this one itself, twice
    mark = hook.server.mark()
    assert await hook.post(press) == 200
    assert await hook.post(press) == 200
    await hook.server.wait_for_text(10, "Aspirasi terkirim", since=mark)
    await hook.settle()
    assert await hook.svc.db.fetchval("SELECT COUNT(*) FROM aspirations") == 1
    receipts = [t for t in hook.server.texts(10) if "Aspirasi terkirim" in t]
    assert len(receipts) == 1
    answers = [c for c in hook.server.calls[mark:] if c.method == "answerCallbackQuery"]
    assert len(answers) == 1


async def test_healthz_reports_database_and_last_update(hook: WebhookHarness) -> None:
    assert hook.http is not None
    async with hook.http.get(hook.url("/healthz")) as response:
        assert response.status == 200
        report = await response.json()
    assert report["status"] == "ok" and report["database"] == "ok" and report["mode"] == "webhook"
    assert report["schema_version"] >= 5
    assert report["heartbeat_age_seconds"] is not None and report["heartbeat_age_seconds"] < 60
    assert report["last_update_at"] is None
    user = hook.user(60, "Tamu")
    await hook.say(user, "/start", "belum terdaftar")
    async with hook.http.get(hook.url("/healthz")) as response:
        report = await response.json()
    assert report["last_update_at"] == "2026-03-02T02:00:00.000000Z"  # the FakeClock's now
    assert report["outbox"]["failed"] == 0
    # a stale heartbeat turns the answer into 503, so an orchestrator restarts the bot
    await hook.svc.db.execute("UPDATE app_state SET value = '2020-01-01T00:00:00.000000Z' WHERE key = 'heartbeat_at'")
    async with hook.http.get(hook.url("/healthz")) as response:
        assert response.status == 503
        report = await response.json()
    assert report["status"] == "error" and "heartbeat" in report["problem"]


async def test_graceful_stop_finishes_queued_updates_and_refuses_new_ones(hook: WebhookHarness) -> None:
    users = [await hook.kepala_desa(100 + i, desa=f"35.13.02.200{i + 1}") for i in range(3)]  # one head a desa
    # queue several updates at once, then stop right away: every one of them is answered before the stop ends
    for user in users:
        update = user.send("/status")
        hook.server._updates.remove(update)
        assert await hook.post(update) == 200
    server = hook.app.webhook_server
    await stop_bot(hook.app)
    for user in users:
        assert any("Aspirasi desa Anda" in t or "Belum ada" in t for t in hook.server.texts(user.id)), \
            hook.server.recent(user.id)
    assert server.closing
    # nothing listens any more: Telegram keeps the updates and delivers them to the next process
    assert hook.http is not None
    with pytest.raises(aiohttp.ClientConnectionError):
        async with hook.http.get(f"http://127.0.0.1:{server.bound_port}/healthz") as response:
            await response.read()
    await hook.services.db.close()
    hook.app = None


def test_webhook_url_rules() -> None:
    assert webhook_path("https://bot.example.id/tg/abc") == "/tg/abc"
    assert webhook_path("https://bot.example.id/", "/hook/") == "/hook"
    for bad in ("http://bot.example.id/tg", "bot.example.id/tg", "https:///tg"):
        with pytest.raises(WebhookError):
            webhook_path(bad)
    with pytest.raises(WebhookError):
        webhook_path("https://bot.example.id/healthz")
