"""Telegram's length limits, applied to every Bot API call the bot makes (its answers and the outbox alike).

A text longer than one message is sent as several messages (cut between paragraphs, lines or words, the HTML kept
valid in each; the keyboard under the last one). An edit cannot become two messages, so an edited text that is too
long is shortened with a note that it was cut. A caption longer than Telegram allows is shortened with a pointer,
and the whole caption follows as a message of its own.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from html import unescape
from typing import Any, TypeGuard

from bot.messaging.templates import render, shorten, split_text, u16len, visible_len

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
#: Methods that send one file with a caption.
CAPTION_METHODS = frozenset({"sendPhoto", "sendDocument", "sendVideo", "sendAudio", "sendAnimation", "sendVoice",
                             "copyMessage"})
#: Whatever a follow-up message carries over from the call it follows.
_FOLLOW_KEYS = ("chat_id", "message_thread_id", "parse_mode", "business_connection_id", "disable_notification",
                "protect_content")

Call = tuple[str, dict[str, Any]]


def _html(params: Mapping[str, Any]) -> bool:
    return str(params.get("parse_mode") or "").upper() == "HTML"


def _pointer(template: str, html: bool) -> str:
    text = render(f"notice/{template}")
    return text if html else unescape(re.sub(r"<[^>]+>", "", text))


def _follow_up(params: Mapping[str, Any], text: str) -> list[Call]:
    follow = {k: params[k] for k in _FOLLOW_KEYS if k in params}
    follow["text"] = text
    follow["link_preview_options"] = {"is_disabled": True}
    return fit("sendMessage", follow)


def _caption(item: Any) -> Any:
    return item.get("caption") if isinstance(item, Mapping) else getattr(item, "caption", None)


def _with_caption(item: Any, caption: str) -> Any:
    if isinstance(item, Mapping):
        return {**item, "caption": caption}
    item = copy.copy(item)  # python-telegram-bot's InputMedia: frozen once made
    with item._unfrozen():
        item.caption = caption
    return item


def one_message(render_with: Callable[[str], str], value: str, pointer: str, limit: int = TEXT_LIMIT) -> str:
    """``render_with(value)`` if that fits in one message; else rendered with ``value`` cut short (at a word) and
    ``pointer`` (where to read the rest) after it. For messages that are edited later, such as the officials' card,
    and so must stay one message."""
    text = render_with(value)
    over = visible_len(text) - limit
    if over <= 0:
        return text
    keep = u16len(value) - over - u16len(pointer) - 2
    cut, size = [], 0
    for char in value:
        size += u16len(char)
        if size > keep:
            break
        cut.append(char)
    short = "".join(cut)
    if " " in short[len(short) // 2:]:
        short = short.rsplit(" ", 1)[0]
    return render_with(f"{short.rstrip()}… {pointer}")


def _over(text: object, limit: int, html: bool) -> TypeGuard[str]:
    """True if ``text`` is longer than ``limit`` as Telegram counts it (the cheap raw length first)."""
    return isinstance(text, str) and len(text) > limit // 2 and u16len(text) > limit \
        and visible_len(text, html=html) > limit


def fit(method: str, params: Mapping[str, Any]) -> list[Call]:
    """The Bot API calls that do what ``method`` with ``params`` does within Telegram's limits — usually just that
    one call, unchanged."""
    params = dict(params)
    html = _html(params)
    text = params.get("text")
    if method == "sendMessage" and _over(text, TEXT_LIMIT, html) and not params.get("entities"):
        parts = split_text(text, TEXT_LIMIT, html=html)
        calls: list[Call] = []
        for i, part in enumerate(parts):
            call = {**params, "text": part}
            if i < len(parts) - 1:
                call.pop("reply_markup", None)  # the buttons go under the last part
            if i > 0:
                call.pop("reply_parameters", None)
                call.pop("reply_to_message_id", None)
            calls.append((method, call))
        return calls
    if method == "editMessageText" and _over(text, TEXT_LIMIT, html) and not params.get("entities"):
        params["text"] = shorten(text, TEXT_LIMIT, _pointer("text_cut", html), html=html)
        return [(method, params)]
    caption = params.get("caption")
    if (method in CAPTION_METHODS or method == "editMessageCaption") and _over(caption, CAPTION_LIMIT, html) \
            and not params.get("caption_entities"):
        if method == "editMessageCaption":
            params["caption"] = shorten(caption, CAPTION_LIMIT, _pointer("text_cut", html), html=html)
            return [(method, params)]
        params["caption"] = shorten(caption, CAPTION_LIMIT, _pointer("caption_continued", html), html=html)
        return [(method, params), *_follow_up(params, caption)]
    if method == "sendMediaGroup" and isinstance(params.get("media"), list | tuple):
        media, cut, cut_html = [], [], False
        for item in params["media"]:
            caption = _caption(item)
            mode = item.get("parse_mode") if isinstance(item, Mapping) else getattr(item, "parse_mode", None)
            item_html = str(mode or "").upper() == "HTML"
            if _over(caption, CAPTION_LIMIT, item_html):
                item = _with_caption(item, shorten(caption, CAPTION_LIMIT, _pointer("caption_continued", item_html),
                                                   html=item_html))
                cut.append(caption)
                cut_html = cut_html or item_html
            media.append(item)
        if not cut:
            return [(method, params)]
        params["media"] = media
        follow = {k: v for k, v in params.items() if k != "parse_mode"}
        if cut_html:
            follow["parse_mode"] = "HTML"
        return [(method, params), *_follow_up(follow, "\n\n".join(cut))]
    return [(method, params)]
