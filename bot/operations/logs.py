"""Structured logs with personal data masked: phone numbers, NIK and names never reach the log in clear.

Three layers, applied by one filter on the handler (so records of every logger, PTB's included, pass through it):

1. the names of the people the bot knows — everyone in the roster, and every Telegram user it hears from — are
   replaced wherever they appear (``remember_name``), whole and word by word;
2. name-like fields of Telegram objects (``first_name``, ``last_name``, ``username``, ``full_name``, ...) are
   masked whatever their value, in Python reprs and JSON alike;
3. lokal-id's ``SamaranFilter`` masks phone numbers, NIK, e-mail addresses and the names it recognises.

Code logs ids, tickets and actions, not what people write; this filter is the safety net for the rest.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import unicodedata
from datetime import UTC, datetime
from typing import Any, TextIO

import pythonjsonlogger.json
from lokal.samaran.logging import SamaranFilter

NAME_MASK = "[nama]"
#: Words that are part of how people are addressed or described, never worth masking on their own.
_NOT_NAMES = frozenset({
    "admin", "bapak", "ibu", "pak", "bu", "mbah", "kepala", "desa", "camat", "kecamatan", "bupati", "wakil",
    "sekda", "dinas", "kabupaten", "kantor", "pejabat", "pimpinan", "sambang", "telegram", "none", "null", "true",
    "false", "user", "chat", "update", "message", "private", "group", "supergroup", "channel", "error", "info",
})
_FIELD_RE = re.compile(
    r"""(?P<key>\b(?:first_name|last_name|full_name|username|name|title|vcard|phone_number)\b["']?\s*[:=]\s*)"""
    r"""(?P<q>["'])(?P<value>(?:\\.|(?!(?P=q)).)*)(?P=q)"""
)


class _NameRegistry:
    """Names to mask, kept in memory only; the pattern is rebuilt lazily when names are added."""

    def __init__(self) -> None:
        self._names: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, name: str | None) -> None:
        if not name:
            return
        text = unicodedata.normalize("NFC", name).strip()
        if not text:
            return
        words = [w for w in re.split(r"[\s,.;:()\"']+", text) if len(w) >= 3]
        candidates = set(words)
        if any(w.lower() not in _NOT_NAMES for w in words):
            candidates.add(text)
        fresh = {c for c in candidates if c.lower() not in _NOT_NAMES and not c.isdigit() and len(c) >= 3}
        with self._lock:
            if fresh - self._names:
                self._names |= fresh
                self._pattern = None

    def clear(self) -> None:
        with self._lock:
            self._names.clear()
            self._pattern = None

    def pattern(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._names:
                alternatives = sorted(self._names, key=len, reverse=True)  # longest first: whole names win
                self._pattern = re.compile(
                    r"(?<!\w)(?:" + "|".join(re.escape(n) for n in alternatives) + r")(?!\w)", re.IGNORECASE
                )
            return self._pattern


NAMES = _NameRegistry()


def remember_name(*names: str | None) -> None:
    """Mask these people's names in every later log line."""
    for name in names:
        NAMES.add(name)


_TOKEN_RE = re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{8,}")
#: Exact secrets (the configured bot token) masked whatever their shape, e.g. a short token the pattern misses.
_SECRETS: set[str] = set()


def hide_secret(*secrets: str | None) -> None:
    """Never write these strings to the log (nor in the one-line errors that pass through ``mask_text``)."""
    for secret in secrets:
        if not secret or len(secret) < 4:
            continue
        _SECRETS.add(secret)
        half = secret.split(":", 1)[1] if ":" in secret else ""
        if len(half) >= 8:  # a bot token's secret half alone is as sensitive as the whole
            _SECRETS.add(half)


def mask_text(text: str) -> str:
    """Bot tokens, known names and name-like fields masked (SamaranFilter does the rest)."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "<token>")
    text = _TOKEN_RE.sub("<token>", text)
    text = _FIELD_RE.sub(lambda m: f"{m.group('key')}{m.group('q')}***{m.group('q')}", text)
    pattern = NAMES.pattern()
    if pattern is not None:
        text = pattern.sub(NAME_MASK, text)
    return text


class PrivacyFilter(SamaranFilter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not logging.Filter.filter(self, record):
            return False
        message = mask_text(record.getMessage())
        record.msg = self._mask(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._mask(mask_text(record.exc_text))
        if record.stack_info:
            record.stack_info = self._mask(mask_text(record.stack_info))
        return True


class JsonFormatter(pythonjsonlogger.json.JsonFormatter):
    """One JSON object per line: ``ts`` (UTC, milliseconds), ``level``, ``logger``, ``msg`` and, after an error,
    ``exc``.

    python-json-logger does the JSON (a well-kept formatter); the masking stays in ``PrivacyFilter``, which runs
    first. Two things keep that filter the last word: the traceback written is the masked ``exc_text`` the filter
    left, never one formatted afresh from ``exc_info``; and only the fields above are written, never a record's
    ``extra=`` attributes (the library's default), which the filter does not see.
    """

    FIELDS = ("ts", "level", "logger", "msg", "exc")

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "ts", "levelname": "level", "name": "logger", "message": "msg",
                           "exc_info": "exc"},
            json_ensure_ascii=False,
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and record.exc_text:  # the library would format exc_info again, unmasked
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None})
        return super().format(record)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in log_data.items() if key in self.FIELDS}


def make_handler(stream: TextIO | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(PrivacyFilter())
    return handler


def configure(level: str = "INFO") -> None:
    root = logging.getLogger()
    root.handlers[:] = [make_handler()]
    root.setLevel(level.upper() if isinstance(level, str) else level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # With max_retries=0 it logs every 429 as an error; the outbox retries and logs those itself.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
