"""A python-telegram-bot persistence that keeps conversation state in Sambang's own SQLite database.

No pickle files: conversations and user/chat/bot data are JSON rows in ``ptb_conversations`` and ``ptb_data``, so
a half-written aspiration's place in the conversation survives a restart together with its draft.

Why no library: PTB ships only ``PicklePersistence`` (a pickle file beside the database, written on its own schedule,
so a restart could pair a conversation state with an older or newer draft) and ``DictPersistence`` (memory only);
no maintained persistence stores into an existing aiosqlite database through its single writer.
"""

from __future__ import annotations

import json
from copy import deepcopy
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from bot.storage.database import Database


class SqlitePersistence(BasePersistence[dict[str, Any], dict[str, Any], dict[str, Any]]):
    def __init__(self, db: Database, update_interval: float = 1.0) -> None:
        # Only conversations and user_data (a person's small flags between steps) are kept: no handler uses
        # chat_data or bot_data, and PTB would copy and compare them after every update all the same.
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=False, user_data=True, callback_data=False),
            update_interval=update_interval,
        )
        self.db = db
        # What was last written per (kind, id): PTB offers every touched user's data after each update, and
        # most of it has not changed.
        self._written: dict[tuple[str, int], str] = {}
        # The state last written per (conversation, key): PTB hands over every conversation an update touched,
        # also when it stayed in the same state (a second photo, a multi-select press).
        self._states: dict[tuple[str, str], str] = {}

    async def _load(self, kind: str) -> dict[int, dict[str, Any]]:
        rows = await self.db.fetchall("SELECT id, data FROM ptb_data WHERE kind = ?", (kind,))
        for r in rows:
            self._written[(kind, r["id"])] = r["data"]
        return {r["id"]: json.loads(r["data"]) for r in rows}

    async def _store(self, kind: str, key: int, data: dict[str, Any]) -> None:
        encoded = json.dumps(data, default=str, sort_keys=True)
        if self._written.get((kind, key), "{}") == encoded:
            return
        self._written[(kind, key)] = encoded
        await self.db.execute(
            "INSERT INTO ptb_data(kind, id, data) VALUES (?, ?, ?) ON CONFLICT(kind, id) DO UPDATE SET data ="
            " excluded.data",
            (kind, key, encoded),
        )

    async def get_user_data(self) -> dict[int, dict[str, Any]]:
        return await self._load("user")

    async def get_chat_data(self) -> dict[int, dict[str, Any]]:
        return await self._load("chat")

    async def get_bot_data(self) -> dict[str, Any]:
        return (await self._load("bot")).get(0, {})

    async def get_callback_data(self) -> None:
        return None

    async def get_conversations(self, name: str) -> ConversationDict:
        rows = await self.db.fetchall("SELECT key, state FROM ptb_conversations WHERE name = ?", (name,))
        for r in rows:
            self._states[(name, r["key"])] = r["state"]
        return {tuple(json.loads(r["key"])): json.loads(r["state"]) for r in rows}

    async def update_conversation(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        encoded_key = json.dumps(list(key))
        if new_state is None:
            self._states.pop((name, encoded_key), None)
            await self.db.execute("DELETE FROM ptb_conversations WHERE name = ? AND key = ?", (name, encoded_key))
            return
        encoded_state = json.dumps(new_state)
        if self._states.get((name, encoded_key)) == encoded_state:
            return  # unchanged since it was last written
        await self.db.execute(
            "INSERT INTO ptb_conversations(name, key, state) VALUES (?, ?, ?) ON CONFLICT(name, key) DO UPDATE SET"
            " state = excluded.state",
            (name, encoded_key, encoded_state),
        )
        self._states[(name, encoded_key)] = encoded_state

    async def update_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        await self._store("user", user_id, deepcopy(data))

    async def update_chat_data(self, chat_id: int, data: dict[str, Any]) -> None:
        await self._store("chat", chat_id, deepcopy(data))

    async def update_bot_data(self, data: dict[str, Any]) -> None:
        await self._store("bot", 0, deepcopy(data))

    async def update_callback_data(self, data: Any) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        self._written.pop(("chat", chat_id), None)
        await self.db.execute("DELETE FROM ptb_data WHERE kind = 'chat' AND id = ?", (chat_id,))

    async def drop_user_data(self, user_id: int) -> None:
        self._written.pop(("user", user_id), None)
        await self.db.execute("DELETE FROM ptb_data WHERE kind = 'user' AND id = ?", (user_id,))

    async def refresh_user_data(self, user_id: int, user_data: dict[str, Any]) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[str, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: dict[str, Any]) -> None:
        return None

    async def flush(self) -> None:
        return None
