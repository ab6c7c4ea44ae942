"""The outbox's edge to Telegram: one Bot API call per row, with PTB's errors mapped to the outbox's."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from telegram import Bot, InputFile, InputMediaAudio, InputMediaDocument, InputMediaPhoto, InputMediaVideo
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import ExtBot
from telegram.warnings import PTBUserWarning

from bot.messaging.outbox import ChatUnreachable, PermanentError, RetryLater, TransientError
from bot.telegram.pacing import PLACE_HELD, SlidingWindowRateLimiter

# The outbox stores plain Bot API calls and sends them generically on purpose.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.", category=PTBUserWarning)

#: Parameter that carries the uploaded file for each upload method.
UPLOAD_FIELD = {"sendDocument": "document", "sendPhoto": "photo"}
_UNREACHABLE = ("chat not found", "user is deactivated", "bot was kicked", "have no rights to send",
                "not enough rights", "group chat was upgraded", "chat_write_forbidden")


_INPUT_MEDIA = {"photo": InputMediaPhoto, "document": InputMediaDocument, "video": InputMediaVideo,
                "audio": InputMediaAudio}


def _input_media(item: Any) -> Any:
    """An album item stored as a plain dict becomes PTB's InputMedia (PTB's defaults handling expects those)."""
    if not isinstance(item, Mapping) or item.get("type") not in _INPUT_MEDIA:
        return item
    extra = {k: item[k] for k in ("caption", "parse_mode") if k in item}
    return _INPUT_MEDIA[item["type"]](media=item["media"], **extra)


class TelegramTransport:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        # the application's bot: the outbox sender holds each send's place in the shared window itself
        self._place_held = isinstance(bot, ExtBot) and isinstance(bot.rate_limiter, SlidingWindowRateLimiter)

    async def send(
        self, chat_id: int, method: str, params: Mapping[str, Any], upload: bytes | None, upload_name: str | None
    ) -> int | None:
        kwargs = dict(params)
        if method == "sendMediaGroup" and isinstance(kwargs.get("media"), list):
            kwargs["media"] = [_input_media(item) for item in kwargs["media"]]
        if upload is not None:
            kwargs[UPLOAD_FIELD.get(method, "document")] = InputFile(upload, filename=upload_name or "berkas")
        try:
            if self._place_held:
                result = await self.bot.do_api_request(method, api_kwargs=kwargs, rate_limit_args=PLACE_HELD)
            else:
                result = await self.bot.do_api_request(method, api_kwargs=kwargs)
        except RetryAfter as exc:
            retry = exc.retry_after
            raise RetryLater(retry if isinstance(retry, int | float) else retry.total_seconds()) from exc
        except Forbidden as exc:
            raise ChatUnreachable(exc.message) from exc
        except BadRequest as exc:
            if any(marker in exc.message.lower() for marker in _UNREACHABLE):
                raise ChatUnreachable(exc.message) from exc
            if "message is not modified" in exc.message.lower():
                return None
            raise PermanentError(exc.message) from exc
        except (TimedOut, NetworkError) as exc:
            raise TransientError(str(exc)) from exc
        except TelegramError as exc:
            raise TransientError(str(exc)) from exc
        if isinstance(result, list) and result and isinstance(result[0], dict):
            return result[0].get("message_id")
        if isinstance(result, dict):
            return result.get("message_id")
        return None
