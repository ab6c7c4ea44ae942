"""Operations settings (webhook, backups, flood limit), read from the ``SAMBANG_*`` variables the configuration keeps.

Kept apart from ``bot.config`` so that the operations features add their variables without touching the shared
configuration; every problem is still a ``ConfigError`` naming the variable (one line, exit code 2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

from bot.config import Config, ConfigError


@dataclass(frozen=True)
class OpsSettings:
    #: Telegram's X-Telegram-Bot-Api-Secret-Token for webhook mode ("" = generate one at start).
    webhook_secret: str = ""
    #: Folder of the daily backups.
    backup_dir: Path = Path("data/backups")
    #: How many daily backups to keep.
    backup_keep: int = 14
    #: Local time of the daily backup; None turns it off.
    backup_time: time | None = time(2, 0)
    #: Messages and button presses a user may send in a burst before the flood limit answers.
    rate_burst: int = 20
    #: Sustained messages a minute per user.
    rate_per_minute: float = 40.0


def _int(variable: str, raw: str, minimum: int) -> int:
    if not re.fullmatch(r"\d+", raw.strip()):
        raise ConfigError(variable, "not_an_integer", raw=raw)
    value = int(raw)
    if value < minimum:
        raise ConfigError(variable, "below_minimum", minimum=minimum)
    return value


def ops_settings(config: Config) -> OpsSettings:
    env = {k: v.strip() for k, v in config.extra.items() if v is not None}

    def get(name: str) -> str | None:
        value = env.get(name)
        return value or None

    kwargs: dict[str, Any] = {}  # the settings found, by field name
    if (raw := get("SAMBANG_WEBHOOK_SECRET")) is not None:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", raw):
            raise ConfigError("SAMBANG_WEBHOOK_SECRET", "secret_characters")
        kwargs["webhook_secret"] = raw
    backup_dir = Path(get("SAMBANG_BACKUP_DIR") or config.db_path.parent / "backups")
    if backup_dir.exists() and not backup_dir.is_dir():
        raise ConfigError("SAMBANG_BACKUP_DIR", "not_a_folder", path=backup_dir)
    kwargs["backup_dir"] = backup_dir
    if (raw := get("SAMBANG_BACKUP_KEEP")) is not None:
        kwargs["backup_keep"] = _int("SAMBANG_BACKUP_KEEP", raw, 1)
    if (raw := get("SAMBANG_BACKUP_TIME")) is not None:
        if raw.lower() in ("off", "mati", "0", "no", "tidak"):
            kwargs["backup_time"] = None
        else:
            m = re.fullmatch(r"(\d{1,2})[:.](\d{2})", raw)
            if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
                raise ConfigError("SAMBANG_BACKUP_TIME", "backup_time_invalid", raw=raw)
            kwargs["backup_time"] = time(int(m.group(1)), int(m.group(2)))
    if (raw := get("SAMBANG_RATE_LIMIT_BURST")) is not None:
        kwargs["rate_burst"] = _int("SAMBANG_RATE_LIMIT_BURST", raw, 1)
    if (raw := get("SAMBANG_RATE_LIMIT_PER_MINUTE")) is not None:
        try:
            per_minute = float(raw)
        except ValueError:
            raise ConfigError("SAMBANG_RATE_LIMIT_PER_MINUTE", "not_a_number", raw=raw) from None
        if per_minute <= 0:
            raise ConfigError("SAMBANG_RATE_LIMIT_PER_MINUTE", "not_positive")
        kwargs["rate_per_minute"] = per_minute
    return OpsSettings(**kwargs)
