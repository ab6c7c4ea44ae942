"""What the archive needs from Telegram: the bytes of a file by its ``file_id``. The edge implements it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Fetched:
    data: bytes
    #: Telegram's path of the file (``photos/file_3.jpg``): its extension when nothing better is known.
    path: str = ""


class FileGone(Exception):
    """Telegram says the file is not there (400/404): tried a few times, then given up; at once when ``final``
    (a file over the Bot API's 20 MB download limit never becomes downloadable)."""

    def __init__(self, message: str, *, final: bool = False) -> None:
        super().__init__(message)
        self.final = final


class FetchLater(Exception):
    """Telegram or the network failed for now (429, 5xx, a timeout): tried again later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Fetch(Protocol):
    async def __call__(self, file_id: str) -> Fetched:
        """The file's bytes; raises ``FileGone`` or ``FetchLater``."""
        ...


class NotConnected:
    """The fetch before the bot is connected to Telegram: everything waits."""

    async def __call__(self, file_id: str) -> Fetched:
        raise FetchLater("not connected to Telegram yet")
