"""Where the archive lives: ``SAMBANG_MEDIA_DIR``, by default ``media/`` beside the database."""

from __future__ import annotations

from pathlib import Path

from bot.config import Config, ConfigError


def media_dir(config: Config) -> Path:
    """The archive folder; a ``ConfigError`` naming SAMBANG_MEDIA_DIR when it is a file."""
    raw = (config.extra.get("SAMBANG_MEDIA_DIR") or "").strip()
    folder = Path(raw) if raw else config.db_path.parent / "media"
    if folder.exists() and not folder.is_dir():
        raise ConfigError("SAMBANG_MEDIA_DIR", "not_a_folder", path=folder)
    return folder
