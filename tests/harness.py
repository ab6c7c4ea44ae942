"""End-to-end harness: the real Sambang ``Application`` (real PTB networking) against ``FakeTelegram``.

A ``BotHarness`` owns a fake Bot API server, a temporary database and a ``FakeClock``. ``start()`` builds the bot
exactly as ``sambang run`` does (``open_services`` + ``build_application``) and starts long polling;
``restart()`` stops it and builds a new one on the same database, as after a crash or deploy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import schedules
from bot.app import SCHEDULED_TASKS, build_application, open_services, start_bot, stop_bot
from bot.config import Config
from bot.core.clock import FakeClock
from bot.people import roster
from bot.services import Services
from tests.fake_telegram import Call, FakeTelegram, FakeUser

TOKEN = "123456:TEST-token"
ADMIN_ID = 900001


class BotHarness:
    def __init__(self, tmp_path: Path, clock: FakeClock, **config_changes: Any) -> None:
        self.tmp_path = tmp_path
        self.clock = clock
        self.server = FakeTelegram(token=TOKEN)
        self.config_changes = config_changes
        self.config: Config | None = None
        self.services: Services | None = None
        self.app: Any = None

    # -- lifecycle ------------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self.server.port is None:
            await self.server.start()
        config = Config(
            token=TOKEN,
            db_path=self.tmp_path / "sambang.db",
            base_url=self.server.base_url,
            base_file_url=self.server.base_file_url,
            wilayah="35.13",
            admins=frozenset({ADMIN_ID}),
            outbox_chat_interval=0.0,
            outbox_group_interval=0.0,
            outbox_rate=1000.0,
            tick_seconds=3600.0,  # tests run due tasks with tick(); the ticker itself stays quiet
            persistence_interval=0.2,
            # tests type far faster than people: the per-user flood limit is tested on its own (test_hostile_input)
            extra={"SAMBANG_RATE_LIMIT_BURST": "100000", "SAMBANG_RATE_LIMIT_PER_MINUTE": "100000"},
        )
        changes = dict(self.config_changes)
        changes["extra"] = {**config.extra, **changes.get("extra", {})}
        self.config = replace(config, **changes)
        self.services = await open_services(self.config, self.clock)
        self.app = build_application(self.services)
        await start_bot(self.app, poll_interval=0.0, timeout=1)

    async def stop(self) -> None:
        if self.app is None:
            return
        await stop_bot(self.app)
        assert self.services is not None
        await self.services.db.close()
        self.app = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def close(self) -> None:
        await self.stop()
        await self.server.stop()

    # -- people ---------------------------------------------------------------------------------------------

    @property
    def svc(self) -> Services:
        assert self.services is not None
        return self.services

    @property
    def admin(self) -> FakeUser:
        return self.server.user(ADMIN_ID, "Admin Kabupaten")

    def user(self, user_id: int, first_name: str = "Budi", **kwargs: Any) -> FakeUser:
        return self.server.user(user_id, first_name, **kwargs)

    async def register(self, user: FakeUser, role: str, **place: str | None) -> None:
        """Register ``user`` the way people do: an invitation redeemed with /start <code>."""
        invitation = await roster.create_invitation(self.svc.db, self.clock, role=role, **place)
        await self.say(user, f"/start {invitation.code}", "Pendaftaran berhasil")

    async def kepala_desa(self, user_id: int, desa: str = "35.13.02.2001", name: str = "Budi") -> FakeUser:
        user = self.user(user_id, name)
        await self.register(user, "kepala_desa", desa=desa)
        return user

    # -- conversation helpers -------------------------------------------------------------------------------

    async def say(self, user: FakeUser, text: str, expect: str, *, timeout: float = 5) -> Call:
        """Send ``text`` as ``user`` and wait for a bot message to them containing ``expect``."""
        mark = self.server.mark()
        user.send(text)
        return await self.server.wait_for_text(user.id, expect, timeout, since=mark)

    async def press(self, user: FakeUser, button: str, expect: str, *, timeout: float = 5) -> Call:
        mark = self.server.mark()
        user.press_button(button)
        return await self.server.wait_for_text(user.id, expect, timeout, since=mark)

    async def do(self, action: Callable[[], Any], chat_id: int, expect: str, *, timeout: float = 5) -> Call:
        mark = self.server.mark()
        action()
        return await self.server.wait_for_text(chat_id, expect, timeout, since=mark)

    async def settle(self, timeout: float = 5) -> None:
        """Wait until every update was handled and the outbox has nothing left to send."""
        await self.server.wait_idle(quiet=0.15, timeout=timeout)
        await self.svc.outbox.drain(timeout=timeout)
        await self.server.wait_idle(quiet=0.1, timeout=timeout)

    async def tick(self) -> None:
        """Run the scheduled tasks for the clock's current time, as the JobQueue ticker does."""
        await schedules.run_due(self.svc, SCHEDULED_TASKS)

    async def advance(self, **delta: float) -> None:
        """Move the clock and let the scheduler see the new time."""
        self.clock.advance(**delta)
        await self.tick()
        await asyncio.sleep(0)
