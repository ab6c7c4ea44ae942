"""Which commands each role sees. The composition root lists them (``bot.app.MENU``: in menu order, with the roles
that see each); what each does, as people read it, is Indonesian text in ``messages/common/commands.toml``. One
``Menu`` built from both serves /bantuan and Telegram's command menus (setMyCommands)."""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

from bot.core.domain import Role
from bot.messaging import outbox
from bot.storage.database import Database, Transaction

#: Where the commands' descriptions are, inside the ``messages`` package.
DESCRIPTIONS = "common/commands.toml"

ALL = frozenset(Role)
STAFF = frozenset({Role.ADMIN, Role.PIMPINAN})

#: One command of the menu as the composition root lists it: its name and the roles that see it (None: everyone,
#: registered or not).
Listing = tuple[str, frozenset[Role] | None]


@dataclass(frozen=True)
class Command:
    command: str
    description: str
    roles: frozenset[Role] | None  # None: everyone, registered or not


def descriptions() -> dict[str, str]:
    """Each command's description, by command (``messages/common/commands.toml``)."""
    text = resources.files("messages").joinpath(DESCRIPTIONS).read_text(encoding="utf-8")
    return {name: str(value) for name, value in tomllib.loads(text).items()}


class Menu:
    """The bot's commands in menu order (/bantuan closes it), with their descriptions and audiences."""

    def __init__(self, listing: Iterable[Listing]) -> None:
        words = descriptions()
        missing = [name for name, _ in listing if name not in words]
        if missing:
            raise ValueError(f"commands without a description in messages/{DESCRIPTIONS}: {missing}")
        self.commands = tuple(Command(name, words[name], roles) for name, roles in listing)

    def for_role(self, role: Role | None) -> list[Command]:
        """The commands ``role`` sees, in menu order (those for everyone when ``role`` is None)."""
        if role is None:
            return [c for c in self.commands if c.roles is None]
        return [c for c in self.commands if c.roles is None or role in c.roles]

    def telegram(self, role: Role | None) -> list[dict[str, str]]:
        """``role``'s menu as setMyCommands takes it."""
        return [{"command": c.command, "description": c.description} for c in self.for_role(role)]

    def version(self) -> str:
        """A short fingerprint of the whole command table: when it changes, every menu is set again."""
        table = json.dumps([(c.command, c.description, sorted(c.roles) if c.roles else None) for c in self.commands])
        return hashlib.sha256(table.encode()).hexdigest()[:12]

    async def queue_for(self, tx: Transaction, chat_id: int, role: Role, now: datetime) -> None:
        """Set a registered user's command menu to their role's commands (through the outbox, so it is retried)."""
        await outbox.enqueue(
            tx, chat_id, "setMyCommands",
            {"commands": self.telegram(role), "scope": {"type": "chat", "chat_id": chat_id}},
            now=now, dedup_key=f"menu:{self.version()}:{role.value}:{chat_id}",
        )

    async def sync(self, db: Database, now: datetime) -> None:
        """At start: give every registered user the menu of their role, once per version of the command table."""
        rows = await db.fetchall("SELECT telegram_id, role FROM people WHERE telegram_id IS NOT NULL AND active = 1")
        async with db.transaction() as tx:
            for row in rows:
                await self.queue_for(tx, row["telegram_id"], Role(row["role"]), now)

    async def sync_web_app_button(self, db: Database, now: datetime, roles: Iterable[Role], text: str,
                                  url: str) -> None:
        """At start: the chat's menu button of every registered person of ``roles`` opens the Mini App at ``url``
        (through the outbox, once per button: a new address or label sets it again)."""
        wanted = sorted(r.value for r in roles)
        rows = await db.fetchall(
            "SELECT telegram_id FROM people WHERE telegram_id IS NOT NULL AND active = 1"
            f" AND role IN ({','.join('?' * len(wanted))})", wanted)
        key = hashlib.sha256(f"{text}\n{url}".encode()).hexdigest()[:10]
        async with db.transaction() as tx:
            for row in rows:
                chat_id = row["telegram_id"]
                await outbox.enqueue(
                    tx, chat_id, "setChatMenuButton",
                    {"chat_id": chat_id, "menu_button": {"type": "web_app", "text": text, "web_app": {"url": url}}},
                    now=now, dedup_key=f"menubutton:{key}:{chat_id}")
