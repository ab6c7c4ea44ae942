"""The archive's edge to Telegram: a file's bytes by its ``file_id`` (``getFile``, then the file URL, which PTB
builds from ``base_file_url``), with PTB's errors mapped to the archive's "gone" and "later"."""

from __future__ import annotations

from telegram import Bot
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError

from bot.media.fetch import Fetched, FetchLater, FileGone

#: Seconds a download may wait for the next bytes (a 20 MB file on a village's mobile link is slow).
DOWNLOAD_READ_TIMEOUT = 120.0


class TelegramFetch:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def __call__(self, file_id: str) -> Fetched:
        try:
            file = await self.bot.get_file(file_id)
        except BadRequest as exc:  # "invalid file_id", "wrong file_id or the file is temporarily unavailable": gone
            # after a few such answers; "file is too big" (over 20 MB, the public Bot API's limit) at once
            raise FileGone(exc.message, final="too big" in exc.message.lower()) from None
        except RetryAfter as exc:
            retry = exc.retry_after
            raise FetchLater(exc.message, retry.total_seconds() if not isinstance(retry, int) else retry) from None
        except TelegramError as exc:  # 5xx, timeouts, the network (and 401/403: the bot's own trouble)
            raise FetchLater(exc.message) from None
        try:
            data = await file.download_as_bytearray(read_timeout=DOWNLOAD_READ_TIMEOUT)
        except (BadRequest, InvalidToken, Forbidden) as exc:  # 404 on the file URL: the file is not there
            raise FileGone(exc.message) from None
        except TelegramError as exc:
            raise FetchLater(exc.message) from None
        return Fetched(bytes(data), (file.file_path or "").rsplit("/", 1)[-1])  # the name only: the URL holds the token
