"""Who is at the dashboard: Telegram's own login, verified as Telegram documents it, and the session it starts.

- The Login Widget (https://core.telegram.org/widgets/login#checking-authorization): the fields it sends
  (``id``, ``first_name``, ``last_name``, ``username``, ``photo_url``, ``auth_date``) sorted by name as ``key=value``
  lines are the data-check-string; ``hash`` is its HMAC-SHA-256, hex, keyed by the SHA-256 of the bot token.
- A Mini App's ``initData`` (https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app):
  every field but ``hash``, sorted, as ``key=value`` lines; the key is HMAC-SHA-256 of the token keyed by
  "WebAppData".

Either is refused when ``auth_date`` is more than 24 hours old (by the injectable clock) or lies in the future. A
session is a random token in a signed cookie; the database keeps its SHA-256, so logout and expiry end it on the
server whatever the browser still holds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

from bot.core.clock import Clock, from_iso, to_iso
from bot.storage.database import Database

MAX_AGE = timedelta(hours=24)
#: A clock a little ahead of ours is not an attack.
FUTURE_SLACK = timedelta(minutes=5)
SESSION_LIFETIME = timedelta(hours=12)
WIDGET_FIELDS = ("id", "first_name", "last_name", "username", "photo_url", "auth_date")


class LoginRefused(Exception):
    """The login data is not Telegram's, or too old; ``reason`` is for the log (never shown to the user)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TelegramLogin:
    telegram_id: int
    name: str
    via: str  # widget | webapp


def _check_age(auth_date: str | None, now: datetime) -> None:
    if not auth_date or not auth_date.isdigit():
        raise LoginRefused("auth_date missing")
    signed = datetime.fromtimestamp(int(auth_date), tz=now.tzinfo)
    if now - signed > MAX_AGE:
        raise LoginRefused("auth_date older than 24 hours")
    if signed - now > FUTURE_SLACK:
        raise LoginRefused("auth_date in the future")


def _data_check_string(fields: Mapping[str, str]) -> bytes:
    return "\n".join(f"{k}={fields[k]}" for k in sorted(fields)).encode("utf-8")


def widget_hash(fields: Mapping[str, str], token: str) -> str:
    """The hash the Login Widget sends with ``fields`` (every field it sent except ``hash``)."""
    secret = hashlib.sha256(token.encode("utf-8")).digest()
    return hmac.new(secret, _data_check_string(fields), hashlib.sha256).hexdigest()


def verify_widget(query: Mapping[str, str], token: str, now: datetime) -> TelegramLogin:
    """The person behind the Login Widget's redirect (``GET /auth/telegram?id=…&hash=…``)."""
    given = query.get("hash", "")
    fields = {k: v for k, v in query.items() if k in WIDGET_FIELDS}
    if not given or not hmac.compare_digest(widget_hash(fields, token), given.lower()):
        raise LoginRefused("widget hash does not match")
    _check_age(fields.get("auth_date"), now)
    if not fields.get("id", "").isdigit():
        raise LoginRefused("id missing")
    name = " ".join(p for p in (fields.get("first_name"), fields.get("last_name")) if p)
    return TelegramLogin(int(fields["id"]), name, "widget")


def webapp_hash(fields: Mapping[str, str], token: str) -> str:
    """The hash Telegram puts in a Mini App's ``initData`` with ``fields`` (every field except ``hash``)."""
    secret = hmac.new(b"WebAppData", token.encode("utf-8"), hashlib.sha256).digest()
    return hmac.new(secret, _data_check_string(fields), hashlib.sha256).hexdigest()


def verify_init_data(init_data: str, token: str, now: datetime) -> TelegramLogin:
    """The person a Mini App's ``initData`` (the query string Telegram hands the page) names."""
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise LoginRefused("initData unreadable") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise LoginRefused("initData repeats a field")
    given = fields.pop("hash", "")
    if not given or not hmac.compare_digest(webapp_hash(fields, token), given.lower()):
        raise LoginRefused("initData hash does not match")
    _check_age(fields.get("auth_date"), now)
    try:
        user = json.loads(fields.get("user", ""))
        telegram_id = int(user["id"])
    except (ValueError, KeyError, TypeError):
        raise LoginRefused("initData without a user") from None
    name = " ".join(str(user[k]) for k in ("first_name", "last_name") if user.get(k))
    return TelegramLogin(telegram_id, name, "webapp")


async def bot_username(db: Database) -> str:
    """The bot's @username as the running bot last recorded it (the Login Widget needs it); empty before that."""
    return str(await db.fetchval("SELECT value FROM app_state WHERE key = 'bot_username'") or "")


def cookie_secret(token: str) -> str:
    """The key that signs the session cookie: derived from the bot token, so it survives restarts and a new token
    ends every session."""
    return hmac.new(b"SambangDashboardCookie", token.encode("utf-8"), hashlib.sha256).hexdigest()


def _digest(session_token: str) -> str:
    return hashlib.sha256(session_token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Session:
    telegram_id: int
    expires_at: datetime


class Sessions:
    """Dashboard sessions in SQLite (``web_sessions``)."""

    def __init__(self, db: Database, clock: Clock, lifetime: timedelta = SESSION_LIFETIME) -> None:
        self.db = db
        self.clock = clock
        self.lifetime = lifetime

    async def start(self, login: TelegramLogin) -> str:
        """A new session for ``login``; the token goes into the (signed) cookie."""
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO web_sessions(id, telegram_id, via, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (_digest(token), login.telegram_id, login.via, to_iso(now), to_iso(now + self.lifetime)))
            # sessions long over are of no use to anyone
            await tx.execute("DELETE FROM web_sessions WHERE expires_at < ?", (to_iso(now - timedelta(days=30)),))
        return token

    async def find(self, token: str) -> Session | None:
        row = await self.db.fetchone(
            "SELECT telegram_id, expires_at FROM web_sessions WHERE id = ? AND ended_at IS NULL AND expires_at > ?",
            (_digest(token), to_iso(self.clock.now())))
        return Session(row["telegram_id"], from_iso(row["expires_at"])) if row else None

    async def end(self, token: str) -> None:
        await self.db.execute("UPDATE web_sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL",
                              (to_iso(self.clock.now()), _digest(token)))
