"""The outbox's edge to Telegram: one Bot API call per row, with PTB's errors mapped to the outbox's."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from telegram import Bot, InputFile, InputMediaAudio, InputMediaDocument, InputMediaPhoto, InputMediaVideo
from telegram._utils.defaultvalue import DEFAULT_NONE, DefaultValue
from telegram._utils.types import JSONDict, ODVInput
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import ApplicationBuilder, ContextTypes, ExtBot, JobQueue
from telegram.warnings import PTBUserWarning

from bot.messaging import limits
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


#: What Sambang reads of a message it sent itself: its id and chat (to edit it, to know a reply to it), its date
#: and text. Telegram's answer repeats the rest of what was sent (the buttons, the entities of the HTML, the bot's
#: own user), and PTB would make an object of every button and entity of every answer for nothing: that cost more
#: than half of turning the answer into a ``Message``.
SENT_MESSAGE_FIELDS = frozenset({"message_id", "message_thread_id", "date", "edit_date", "chat", "text", "caption",
                                 "media_group_id"})


def _trimmed(message: JSONDict) -> JSONDict:
    return {key: value for key, value in message.items() if key in SENT_MESSAGE_FIELDS}


def _as_sent(result: bool | JSONDict | list[JSONDict]) -> bool | JSONDict | list[JSONDict]:
    """A message Telegram says was sent (or an album of them), with only ``SENT_MESSAGE_FIELDS``; any other answer
    (an update, a file, the bot's own user, a ``MessageId``) as it is."""
    if isinstance(result, dict) and "message_id" in result and "chat" in result:
        return _trimmed(result)
    if isinstance(result, list) and result and all(isinstance(item, dict) and "chat" in item for item in result):
        return [_trimmed(item) for item in result]
    return result


class SambangBot(ExtBot[Any]):  # the rate limiter takes Sambang's own ``rate_limit_args`` (``PLACE_HELD``)
    """The bot's one way to Telegram: every call (an answer, an edit, the outbox's sends) passes here, and here it
    is made to fit Telegram's limits (``bot.messaging.limits``): a long text goes as several messages, a long edit
    or caption is shortened with a pointer to the rest. A handler cannot send a message Telegram refuses as too long.

    A message the bot sent comes back with what Sambang reads of it (``SENT_MESSAGE_FIELDS``), not its buttons
    and entities, which the caller has already."""

    async def _do_post(
        self,
        endpoint: str,
        data: JSONDict,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> bool | JSONDict | list[JSONDict]:
        timeouts = {"read_timeout": read_timeout, "write_timeout": write_timeout, "connect_timeout": connect_timeout,
                    "pool_timeout": pool_timeout}
        calls = limits.fit(endpoint, data)
        if len(calls) == 1:
            return _as_sent(await super()._do_post(endpoint, calls[0][1], **timeouts))
        result: bool | JSONDict | list[JSONDict] | None = None
        for i, (method, params) in enumerate(calls):
            if i:
                self._extract_rl_kwargs(params)  # the sender held one place; later parts take their own
            answer = await super()._do_post(method, params, **timeouts)
            if method == endpoint:
                result = answer  # a split text answers with its last part, the one with the buttons
        assert result is not None  # ``limits.fit`` keeps the asked-for method among its calls
        return _as_sent(result)


class SambangApplicationBuilder(ApplicationBuilder[
    ExtBot[None], ContextTypes.DEFAULT_TYPE, dict[Any, Any], dict[Any, Any], dict[Any, Any],
    JobQueue[ContextTypes.DEFAULT_TYPE],
]):
    """PTB's builder, building a ``SambangBot`` (the same settings ``ApplicationBuilder`` gives its ``ExtBot``)."""

    def _build_ext_bot(self) -> ExtBot[Any]:
        if isinstance(self._token, DefaultValue):
            raise RuntimeError("No bot token was set.")
        return SambangBot(
            token=self._token,
            base_url=DefaultValue.get_value(self._base_url),
            base_file_url=DefaultValue.get_value(self._base_file_url),
            private_key=DefaultValue.get_value(self._private_key),
            private_key_password=DefaultValue.get_value(self._private_key_password),
            defaults=DefaultValue.get_value(self._defaults),
            arbitrary_callback_data=DefaultValue.get_value(self._arbitrary_callback_data),
            request=self._build_request(get_updates=False),
            get_updates_request=self._build_request(get_updates=True),
            rate_limiter=DefaultValue.get_value(self._rate_limiter),
            local_mode=DefaultValue.get_value(self._local_mode),
        )


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
            bot = self.bot
            if self._place_held and isinstance(bot, ExtBot):
                result = await bot.do_api_request(method, api_kwargs=kwargs, rate_limit_args=PLACE_HELD)
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
