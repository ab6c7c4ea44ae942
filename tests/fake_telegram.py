"""In-process fake of the Telegram Bot API for end-to-end tests.

Why this exists: the end-to-end tests run the *real* ``telegram.ext.Application`` (polling, handlers,
rate limiter, job queue) and only swap the network edge.  Mocking ``Bot`` methods would skip PTB's
request serialisation, its error mapping (``RetryAfter``, ``Forbidden``, ``BadRequest``) and the polling
loop, which is exactly where production bugs hide.  So this module serves the Bot API over HTTP on
127.0.0.1 and answers like Telegram does, including the errors Telegram is strict about (malformed HTML,
"message is not modified", oversized callback data, rate limits).

Usage::

    server = FakeTelegram(token="123:TEST")
    await server.start()
    app = (ApplicationBuilder().token(server.token)
           .base_url(server.base_url).base_file_url(server.base_file_url).build())
    ...
    budi = server.user(1001, "Budi")
    budi.send("/start")
    call = await server.wait_for_text(budi.id, "Selamat datang")
    budi.press_button("Lanjut")
    await server.wait_idle()
    ...
    await server.stop()

Everything runs on the test's event loop; the simulated-user methods are plain synchronous functions
that enqueue updates (the bot picks them up through ``getUpdates``).

Known simplifications: only ``parse_mode=HTML`` is parsed (and validated like Telegram does);
Markdown/MarkdownV2 text is stored verbatim.  A media group counts as one message for rate limiting.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import mimetypes
import random
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

__all__ = [
    "BOT_ID",
    "BOT_USERNAME",
    "Call",
    "FakeFile",
    "FakeGroup",
    "FakeTelegram",
    "FakeUser",
    "HtmlParseError",
    "UploadedFile",
    "Violation",
    "render_html",
]

JSON = dict[str, Any]

BOT_ID = 999000
BOT_FIRST_NAME = "Sambang"
BOT_USERNAME = "sambang_test_bot"

#: Limits enforced by the real Bot API (in UTF-16 code units after entity parsing).
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_UPLOAD_BYTES = 50 * 1024 * 1024

#: Parameters PTB sends as JSON strings inside form fields.
JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "media",
        "commands",
        "allowed_updates",
        "scope",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
        "options",
        "explanation_entities",
        "question_entities",
        "results",
        "prices",
        "message_ids",
        "reaction",
        "menu_button",
        "permissions",
    }
)

#: Parameters that are always strings even if they look like numbers or booleans.
TEXT_PARAMS = frozenset(
    {
        "text",
        "caption",
        "title",
        "address",
        "description",
        "short_description",
        "question",
        "data",
        "callback_data",
        "callback_query_id",
        "inline_message_id",
        "inline_query_id",
        "query",
        "url",
        "file_id",
        "photo",
        "document",
        "video",
        "audio",
        "voice",
        "sticker",
        "animation",
        "video_note",
        "thumbnail",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "parse_mode",
        "emoji",
        "name",
        "foursquare_id",
        "foursquare_type",
        "google_place_id",
        "google_place_type",
        "secret_token",
        "ip_address",
        "language_code",
        "action",
        "business_connection_id",
        "message_effect_id",
        "explanation",
        "payload",
        "currency",
        "provider_token",
        "start_parameter",
        "custom_emoji_id",
        "certificate",
        "username",
        "sticker_set_name",
        "invite_link",
        "media_group_id",
    }
)

#: Methods whose only sensible answer is ``true`` and that we recognise (not "unknown").
TRUE_METHODS = frozenset(
    {
        "sendChatAction",
        "pinChatMessage",
        "unpinChatMessage",
        "unpinAllChatMessages",
        "leaveChat",
        "setChatMenuButton",
        "setMyDescription",
        "setMyShortDescription",
        "setMyName",
        "setMessageReaction",
        "answerInlineQuery",
        "setMyDefaultAdministratorRights",
        "deleteMessages",
        "banChatMember",
        "unbanChatMember",
        "restrictChatMember",
    }
)

#: Message-producing methods that count against Telegram's flood limits.
RATE_LIMITED_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendLocation",
        "sendVenue",
        "sendMediaGroup",
        "sendVideo",
        "sendAudio",
        "sendVoice",
        "sendAnimation",
        "sendSticker",
        "sendVideoNote",
        "sendContact",
        "sendPoll",
        "sendDice",
        "copyMessage",
        "forwardMessage",
    }
)

ViolationKind = Literal["global", "private_chat", "group"]


# --------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A multipart file part as the bot uploaded it (``field`` is the form field / attach name)."""

    field: str
    filename: str
    content: bytes
    content_type: str | None = None

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(slots=True)
class Call:
    """One Bot API request, recorded after it was answered.

    ``result`` is the Bot API ``result`` (``None`` if the call failed; then ``status``/``error`` say why).
    ``messages`` are the Message dicts the call produced (sent or edited), which is what ``sent()`` and
    ``texts()`` look at; e.g. ``copyMessage`` returns only a MessageId but still produced a message.
    """

    method: str
    params: JSON
    files: dict[str, UploadedFile]
    chat_id: int | None
    at: float
    result: Any
    status: int = 200
    error: str | None = None
    messages: list[JSON] = field(default_factory=list)
    index: int = -1
    known: bool = True

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def message(self) -> JSON | None:
        """The (first) message this call produced, if any."""
        return self.messages[0] if self.messages else None

    @property
    def text(self) -> str | None:
        """Rendered text or caption of the produced message, else the raw ``text``/``caption`` param."""
        for msg in self.messages:
            value = msg.get("text", msg.get("caption"))
            if value is not None:
                return value
        value = self.params.get("text", self.params.get("caption"))
        return value if isinstance(value, str) else None

    @property
    def buttons(self) -> list[str]:
        """Texts of the inline buttons attached to the produced message."""
        return _inline_button_texts(self.message) if self.message else []

    def describe(self) -> str:
        """One line for assertion messages."""
        status = "" if self.ok else f" -> {self.status} {self.error}"
        text = self.text
        shown = f" {_shorten(text)!r}" if text else ""
        buttons = f" buttons={self.buttons}" if self.buttons else ""
        return f"#{self.index} {self.method}(chat={self.chat_id}){shown}{buttons}{status}"


@dataclass(frozen=True, slots=True)
class Violation:
    """A send that Telegram would have throttled (see FakeTelegram's rate-limit accounting)."""

    kind: ViolationKind
    chat_id: int | None
    method: str
    at: float
    detail: str
    enforced: bool = False


@dataclass(slots=True)
class FakeFile:
    """A file Telegram "stores": downloadable via getFile + /file/bot<token>/<file_path>."""

    file_id: str
    file_unique_id: str
    file_path: str
    size: int
    obj: JSON
    content: bytes | None = None

    def data(self) -> bytes:
        """File bytes; generated lazily for simulated user files so big fake files cost nothing."""
        if self.content is None:
            self.content = _fake_bytes(self.file_path, self.size)
        return self.content


@dataclass(frozen=True, slots=True)
class FakeGroup:
    """A group chat that simulated users can talk in (``u.send(..., chat=group)``)."""

    id: int
    title: str
    type: str = "supergroup"

    @property
    def chat(self) -> JSON:
        return {"id": self.id, "type": self.type, "title": self.title}


@dataclass(slots=True)
class _FailRule:
    method: str  # lower-case method name or "*"
    status: int
    retry_after: int
    remaining: int
    chat_id: int | None
    description: str | None
    drop: bool = False

    def matches(self, method: str, chat_id: int | None) -> bool:
        if self.method == "*":
            if method == "getUpdates":
                return False
        elif self.method != method.lower():
            return False
        return self.chat_id is None or self.chat_id == chat_id


@dataclass(slots=True)
class _Waiter:
    predicate: Callable[[Call], bool]
    future: asyncio.Future[Call]
    chat_id: int | None
    since: int


class ApiError(Exception):
    """Raised by method implementations; becomes ``{"ok": false, ...}`` with the given HTTP status."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------


def _u16(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram uses for entity offsets and limits."""
    return len(text.encode("utf-16-le")) // 2


def _shorten(text: str, limit: int = 90) -> str:
    text = text.replace("\n", "⏎")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fake_bytes(path: str, size: int) -> bytes:
    header = b"\xff\xd8\xff\xe0" if path.endswith(".jpg") else b"%PDF-1.4\n" if path.endswith(".pdf") else b""
    header = header[:size]
    return header + b"\0" * (size - len(header))


def _inline_buttons(message: JSON | None) -> list[JSON]:
    if not message:
        return []
    markup = message.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def _inline_button_texts(message: JSON | None) -> list[str]:
    return [str(button.get("text")) for button in _inline_buttons(message)]


def _without_reply(message: JSON) -> JSON:
    """Telegram never nests reply_to_message more than one level deep."""
    return {key: value for key, value in message.items() if key != "reply_to_message"}


_INT_RE = re.compile(r"-?\d+")
_FLOAT_RE = re.compile(r"-?\d+\.\d*(?:[eE][-+]?\d+)?")
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,64})?")


def _decode_param(key: str, value: str) -> Any:
    """Turn a form value back into what the bot passed to PTB (which JSON-dumps non-strings)."""
    if key in JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    if key in TEXT_PARAMS:
        return value
    if value in ("true", "false"):
        return value == "true"
    if _INT_RE.fullmatch(value):
        return int(value)
    if _FLOAT_RE.fullmatch(value):
        return float(value)
    return value


# --------------------------------------------------------------------------------------------------
# Telegram-flavoured HTML
# --------------------------------------------------------------------------------------------------


class HtmlParseError(ValueError):
    """Raised for HTML Telegram would reject with "can't parse entities"."""


_HTML_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_SPECIAL = re.compile(r"[<&]")
_HTML_ENTITY_RE = re.compile(r"&(#x[0-9A-Fa-f]{1,6}|#[0-9]{1,7}|[A-Za-z]{2,8});")


@dataclass(slots=True)
class _OpenTag:
    name: str
    offset: int
    out_index: int
    attrs: dict[str, str]
    language: str | None = None


def _decode_entities(text: str) -> str:
    def repl(match: re.Match[str]) -> str:
        body = match.group(1)
        if body.startswith("#x"):
            return chr(int(body[2:], 16))
        if body.startswith("#"):
            return chr(int(body[1:]))
        return _NAMED_HTML_ENTITIES.get(body, match.group(0))

    return _HTML_ENTITY_RE.sub(repl, text)


def render_html(source: str) -> tuple[str, list[JSON]]:
    """Parse Telegram's HTML subset like tdlib does: return (plain text, entities) or raise HtmlParseError.

    Unsupported tags (``<br>``, ``<p>``, ``<div>``), a bare ``<``, unclosed or mismatched tags are errors;
    unknown ``&entities;`` stay literal.  Offsets/lengths are in UTF-16 code units.
    """
    out: list[str] = []
    offset = 0
    stack: list[_OpenTag] = []
    entities: list[JSON] = []
    i, n = 0, len(source)

    def byte_offset(pos: int) -> int:
        return len(source[:pos].encode())

    def emit(chunk: str) -> None:
        nonlocal offset
        out.append(chunk)
        offset += _u16(chunk)

    while i < n:
        ch = source[i]
        if ch == "&":
            match = _HTML_ENTITY_RE.match(source, i)
            decoded = _decode_entities(match.group(0)) if match else "&"
            if match and decoded != match.group(0):
                emit(decoded)
                i = match.end()
            else:
                emit("&")
                i += 1
            continue
        if ch != "<":
            special = _HTML_SPECIAL.search(source, i)
            end = special.start() if special else n
            emit(source[i:end])
            i = end
            continue
        begin = i
        if source.startswith("</", i):
            end = source.find(">", i)
            if end < 0:
                raise HtmlParseError(f"Unclosed end tag at byte offset {byte_offset(begin)}")
            name = source[i + 2 : end].strip().lower()
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {byte_offset(begin)}")
            tag = stack.pop()
            if name != tag.name:
                raise HtmlParseError(
                    f'Unmatched end tag at byte offset {byte_offset(begin)}, expected "</{tag.name}>", '
                    f'found "</{name}>"'
                )
            _close_html_tag(tag, offset, out, stack, entities)
            i = end + 1
            continue
        j = i + 1
        while j < n and not source[j].isspace() and source[j] != ">":
            j += 1
        if j >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        name = source[i + 1 : j].lower()
        if name not in _HTML_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {byte_offset(begin)}')
        attrs, j = _parse_html_attrs(source, j, byte_offset(begin))
        if name == "span" and not attrs.get("class", "").startswith("tg-spoiler"):
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}')
        stack.append(_OpenTag(name=name, offset=offset, out_index=len(out), attrs=attrs))
        i = j
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _parse_html_attrs(source: str, i: int, begin_byte: int) -> tuple[dict[str, str], int]:
    """Parse attributes after the tag name; return them and the index just past ``>``."""
    attrs: dict[str, str] = {}
    n = len(source)
    while True:
        while i < n and source[i].isspace():
            i += 1
        if i >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {begin_byte}")
        if source[i] == ">":
            return attrs, i + 1
        start = i
        while i < n and not source[i].isspace() and source[i] not in "=>":
            i += 1
        name = source[start:i].lower()
        while i < n and source[i].isspace():
            i += 1
        if i >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {begin_byte}")
        if source[i] != "=":
            attrs[name] = ""
            continue
        i += 1
        while i < n and source[i].isspace():
            i += 1
        if i >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {begin_byte}")
        if source[i] in "\"'":
            quote = source[i]
            end = source.find(quote, i + 1)
            if end < 0:
                raise HtmlParseError(f"Unclosed start tag at byte offset {begin_byte}")
            attrs[name] = _decode_entities(source[i + 1 : end])
            i = end + 1
        else:
            start = i
            while i < n and not source[i].isspace() and source[i] != ">":
                i += 1
            attrs[name] = _decode_entities(source[start:i])


def _close_html_tag(tag: _OpenTag, offset: int, out: list[str], stack: list[_OpenTag], entities: list[JSON]) -> None:
    css_class = tag.attrs.get("class", "")
    if tag.name == "code" and stack and stack[-1].name == "pre" and css_class.startswith("language-"):
        stack[-1].language = css_class.removeprefix("language-")
        return
    length = offset - tag.offset
    if length <= 0:
        return
    entity: JSON = {"type": _HTML_TAGS[tag.name], "offset": tag.offset, "length": length}
    if tag.name == "a":
        entity["url"] = tag.attrs.get("href") or "".join(out[tag.out_index :])
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attrs.get("emoji-id", "")
    elif tag.name == "pre" and tag.language:
        entity["language"] = tag.language
    elif tag.name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    entities.append(entity)


def _strip_with_entities(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Telegram trims leading/trailing whitespace of texts and captions; keep entities consistent."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = _u16(text[: len(text) - len(text.lstrip())])
    total = _u16(stripped)
    result = []
    for entity in entities:
        start = max(int(entity["offset"]) - lead, 0)
        end = min(int(entity["offset"]) + int(entity["length"]) - lead, total)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result


# --------------------------------------------------------------------------------------------------
# Simulated user
# --------------------------------------------------------------------------------------------------


_OWN = object()  # sentinel: "the contact is the sending user"

MessageRef = Any  # a Message dict, an update dict, a Call, or a message_id (int)


class FakeUser:
    """A human talking to the bot.  Every method enqueues one realistic update and returns it.

    ``chat`` (a FakeGroup or chat id) lets the user speak in a group instead of the private chat.
    Messages the user sends are stored, so they can later be replied to or edited.
    """

    def __init__(
        self,
        server: FakeTelegram,
        user_id: int,
        first_name: str,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "id",
    ) -> None:
        if user_id <= 0:
            raise ValueError("user ids are positive")
        self.server = server
        self.id = user_id
        self.first_name = first_name
        self.username = username
        self.last_name = last_name
        self.language_code = language_code

    def __repr__(self) -> str:
        return f"FakeUser({self.id}, {self.first_name!r})"

    # -- identities -------------------------------------------------------------------------------

    @property
    def chat_id(self) -> int:
        """The private chat with the bot has the user's id."""
        return self.id

    @property
    def as_dict(self) -> JSON:
        """The Bot API ``User`` object for this user."""
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    @property
    def private_chat(self) -> JSON:
        data: JSON = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data

    def _chat_id(self, chat: FakeGroup | int | None) -> int:
        if chat is None:
            return self.id
        return chat.id if isinstance(chat, FakeGroup) else int(chat)

    # -- messages ---------------------------------------------------------------------------------

    def send(self, text: str, chat: FakeGroup | int | None = None, *, reply_to: MessageRef | None = None) -> JSON:
        """Send a text; a leading ``/command`` (optionally ``@bot``) gets its ``bot_command`` entity."""
        content: JSON = {"text": text}
        match = _COMMAND_RE.match(text)
        if match:
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": _u16(match.group(0))}]
        return self._send_content(content, chat, reply_to)

    def reply(self, to_message: MessageRef, text: str) -> JSON:
        """Reply (Telegram "reply" feature) to a bot or user message, in that message's chat."""
        target = self.server.resolve_message(to_message, self.id)
        return self.send(text, chat=int(target["chat"]["id"]), reply_to=target)

    def send_photo(
        self,
        file_id: str | None = None,
        caption: str | None = None,
        chat: FakeGroup | int | None = None,
        *,
        content: bytes | None = None,
        media_group_id: str | None = None,
    ) -> JSON:
        """Send a photo in four sizes (unique ids); ``file_id`` names the largest size if given. ``media_group_id``
        makes it one photo of an album."""
        photo = self.server.make_photo_sizes(largest_file_id=file_id, content=content)
        message: JSON = {"photo": photo}
        if caption is not None:
            message["caption"] = caption
        if media_group_id is not None:
            message["media_group_id"] = media_group_id
        return self._send_content(message, chat)

    def send_album(self, count: int, caption: str | None = None, chat: FakeGroup | int | None = None) -> list[JSON]:
        """Send ``count`` photos as one album, as Telegram delivers it: one message (update) per photo, sharing a
        ``media_group_id``, the caption on the first."""
        group_id = str(14_000_000_000 + next(self.server._media_group_ids))
        return [self.send_photo(caption=caption if i == 0 else None, chat=chat, media_group_id=group_id)
                for i in range(count)]

    def send_document(
        self,
        file_name: str = "laporan.pdf",
        mime_type: str | None = None,
        file_size: int | None = None,
        chat: FakeGroup | int | None = None,
        *,
        caption: str | None = None,
        content: bytes | None = None,
        file_id: str | None = None,
    ) -> JSON:
        mime = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        size = len(content) if content is not None else (file_size if file_size is not None else 2048)
        doc = self.server.make_media_object(
            "document", file_id=file_id, content=content, size=size, file_name=file_name, mime_type=mime
        )
        message: JSON = {"document": doc}
        if caption is not None:
            message["caption"] = caption
        return self._send_content(message, chat)

    def send_location(self, latitude: float, longitude: float, chat: FakeGroup | int | None = None) -> JSON:
        return self._send_content({"location": {"latitude": latitude, "longitude": longitude}}, chat)

    def send_contact(
        self,
        phone_number: str,
        user_id: Any = _OWN,
        first_name: str | None = None,
        chat: FakeGroup | int | None = None,
    ) -> JSON:
        """Share a contact; by default the user's own (``user_id`` = self), pass ``user_id=None`` for none."""
        contact: JSON = {"phone_number": phone_number, "first_name": first_name or self.first_name}
        contact_user = self.id if user_id is _OWN else user_id
        if contact_user is not None:
            contact["user_id"] = int(contact_user)
        return self._send_content({"contact": contact}, chat)

    def send_sticker(self, emoji: str = "👍", chat: FakeGroup | int | None = None) -> JSON:
        return self._send_content({"sticker": self.server.make_media_object("sticker", emoji=emoji)}, chat)

    def send_voice(self, duration: int = 3, chat: FakeGroup | int | None = None, *, content: bytes | None = None,
                   caption: str | None = None) -> JSON:
        message: JSON = {"voice": self.server.make_media_object("voice", duration=duration, content=content)}
        if caption is not None:
            message["caption"] = caption
        return self._send_content(message, chat)

    def send_video_note(self, duration: int = 5, chat: FakeGroup | int | None = None, *,
                        content: bytes | None = None, size: int | None = None) -> JSON:
        note = self.server.make_media_object("video_note", duration=duration, content=content, size=size)
        return self._send_content({"video_note": note}, chat)

    def send_video(self, caption: str | None = None, chat: FakeGroup | int | None = None, *,
                   content: bytes | None = None, size: int | None = None, duration: int | None = None) -> JSON:
        message: JSON = {"video": self.server.make_media_object("video", content=content, size=size,
                                                                duration=duration)}
        if caption is not None:
            message["caption"] = caption
        return self._send_content(message, chat)

    def send_poll(
        self, question: str = "Setuju?", options: Iterable[str] = ("Ya", "Tidak"), chat: FakeGroup | int | None = None
    ) -> JSON:
        poll = self.server.make_poll(question, list(options))
        return self._send_content({"poll": poll}, chat)

    def send_dice(self, emoji: str = "🎲", value: int | None = None, chat: FakeGroup | int | None = None) -> JSON:
        return self._send_content({"dice": {"emoji": emoji, "value": value or random.randint(1, 6)}}, chat)

    def edit(self, message: MessageRef, new_text: str) -> JSON:
        """Edit one of this user's messages; enqueues an ``edited_message`` update."""
        old = self.server.resolve_message(message, self.id)
        if old.get("from", {}).get("id") != self.id:
            raise AssertionError(f"{self!r} can only edit own messages, not {old.get('message_id')}")
        new = {key: value for key, value in old.items() if key not in ("text", "entities", "caption")}
        if "text" in old:
            new["text"] = new_text
            match = _COMMAND_RE.match(new_text)
            if match:
                new["entities"] = [{"type": "bot_command", "offset": 0, "length": _u16(match.group(0))}]
        else:
            new["caption"] = new_text
        new["edit_date"] = self.server.now()
        self.server.store_message(new)
        return self.server.push_update("edited_message", new)

    # -- buttons ----------------------------------------------------------------------------------

    def press(self, message_or_call: MessageRef, callback_data: str) -> JSON:
        """Press an inline button: enqueue a callback_query carrying the bot message (current state)."""
        message = self.server.resolve_message(message_or_call, self.id)
        return self.server.push_callback_query(self, message, callback_data)

    def press_button(self, text: str, chat: FakeGroup | int | None = None) -> JSON:
        """Press the inline button labelled ``text`` on the newest bot message in the chat that has one."""
        chat_id = self._chat_id(chat)
        available: list[str] = []
        for message in self.server.bot_messages(chat_id, newest_first=True):
            buttons = _inline_buttons(message)
            for button in buttons:
                if button.get("text") == text:
                    if "callback_data" not in button:
                        raise AssertionError(f"Button {text!r} is not a callback button: {button}")
                    return self.server.push_callback_query(self, message, str(button["callback_data"]))
            if buttons:
                available.append(f"msg {message['message_id']}: {[b.get('text') for b in buttons]}")
        listing = "\n  ".join(available) or "(no bot message with inline buttons)"
        raise AssertionError(f"No inline button {text!r} in chat {chat_id}. Available buttons:\n  {listing}")

    def buttons(self, chat: FakeGroup | int | None = None) -> list[str]:
        """Inline button texts on the newest bot message that has any."""
        for message in self.server.bot_messages(self._chat_id(chat), newest_first=True):
            if _inline_buttons(message):
                return _inline_button_texts(message)
        return []

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        """The custom reply keyboard currently shown in the private chat (button texts), if any."""
        markup = self.server.reply_keyboards.get(self.id)
        if markup is None:
            return None
        return [[b if isinstance(b, str) else str(b.get("text")) for b in row] for row in markup["keyboard"]]

    def last_message(self, chat: FakeGroup | int | None = None) -> JSON | None:
        """Newest bot message in the chat (current state, after edits)."""
        return next(iter(self.server.bot_messages(self._chat_id(chat), newest_first=True)), None)

    def texts(self) -> list[str]:
        return self.server.texts(self.id)

    # -- internals --------------------------------------------------------------------------------

    def _send_content(self, content: JSON, chat: FakeGroup | int | None, reply_to: MessageRef | None = None) -> JSON:
        chat_id = self._chat_id(chat)
        if reply_to is not None:
            target = self.server.resolve_message(reply_to, chat_id)
            content = {**content, "reply_to_message": _without_reply(target)}
        message = self.server.new_message(chat_id, self.as_dict, content)
        return self.server.push_update("message", message)


# --------------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Request:
    method: str
    params: JSON
    files: dict[str, UploadedFile]
    chat_id: int | None


Handler = Callable[[_Request], Awaitable[tuple[Any, list[JSON]]]]


class FakeTelegram:
    """Fake Bot API server.  See the module docstring.

    ``strict`` (default on) reproduces Telegram's pickiness: "message is not modified", editing/deleting
    or replying to unknown messages, answering a callback query twice.  ``enforce_rate_limits`` turns
    rate-limit violations into real 429 answers instead of only recording them: ``True`` for every limit, or a set
    of the kinds to enforce (``{"global", "group"}``: Telegram's hard limits, while the private-chat limit of one
    message a second, which Telegram lets short bursts exceed, is only recorded).
    """

    def __init__(
        self,
        token: str = "123:TEST",
        *,
        strict: bool = True,
        enforce_rate_limits: bool | Collection[str] = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.strict = strict
        self.enforce_rate_limits = enforce_rate_limits
        self._clock = clock
        self.port: int | None = None
        self._runner: web.AppRunner | None = None

        self.bot_user: JSON = {"id": BOT_ID, "is_bot": True, "first_name": BOT_FIRST_NAME, "username": BOT_USERNAME}

        # recording
        self.calls: list[Call] = []
        self._calls_by_chat: dict[int, list[Call]] = {}
        self._sent: list[Call] = []
        self._sent_by_chat: dict[int, list[Call]] = {}
        self.violations: list[Violation] = []
        self.downloads: list[str] = []
        self._waiters: list[_Waiter] = []
        self._tick = asyncio.Event()
        self._last_activity = time.monotonic()

        # chats & messages
        self.users: dict[int, FakeUser] = {}
        self.groups: dict[int, FakeGroup] = {}
        self._blocked: dict[int, str] = {}
        self._message_ids: dict[int, int] = {}
        self._messages: dict[int, dict[int, JSON]] = {}
        self.reply_keyboards: dict[int, JSON] = {}

        # updates
        self._updates: deque[JSON] = deque()
        self._update_ids = itertools.count(100_001)
        self._delivered_update_id = 0
        self._updates_event = asyncio.Event()
        self._closing = False
        self.webhook_url = ""

        # callback queries, files, commands, faults, rate limits
        self._callback_ids = itertools.count(1)
        self._callback_chat: dict[str, int | None] = {}
        self._answered_callbacks: set[str] = set()
        self._file_counter = itertools.count(1)
        self.files: dict[str, FakeFile] = {}
        self._lost_files: set[str] = set()
        #: seconds each file download (/file/bot<token>/...) takes before its bytes come
        self.file_delay = 0.0
        self._files_by_path: dict[str, FakeFile] = {}
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._fail_rules: list[_FailRule] = []
        self._global_sends: deque[float] = deque()
        self._last_private_send: dict[int, float] = {}
        self._group_sends: dict[int, deque[float]] = {}
        self._poll_ids = itertools.count(1)
        self._media_group_ids = itertools.count(1)

        self._handlers: dict[str, Handler] = {
            "getMe": self._m_get_me,
            "getUpdates": self._m_get_updates,
            "deleteWebhook": self._m_delete_webhook,
            "setWebhook": self._m_set_webhook,
            "getWebhookInfo": self._m_get_webhook_info,
            "setMyCommands": self._m_set_my_commands,
            "deleteMyCommands": self._m_delete_my_commands,
            "getMyCommands": self._m_get_my_commands,
            "sendMessage": self._m_send_message,
            "sendPhoto": self._m_send_photo,
            "sendDocument": self._m_send_document,
            "sendVideo": self._m_send_generic_media,
            "sendAudio": self._m_send_generic_media,
            "sendVoice": self._m_send_generic_media,
            "sendAnimation": self._m_send_generic_media,
            "sendSticker": self._m_send_generic_media,
            "sendVideoNote": self._m_send_generic_media,
            "sendLocation": self._m_send_location,
            "sendVenue": self._m_send_venue,
            "sendContact": self._m_send_contact,
            "sendDice": self._m_send_dice,
            "sendPoll": self._m_send_poll,
            "sendMediaGroup": self._m_send_media_group,
            "copyMessage": self._m_copy_message,
            "forwardMessage": self._m_forward_message,
            "editMessageText": self._m_edit_message_text,
            "editMessageCaption": self._m_edit_message_caption,
            "editMessageReplyMarkup": self._m_edit_message_reply_markup,
            "deleteMessage": self._m_delete_message,
            "answerCallbackQuery": self._m_answer_callback_query,
            "getFile": self._m_get_file,
            "getChat": self._m_get_chat,
            "close": self._m_true,
            "logOut": self._m_true,
        }
        for name in TRUE_METHODS:
            self._handlers.setdefault(name, self._m_true)
        self._canonical = {name.lower(): name for name in self._handlers}

    # ==============================================================================================
    # Lifecycle
    # ==============================================================================================

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a random free port."""
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 10 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("*", "/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._closing = False

    async def stop(self) -> None:
        """Wake pending long polls (so shutdown is instant) and close the server."""
        self._closing = True
        self._updates_event.set()
        for waiter in self._waiters:
            if not waiter.future.done():
                waiter.future.cancel()
        self._waiters.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)`` (PTB appends the token)."""
        return f"http://127.0.0.1:{self._require_port()}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``."""
        return f"http://127.0.0.1:{self._require_port()}/file/bot"

    def _require_port(self) -> int:
        if self.port is None:
            raise RuntimeError("FakeTelegram.start() has not been awaited")
        return self.port

    def now(self) -> int:
        """Unix time for ``date`` fields (uses the injectable clock)."""
        return int(self._clock())

    # ==============================================================================================
    # Simulated users, groups and updates
    # ==============================================================================================

    def user(
        self,
        user_id: int,
        first_name: str = "Budi",
        username: str | None = None,
        *,
        last_name: str | None = None,
        language_code: str | None = "id",
    ) -> FakeUser:
        """Get (or create) the simulated user with this id."""
        existing = self.users.get(user_id)
        if existing is not None:
            return existing
        created = FakeUser(self, user_id, first_name, username, last_name, language_code)
        self.users[user_id] = created
        return created

    def group(self, chat_id: int, title: str = "Grup Desa", *, type: str = "supergroup") -> FakeGroup:
        """Get (or create) a group chat; ids must be negative like Telegram's."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        existing = self.groups.get(chat_id)
        if existing is None:
            existing = self.groups[chat_id] = FakeGroup(chat_id, title, type)
        return existing

    def chat_dict(self, chat_id: int) -> JSON:
        """The Bot API ``Chat`` object for a chat id (known users/groups, else a plausible stub)."""
        if chat_id > 0:
            user = self.users.get(chat_id)
            return user.private_chat if user else {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
        group = self.groups.get(chat_id)
        return group.chat if group else {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}

    def push_update(self, kind: str, payload: JSON) -> JSON:
        """Enqueue a raw update (``{"update_id": ..., kind: payload}``) and return it."""
        update_id = next(self._update_ids)
        update = {"update_id": update_id, kind: payload}
        self._updates.append(update)
        self._updates_event.set()
        self._activity()
        return update

    def push_callback_query(self, user: FakeUser, message: JSON, data: str) -> JSON:
        query_id = str(next(self._callback_ids) * 7919 + 1_000_000)
        chat_id = int(message["chat"]["id"])
        self._callback_chat[query_id] = chat_id
        query = {
            "id": query_id,
            "from": user.as_dict,
            "message": message,
            "chat_instance": str(abs(chat_id) * 31 + 17),
            "data": data,
        }
        return self.push_update("callback_query", query)

    async def take_updates(self, timeout: float = 1.0) -> list[JSON]:
        """Webhook-style delivery: wait up to ``timeout`` for queued updates and hand all of them out once.

        A test that runs the bot in webhook mode pumps these to the bot's HTTP endpoint, as Telegram would.
        """
        if not self._updates and not self._closing:
            self._updates_event.clear()
            try:
                await asyncio.wait_for(self._updates_event.wait(), timeout)
            except TimeoutError:
                pass
        batch = list(self._updates)
        self._updates.clear()
        if batch:
            self._delivered_update_id = max(self._delivered_update_id, int(batch[-1]["update_id"]))
        return batch

    @property
    def pending_updates(self) -> int:
        """Updates not yet handed out by getUpdates."""
        return sum(1 for u in self._updates if u["update_id"] > self._delivered_update_id)

    # -- message store ----------------------------------------------------------------------------

    def next_message_id(self, chat_id: int) -> int:
        """Message ids are per chat and shared by user and bot messages, like in real private chats."""
        value = self._message_ids.get(chat_id, 0) + 1
        self._message_ids[chat_id] = value
        return value

    def new_message(self, chat_id: int, sender: JSON, content: JSON) -> JSON:
        message = {
            "message_id": self.next_message_id(chat_id),
            "from": sender,
            "chat": self.chat_dict(chat_id),
            "date": self.now(),
            **content,
        }
        self.store_message(message)
        return message

    def store_message(self, message: JSON) -> None:
        """Store (or replace, for edits) the current state of a message.  Stored dicts are never mutated."""
        self._messages.setdefault(int(message["chat"]["id"]), {})[int(message["message_id"])] = message

    def get_message(self, chat_id: int, message_id: int) -> JSON | None:
        return self._messages.get(chat_id, {}).get(message_id)

    def messages(self, chat_id: int) -> list[JSON]:
        """All messages (user and bot) still present in the chat, oldest first, current state."""
        return list(self._messages.get(chat_id, {}).values())

    def bot_messages(self, chat_id: int, newest_first: bool = False) -> Iterable[JSON]:
        store = self._messages.get(chat_id, {})
        values = reversed(store.values()) if newest_first else iter(store.values())
        return (m for m in values if m.get("from", {}).get("id") == BOT_ID)

    def last_bot_message(self, chat_id: int) -> JSON | None:
        return next(iter(self.bot_messages(chat_id, newest_first=True)), None)

    def resolve_message(self, ref: MessageRef, default_chat: int) -> JSON:
        """Accept a Message dict, an update dict, a Call or a message id and return the current message."""
        message: JSON | None
        if isinstance(ref, Call):
            message = ref.message
            if message is None:
                raise AssertionError(f"Call produced no message: {ref.describe()}")
        elif isinstance(ref, int):
            message = self.get_message(default_chat, ref)
            if message is None:
                raise AssertionError(f"No message {ref} in chat {default_chat}")
        elif isinstance(ref, dict) and "update_id" in ref:
            message = next(
                (ref[k] for k in ("message", "edited_message", "channel_post") if k in ref),
                ref.get("callback_query", {}).get("message"),
            )
            if message is None:
                raise AssertionError(f"Update carries no message: {ref}")
        elif isinstance(ref, dict) and "message_id" in ref and "chat" in ref:
            message = ref
        else:
            raise TypeError(f"Cannot resolve a message from {ref!r}")
        current = self.get_message(int(message["chat"]["id"]), int(message["message_id"]))
        return current if current is not None else message

    # -- media factories --------------------------------------------------------------------------

    def _new_file_ids(self, prefix: str) -> tuple[str, str]:
        n = next(self._file_counter)
        return f"{prefix}{n:08d}fake{random.randrange(16**6):06x}", f"AQAD{n:06d}"

    def register_file(
        self, kind: str, obj: JSON, *, content: bytes | None = None, size: int | None = None, ext: str = ""
    ) -> FakeFile:
        """Make a file downloadable via getFile (``obj`` is the Bot API object reused when re-sent by id)."""
        file_id = str(obj["file_id"])
        n = len(self.files) + 1
        folder = {"photo": "photos", "document": "documents", "voice": "voice", "video": "videos"}.get(kind, kind)
        fake = FakeFile(
            file_id=file_id,
            file_unique_id=str(obj["file_unique_id"]),
            file_path=f"{folder}/file_{n}{ext}",
            size=len(content) if content is not None else int(size or obj.get("file_size") or 0),
            obj=obj,
            content=content,
        )
        self.files[file_id] = fake
        self._files_by_path[fake.file_path] = fake
        return fake

    def make_photo_sizes(self, largest_file_id: str | None = None, content: bytes | None = None) -> list[JSON]:
        """Four PhotoSize dicts, like Telegram's thumbnails; the largest may carry given id/content."""
        dims = [(90, 68), (320, 240), (800, 600), (1280, 960)]
        sizes: list[JSON] = []
        for index, (width, height) in enumerate(dims):
            largest = index == len(dims) - 1
            file_id, unique = self._new_file_ids("AgACAgUAAxkBAAI")
            if largest and largest_file_id:
                file_id = largest_file_id
            data = content if largest else None
            size = len(data) if data is not None else width * height // 8
            obj = {"file_id": file_id, "file_unique_id": unique, "width": width, "height": height, "file_size": size}
            sizes.append(obj)
            self.register_file("photo", obj, content=data, size=size, ext=".jpg")
        return sizes

    def make_media_object(
        self,
        kind: str,
        *,
        file_id: str | None = None,
        content: bytes | None = None,
        size: int | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
        duration: int | None = None,
        emoji: str | None = None,
    ) -> JSON:
        """A valid Document/Video/Audio/Voice/Animation/Sticker/VideoNote dict, registered for download."""
        new_id, unique = self._new_file_ids(
            {"document": "BQACAgUAAxkBAAI", "sticker": "CAACAgIAAxkBAAI"}.get(kind, "AwACAgUAAxkBAAI")
        )
        obj: JSON = {"file_id": file_id or new_id, "file_unique_id": unique}
        if kind == "video":
            obj.update(width=640, height=480, duration=duration or 5)
        elif kind == "animation":
            obj.update(width=320, height=240, duration=duration or 2)
        elif kind == "audio":
            obj.update(duration=duration or 30)
        elif kind == "voice":
            obj.update(duration=duration or 3, mime_type=mime_type or "audio/ogg")
        elif kind == "video_note":
            obj.update(length=240, duration=duration or 5)
        elif kind == "sticker":
            obj.update(width=512, height=512, is_animated=False, is_video=False, type="regular", emoji=emoji or "👍")
        if file_name:
            obj["file_name"] = file_name
        if mime_type:
            obj["mime_type"] = mime_type
        obj["file_size"] = len(content) if content is not None else (size if size is not None else 4096)
        ext = ""
        if file_name and "." in file_name:
            ext = "." + file_name.rsplit(".", 1)[1]
        self.register_file(kind, obj, content=content, size=int(obj["file_size"]), ext=ext)
        return obj

    def make_poll(self, question: str, options: list[str]) -> JSON:
        return {
            "id": str(5_000_000 + next(self._poll_ids)),
            "question": question,
            # persistent_id / allows_revoting / members_only are required by PTB 22.8 (Bot API 9.6+).
            "options": [
                {"text": text, "voter_count": 0, "persistent_id": str(index)} for index, text in enumerate(options)
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
        }

    # ==============================================================================================
    # Querying recorded calls
    # ==============================================================================================

    def mark(self) -> int:
        """Index to pass as ``since=`` to only consider calls made from now on."""
        return len(self.calls)

    def calls_for(self, chat_id: int, method: str | None = None) -> list[Call]:
        calls = self._calls_by_chat.get(chat_id, [])
        if method is None:
            return list(calls)
        wanted = method.lower()
        return [c for c in calls if c.method.lower() == wanted]

    def sent(self, chat_id: int | None = None, method: str | None = None) -> list[Call]:
        """Successful calls that produced a message (send*/edit*/copy/forward), in order."""
        calls = self._sent if chat_id is None else self._sent_by_chat.get(chat_id, [])
        if method is None:
            return list(calls)
        wanted = method.lower()
        return [c for c in calls if c.method.lower() == wanted]

    def texts(self, chat_id: int) -> list[str]:
        """Rendered texts/captions the bot sent or edited into this chat, in order (HTML tags stripped)."""
        result: list[str] = []
        for call in self._sent_by_chat.get(chat_id, []):
            for message in call.messages:
                value = message.get("text", message.get("caption"))
                if value:
                    result.append(value)
        return result

    def last_call(self, method: str | None = None, chat_id: int | None = None) -> Call | None:
        calls = self.calls if chat_id is None else self._calls_by_chat.get(chat_id, [])
        wanted = method.lower() if method else None
        for call in reversed(calls):
            if wanted is None or call.method.lower() == wanted:
                return call
        return None

    @property
    def unknown_calls(self) -> list[Call]:
        return [c for c in self.calls if not c.known]

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """Commands stored by setMyCommands for a scope (default scope if None) and language."""
        return list(self._commands.get(self._command_key(scope, language_code), []))

    def recent(self, chat_id: int | None = None, limit: int = 15) -> str:
        """Readable listing of the last calls (for a chat), used in assertion messages."""
        calls = self.calls if chat_id is None else self._calls_by_chat.get(chat_id, [])
        calls = [c for c in calls if c.method != "getUpdates"][-limit:]
        header = f"Last {len(calls)} calls" + (f" for chat {chat_id}" if chat_id is not None else "")
        if not calls:
            return header + ": (none)"
        return header + ":\n  " + "\n  ".join(c.describe() for c in calls)

    # ==============================================================================================
    # Waiting
    # ==============================================================================================

    async def wait_for(
        self,
        predicate: Callable[[Call], bool],
        timeout: float = 5,
        *,
        chat_id: int | None = None,
        since: int = 0,
        what: str | None = None,
    ) -> Call:
        """Return the first call (index >= since, optionally in chat_id) matching predicate; wait if needed.

        Existing calls are scanned once; new calls are checked as they are recorded, so waiting is O(new).
        """
        existing = self.calls if chat_id is None else self._calls_by_chat.get(chat_id, [])
        for call in existing:
            if call.index >= since and predicate(call):
                return call
        future: asyncio.Future[Call] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(predicate, future, chat_id, since)
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            label = what or getattr(predicate, "__name__", "predicate")
            raise AssertionError(f"Timed out after {timeout}s waiting for {label}.\n{self.recent(chat_id)}") from None
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    async def wait_for_text(self, chat_id: int, substring: str, timeout: float = 5, *, since: int = 0) -> Call:
        """Wait until a message whose text/caption contains ``substring`` was sent or edited into the chat."""

        def has_text(call: Call) -> bool:
            return any(substring in (m.get("text") or m.get("caption") or "") for m in call.messages)

        return await self.wait_for(
            has_text, timeout, chat_id=chat_id, since=since, what=f"text {substring!r} in chat {chat_id}"
        )

    async def wait_for_call(
        self, method: str, chat_id: int | None = None, timeout: float = 5, *, since: int = 0
    ) -> Call:
        """Wait for a call of ``method`` (case-insensitive), optionally to ``chat_id``."""
        wanted = method.lower()
        return await self.wait_for(
            lambda c: c.method.lower() == wanted, timeout, chat_id=chat_id, since=since, what=f"{method} call"
        )

    async def wait_until(
        self, condition: Callable[[], bool], timeout: float = 5, *, chat_id: int | None = None, what: str = ""
    ) -> None:
        """Wait until an arbitrary condition holds; re-checked whenever a call or update happens."""
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"Timed out after {timeout}s waiting for {what or 'condition'}.\n{self.recent(chat_id)}"
                )
            await self._wait_tick(min(remaining, 0.25))

    async def wait_idle(self, quiet: float = 0.3, timeout: float = 5) -> None:
        """Wait until every queued update was delivered and no API call arrived for ``quiet`` seconds.

        getUpdates polls do not count as activity (they never stop), deliveries do.
        """
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            pending = bool(self._updates) and int(self._updates[-1]["update_id"]) > self._delivered_update_id
            idle_for = now - self._last_activity
            if not pending and idle_for >= quiet:
                return
            remaining = deadline - now
            if remaining <= 0:
                state = (
                    f"{self.pending_updates} update(s) never fetched - is the Application polling?"
                    if pending
                    else f"calls kept arriving (last {idle_for:.2f}s ago)"
                )
                raise AssertionError(f"Not idle after {timeout}s: {state}\n{self.recent()}")
            await self._wait_tick(remaining if pending else min(remaining, quiet - idle_for))

    async def _wait_tick(self, seconds: float) -> None:
        event = self._tick
        try:
            await asyncio.wait_for(event.wait(), max(seconds, 0.001))
        except TimeoutError:
            pass

    def _activity(self) -> None:
        self._last_activity = time.monotonic()
        self._notify()

    def _notify(self) -> None:
        """Broadcast "something changed" to wait_until/wait_idle (a fresh Event per generation)."""
        self._tick.set()
        self._tick = asyncio.Event()

    # ==============================================================================================
    # Fault injection
    # ==============================================================================================

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int = 1,
        times: int = 1,
        chat_id: int | None = None,
        description: str | None = None,
    ) -> None:
        """Make the next ``times`` matching calls (``method`` or "*" for any but getUpdates) fail."""
        self._fail_rules.append(_FailRule(method.lower(), status, retry_after, times, chat_id, description))

    def drop_connection_next(self, method: str, times: int = 1, chat_id: int | None = None) -> None:
        """Abort the TCP connection without answering (PTB raises NetworkError)."""
        self._fail_rules.append(_FailRule(method.lower(), 0, 0, times, chat_id, None, drop=True))

    def block(self, user_id: int, description: str = "Forbidden: bot was blocked by the user") -> None:
        """Every call targeting this chat answers 403 from now on (e.g. "Forbidden: user is deactivated")."""
        self._blocked[user_id] = description

    def unblock(self, user_id: int) -> None:
        self._blocked.pop(user_id, None)

    def lose_file(self, file_id: str) -> None:
        """Telegram no longer has this file: getFile answers 400 "invalid file_id" from now on, its URL 404."""
        self._lost_files.add(file_id)
        fake = self.files.get(file_id)
        if fake is not None:
            self._files_by_path.pop(fake.file_path, None)

    def expire_file_path(self, file_id: str) -> None:
        """getFile still answers, but the file's URL answers 404 (the path expired, the file is gone)."""
        self._files_by_path.pop(self.files[file_id].file_path, None)

    def file_bytes(self, file_id: str) -> bytes:
        """The bytes Telegram serves for ``file_id``."""
        return self.files[file_id].data()

    def clear_faults(self) -> None:
        self._fail_rules.clear()
        self._blocked.clear()

    def _take_fail_rule(self, method: str, chat_id: int | None) -> _FailRule | None:
        for rule in self._fail_rules:
            if rule.matches(method, chat_id):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._fail_rules.remove(rule)
                return rule
        return None

    @staticmethod
    def _rule_error(rule: _FailRule) -> ApiError:
        if rule.status == 429:
            return ApiError(
                429,
                rule.description or f"Too Many Requests: retry after {rule.retry_after}",
                {"retry_after": rule.retry_after},
            )
        defaults = {
            400: "Bad Request: injected failure",
            401: "Unauthorized",
            403: "Forbidden: bot was blocked by the user",
            404: "Not Found",
            409: "Conflict: terminated by other getUpdates request",
            500: "Internal Server Error",
            502: "Bad Gateway",
        }
        description = rule.description or defaults.get(rule.status, f"Error {rule.status}")
        prefixes = {400: "Bad Request: ", 403: "Forbidden: "}
        prefix = prefixes.get(rule.status)
        if prefix and not description.startswith(prefix):
            description = prefix + description
        return ApiError(rule.status, description)

    # ==============================================================================================
    # Rate-limit accounting
    # ==============================================================================================

    def _rate_violations(self, method: str, chat_id: int | None, now: float) -> list[Violation]:
        """Which of Telegram's flood limits this send would break (pure: records nothing)."""
        found: list[Violation] = []
        window = self._global_sends
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) + 1 > 30:
            found.append(Violation("global", chat_id, method, now, f"{len(window) + 1} messages within 1s"))
        if chat_id is not None and chat_id > 0:
            last = self._last_private_send.get(chat_id)
            if last is not None and now - last < 0.9:
                found.append(Violation("private_chat", chat_id, method, now, f"{now - last:.3f}s after previous send"))
        elif chat_id is not None:
            group_window = self._group_sends.get(chat_id)
            if group_window is not None:
                while group_window and group_window[0] <= now - 60.0:
                    group_window.popleft()
                if len(group_window) + 1 > 20:
                    found.append(
                        Violation("group", chat_id, method, now, f"{len(group_window) + 1} messages within 60s")
                    )
        return found

    def _enforces(self, kind: str) -> bool:
        if isinstance(self.enforce_rate_limits, bool):
            return self.enforce_rate_limits
        return kind in self.enforce_rate_limits

    def _rate_commit(self, chat_id: int | None, now: float) -> None:
        self._global_sends.append(now)
        if chat_id is not None and chat_id > 0:
            self._last_private_send[chat_id] = now
        elif chat_id is not None:
            self._group_sends.setdefault(chat_id, deque()).append(now)

    # ==============================================================================================
    # HTTP layer
    # ==============================================================================================

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        path = request.match_info["path"]
        fake = self._files_by_path.get(path)
        if fake is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        self.downloads.append(path)
        if self.file_delay:
            await asyncio.sleep(self.file_delay)  # a slow file server (or a large file on a slow link)
        return web.Response(body=fake.data(), content_type="application/octet-stream")

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        raw_method = request.match_info["method"]
        method = self._canonical.get(raw_method.lower(), raw_method)
        params, files = await self._read_params(request)
        chat_id = self._call_chat_id(method, params)
        req = _Request(method, params, files, chat_id)
        call = Call(method, params, files, chat_id, time.monotonic(), None, known=method in self._handlers)

        rule = self._take_fail_rule(method, chat_id)
        if rule is not None and rule.drop:
            call.status, call.error = 0, "connection dropped"
            self._record(call)
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)

        try:
            if rule is not None:
                raise self._rule_error(rule)
            if chat_id is not None and chat_id in self._blocked and method != "getChat":
                raise ApiError(403, self._blocked[chat_id])
            if sum(f.size for f in files.values()) > MAX_UPLOAD_BYTES:
                raise ApiError(413, "Request Entity Too Large")
            counted = method in RATE_LIMITED_METHODS
            violations = self._rate_violations(method, chat_id, call.at) if counted else []
            if any(self._enforces(v.kind) for v in violations):
                self.violations.extend(
                    Violation(v.kind, v.chat_id, v.method, v.at, v.detail, enforced=True) for v in violations
                )
                raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
            handler = self._handlers.get(method, self._m_true)
            result, messages = await handler(req)
            if counted:
                self.violations.extend(violations)
                self._rate_commit(chat_id, call.at)
        except ApiError as exc:
            call.status, call.error = exc.status, exc.description
            self._record(call)
            return web.json_response(exc.payload(), status=exc.status)
        call.result, call.messages = result, messages
        self._record(call)
        return web.json_response({"ok": True, "result": result})

    async def _read_params(self, request: web.Request) -> tuple[JSON, dict[str, UploadedFile]]:
        params: JSON = {key: _decode_param(key, value) for key, value in request.query.items()}
        files: dict[str, UploadedFile] = {}
        if request.method == "GET" or not request.can_read_body:
            return params, files
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
            return params, files
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = UploadedFile(key, value.filename, value.file.read(), value.content_type)
            else:
                params[key] = _decode_param(key, str(value))
        return params, files

    def _call_chat_id(self, method: str, params: JSON) -> int | None:
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int) and not isinstance(chat_id, bool):
            return chat_id
        if method == "answerCallbackQuery":
            return self._callback_chat.get(str(params.get("callback_query_id")))
        return None

    def _record(self, call: Call) -> None:
        call.index = len(self.calls)
        self.calls.append(call)
        if call.chat_id is not None:
            self._calls_by_chat.setdefault(call.chat_id, []).append(call)
        if call.ok and call.messages:
            self._sent.append(call)
            if call.chat_id is not None:
                self._sent_by_chat.setdefault(call.chat_id, []).append(call)
        for waiter in list(self._waiters):
            if waiter.future.done():
                continue
            if call.index < waiter.since or (waiter.chat_id is not None and waiter.chat_id != call.chat_id):
                continue
            try:
                if waiter.predicate(call):
                    waiter.future.set_result(call)
            except Exception as exc:  # surface predicate bugs in the waiting test
                waiter.future.set_exception(exc)
        if call.method == "getUpdates" and not call.result:
            self._notify()
        else:
            self._activity()

    # ==============================================================================================
    # Shared pieces of method implementations
    # ==============================================================================================

    def _target_chat(self, req: _Request) -> int:
        if req.chat_id is not None:
            return req.chat_id
        if "chat_id" not in req.params or req.params["chat_id"] in ("", None):
            raise _bad_request("chat_id is empty")
        raise _bad_request("chat not found")

    def _render(self, req: _Request, text_key: str, *, caption: bool) -> tuple[str, list[JSON]]:
        """Parse ``text``/``caption`` per parse_mode, trim, and enforce Telegram's length limits."""
        raw = req.params.get(text_key)
        text = "" if raw is None else str(raw)
        entities_key = "caption_entities" if caption else "entities"
        entities: list[JSON] = list(req.params.get(entities_key) or [])
        parse_mode = str(req.params.get("parse_mode") or "")
        if parse_mode.upper() == "HTML":
            try:
                text, entities = render_html(text)
            except HtmlParseError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from None
        text, entities = _strip_with_entities(text, entities)
        if caption:
            if _u16(text) > MAX_CAPTION_LENGTH:
                raise _bad_request("message caption is too long")
        else:
            if not text:
                raise _bad_request("message text is empty")
            if _u16(text) > MAX_TEXT_LENGTH:
                raise _bad_request("message is too long")
        return text, entities

    def _text_content(self, req: _Request) -> JSON:
        text, entities = self._render(req, "text", caption=False)
        content: JSON = {"text": text}
        if entities:
            content["entities"] = entities
        if isinstance(req.params.get("link_preview_options"), dict):
            content["link_preview_options"] = req.params["link_preview_options"]
        return content

    def _caption_content(self, req: _Request, key: str = "caption") -> JSON:
        if req.params.get(key) is None:
            return {}
        text, entities = self._render(req, key, caption=True)
        content: JSON = {}
        if text:
            content["caption"] = text
            if entities:
                content["caption_entities"] = entities
        return content

    def _inline_markup(self, markup: Any) -> JSON | None:
        """Validate reply_markup; return it if it is an inline keyboard (only those appear in Message)."""
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            if not ({"keyboard", "remove_keyboard", "force_reply"} & markup.keys()):
                raise _bad_request("can't parse reply keyboard markup JSON object")
            return None
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request("can't parse inline keyboard markup JSON object")
        actions = {
            "callback_data",
            "url",
            "login_url",
            "switch_inline_query",
            "switch_inline_query_current_chat",
            "switch_inline_query_chosen_chat",
            "callback_game",
            "pay",
            "web_app",
            "copy_text",
        }
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise _bad_request("can't parse inline keyboard button: Text must be a String")
                if not (actions & button.keys()):
                    raise _bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                    )
                if "callback_data" in button:
                    data = str(button["callback_data"]).encode()
                    if not 1 <= len(data) <= MAX_CALLBACK_DATA_BYTES:
                        raise _bad_request("BUTTON_DATA_INVALID")
                if "url" in button and not str(button["url"]).startswith(("http://", "https://", "tg://")):
                    raise _bad_request("BUTTON_URL_INVALID")
        return markup

    def _apply_reply_keyboard(self, chat_id: int, markup: Any) -> None:
        if not isinstance(markup, dict):
            return
        if "keyboard" in markup:
            self.reply_keyboards[chat_id] = markup
        elif markup.get("remove_keyboard"):
            self.reply_keyboards.pop(chat_id, None)

    def _reply_target(self, req: _Request, chat_id: int) -> JSON | None:
        params = req.params
        reply_parameters = params.get("reply_parameters")
        message_id: Any = None
        allow_missing = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply_parameters, dict):
            message_id = reply_parameters.get("message_id")
            allow_missing = allow_missing or bool(reply_parameters.get("allow_sending_without_reply"))
            if reply_parameters.get("chat_id") not in (None, chat_id):
                chat_id = int(reply_parameters["chat_id"])
        elif params.get("reply_to_message_id") is not None:
            message_id = params["reply_to_message_id"]
        if message_id is None:
            return None
        target = self.get_message(chat_id, int(message_id))
        if target is None:
            if self.strict and not allow_missing:
                raise _bad_request("message to be replied not found")
            return None
        return _without_reply(target)

    def _bot_send(self, req: _Request, content: JSON) -> tuple[JSON, list[JSON]]:
        """Common tail of every send*: validate extras, allocate the message, apply side effects."""
        chat_id = self._target_chat(req)
        markup = req.params.get("reply_markup")
        inline = self._inline_markup(markup)
        reply_to = self._reply_target(req, chat_id)
        extra: JSON = {}
        if reply_to is not None:
            extra["reply_to_message"] = reply_to
        if inline is not None:
            extra["reply_markup"] = inline
        if req.params.get("protect_content"):
            extra["has_protected_content"] = True
        if req.params.get("message_thread_id") is not None:
            extra["message_thread_id"] = req.params["message_thread_id"]
        message = self.new_message(chat_id, self.bot_user, {**content, **extra})
        self._apply_reply_keyboard(chat_id, markup)
        return message, [message]

    def _media_input(self, req: _Request, key: str) -> tuple[UploadedFile | None, str | None]:
        """An upload (multipart part, maybe via attach://) or a file_id/URL string for ``key``."""
        value = req.params.get(key)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = req.files.get(value.removeprefix("attach://"))
            if upload is None:
                raise _bad_request(f"wrong file identifier/HTTP URL specified ({value} is missing)")
            return upload, None
        upload = req.files.get(key)
        if upload is not None:
            return upload, None
        if isinstance(value, str) and value:
            return None, value
        raise _bad_request(f"there is no {key} in the request")

    def _photo_from(self, upload: UploadedFile | None, ref: str | None) -> list[JSON]:
        if ref is not None and ref in self.files and "width" in self.files[ref].obj:
            known = self.files[ref].obj
            return [dict(known)]
        if upload is not None:
            return self.make_photo_sizes(content=upload.content)
        return self.make_photo_sizes(largest_file_id=None if (ref or "").startswith("http") else ref)

    def _media_from(self, kind: str, upload: UploadedFile | None, ref: str | None) -> JSON:
        if ref is not None and ref in self.files:
            return dict(self.files[ref].obj)
        if upload is not None:
            return self.make_media_object(
                kind,
                content=upload.content,
                file_name=upload.filename,
                mime_type=upload.content_type or mimetypes.guess_type(upload.filename)[0],
            )
        file_id = None if (ref or "").startswith("http") else ref
        return self.make_media_object(kind, file_id=file_id)

    def _edit_target(self, req: _Request) -> JSON | None:
        """The stored bot message an edit* call refers to, or None for inline messages."""
        if req.params.get("inline_message_id"):
            return None
        chat_id = self._target_chat(req)
        message_id = req.params.get("message_id")
        if not isinstance(message_id, int):
            raise _bad_request("message identifier is not specified")
        old = self.get_message(chat_id, message_id)
        if old is None:
            if self.strict:
                raise _bad_request("message to edit not found")
            old = {
                "message_id": message_id,
                "chat": self.chat_dict(chat_id),
                "date": self.now(),
                "from": self.bot_user,
                "text": "",
            }
        if old.get("from", {}).get("id") != BOT_ID:
            raise _bad_request("message can't be edited")
        return old

    def _finish_edit(self, old: JSON, changes: JSON, markup: JSON | None) -> tuple[JSON, list[JSON]]:
        new = {key: value for key, value in old.items() if key not in ("reply_markup", *changes.keys())}
        new.update({key: value for key, value in changes.items() if value not in (None, [])})
        if markup is not None:
            new["reply_markup"] = markup
        unchanged = all(
            old.get(k) == new.get(k) for k in ("text", "entities", "caption", "caption_entities", "reply_markup")
        )
        if unchanged and self.strict:
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are exactly the same "
                "as a current content and reply markup of the message"
            )
        new["edit_date"] = self.now()
        self.store_message(new)
        return new, [new]

    @staticmethod
    def _command_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope_obj = scope if isinstance(scope, dict) else {"type": "default"}
        return json.dumps(scope_obj, sort_keys=True), str(language_code or "")

    # ==============================================================================================
    # Method implementations: each returns (Bot API result, messages produced)
    # ==============================================================================================

    async def _m_true(self, req: _Request) -> tuple[Any, list[JSON]]:
        return True, []

    async def _m_get_me(self, req: _Request) -> tuple[Any, list[JSON]]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }, []

    async def _m_get_updates(self, req: _Request) -> tuple[Any, list[JSON]]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = req.params.get("offset")
        limit = int(req.params.get("limit") or 100)
        timeout = float(req.params.get("timeout") or 0)
        self._confirm(offset)
        if not self._updates and timeout > 0 and not self._closing:
            self._updates_event.clear()
            try:
                await asyncio.wait_for(self._updates_event.wait(), timeout)
            except TimeoutError:
                pass
        allowed = req.params.get("allowed_updates")
        if isinstance(allowed, list) and allowed:
            kept = [u for u in self._updates if any(k in u for k in allowed)]
            self._updates = deque(kept)
        batch = list(itertools.islice(self._updates, max(1, min(limit, 100))))
        if batch:
            self._delivered_update_id = max(self._delivered_update_id, int(batch[-1]["update_id"]))
        return batch, []

    def _confirm(self, offset: Any) -> None:
        """Drop updates confirmed by ``offset`` (negative offsets keep only the last -offset updates)."""
        if not isinstance(offset, int) or offset == 0:
            return
        if offset < 0:
            while len(self._updates) > -offset:
                self._updates.popleft()
            return
        while self._updates and self._updates[0]["update_id"] < offset:
            self._updates.popleft()

    async def _m_delete_webhook(self, req: _Request) -> tuple[Any, list[JSON]]:
        self.webhook_url = ""
        if req.params.get("drop_pending_updates"):
            self._updates.clear()
        return True, []

    async def _m_set_webhook(self, req: _Request) -> tuple[Any, list[JSON]]:
        self.webhook_url = str(req.params.get("url") or "")
        if req.params.get("drop_pending_updates"):
            self._updates.clear()
        return True, []

    async def _m_get_webhook_info(self, req: _Request) -> tuple[Any, list[JSON]]:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }, []

    async def _m_set_my_commands(self, req: _Request) -> tuple[Any, list[JSON]]:
        commands = req.params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._command_key(req.params.get("scope"), req.params.get("language_code"))
        self._commands[key] = [dict(c) for c in commands]
        return True, []

    async def _m_delete_my_commands(self, req: _Request) -> tuple[Any, list[JSON]]:
        self._commands.pop(self._command_key(req.params.get("scope"), req.params.get("language_code")), None)
        return True, []

    async def _m_get_my_commands(self, req: _Request) -> tuple[Any, list[JSON]]:
        key = self._command_key(req.params.get("scope"), req.params.get("language_code"))
        return self._commands.get(key, []), []

    async def _m_send_message(self, req: _Request) -> tuple[Any, list[JSON]]:
        self._target_chat(req)
        return self._bot_send(req, self._text_content(req))

    async def _m_send_photo(self, req: _Request) -> tuple[Any, list[JSON]]:
        self._target_chat(req)
        upload, ref = self._media_input(req, "photo")
        caption = self._caption_content(req)
        return self._bot_send(req, {"photo": self._photo_from(upload, ref), **caption})

    async def _m_send_document(self, req: _Request) -> tuple[Any, list[JSON]]:
        self._target_chat(req)
        upload, ref = self._media_input(req, "document")
        caption = self._caption_content(req)
        return self._bot_send(req, {"document": self._media_from("document", upload, ref), **caption})

    async def _m_send_generic_media(self, req: _Request) -> tuple[Any, list[JSON]]:
        self._target_chat(req)
        kind = {
            "sendVideo": "video",
            "sendAudio": "audio",
            "sendVoice": "voice",
            "sendAnimation": "animation",
            "sendSticker": "sticker",
            "sendVideoNote": "video_note",
        }[req.method]
        upload, ref = self._media_input(req, kind)
        caption = {} if kind in ("sticker", "video_note") else self._caption_content(req)
        return self._bot_send(req, {kind: self._media_from(kind, upload, ref), **caption})

    @staticmethod
    def _location(req: _Request) -> JSON:
        lat, lon = req.params.get("latitude"), req.params.get("longitude")
        if not isinstance(lat, int | float) or not -90 <= lat <= 90:
            raise _bad_request("wrong latitude")
        if not isinstance(lon, int | float) or not -180 <= lon <= 180:
            raise _bad_request("wrong longitude")
        location: JSON = {"latitude": float(lat), "longitude": float(lon)}
        for key in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
            if req.params.get(key) is not None:
                location[key] = req.params[key]
        return location

    async def _m_send_location(self, req: _Request) -> tuple[Any, list[JSON]]:
        self._target_chat(req)
        return self._bot_send(req, {"location": self._location(req)})

    async def _m_send_venue(self, req: _Request) -> tuple[Any, list[JSON]]:
        self._target_chat(req)
        location = self._location(req)
        title, address = req.params.get("title"), req.params.get("address")
        if not title or not address:
            raise _bad_request("venue title and address must be non-empty")
        venue: JSON = {"location": location, "title": title, "address": address}
        for key in ("foursquare_id", "foursquare_type", "google_place_id", "google_place_type"):
            if req.params.get(key):
                venue[key] = req.params[key]
        return self._bot_send(req, {"venue": venue, "location": location})

    async def _m_send_contact(self, req: _Request) -> tuple[Any, list[JSON]]:
        self._target_chat(req)
        contact: JSON = {
            "phone_number": str(req.params.get("phone_number") or ""),
            "first_name": str(req.params.get("first_name") or ""),
        }
        if not contact["phone_number"] or not contact["first_name"]:
            raise _bad_request("phone number and first name must be non-empty")
        for key in ("last_name", "vcard"):
            if req.params.get(key):
                contact[key] = req.params[key]
        return self._bot_send(req, {"contact": contact})

    async def _m_send_dice(self, req: _Request) -> tuple[Any, list[JSON]]:
        self._target_chat(req)
        emoji = str(req.params.get("emoji") or "🎲")
        return self._bot_send(req, {"dice": {"emoji": emoji, "value": random.randint(1, 6)}})

    async def _m_send_poll(self, req: _Request) -> tuple[Any, list[JSON]]:
        self._target_chat(req)
        options = req.params.get("options")
        if not isinstance(options, list) or not 2 <= len(options) <= 12:
            raise _bad_request("POLL_OPTIONS_INVALID")
        texts = [str(o.get("text") if isinstance(o, dict) else o) for o in options]
        return self._bot_send(req, {"poll": self.make_poll(str(req.params.get("question") or ""), texts)})

    async def _m_send_media_group(self, req: _Request) -> tuple[Any, list[JSON]]:
        chat_id = self._target_chat(req)
        media = req.params.get("media")
        if not isinstance(media, list):
            raise _bad_request("can't parse media JSON object")
        if not 2 <= len(media) <= 10:
            raise _bad_request("wrong number of media in the group (must be 2-10)")
        contents: list[JSON] = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") not in ("photo", "video", "document", "audio"):
                raise _bad_request("can't parse InputMedia: media type is invalid")
            item_req = _Request(req.method, {**item, "chat_id": chat_id}, req.files, chat_id)
            upload, ref = self._media_input(item_req, "media")
            kind = str(item["type"])
            body = self._photo_from(upload, ref) if kind == "photo" else self._media_from(kind, upload, ref)
            contents.append({kind: body, **self._caption_content(item_req)})
        reply_to = self._reply_target(req, chat_id)
        group_id = str(13_000_000_000 + next(self._media_group_ids))
        messages = []
        for content in contents:
            extra: JSON = {"media_group_id": group_id}
            if reply_to is not None:
                extra["reply_to_message"] = reply_to
            messages.append(self.new_message(chat_id, self.bot_user, {**content, **extra}))
        return messages, messages

    _CONTENT_KEYS = (
        "text",
        "entities",
        "caption",
        "caption_entities",
        "photo",
        "document",
        "video",
        "audio",
        "voice",
        "animation",
        "sticker",
        "video_note",
        "location",
        "venue",
        "contact",
        "poll",
        "dice",
    )

    def _source_message(self, req: _Request, what: str) -> JSON:
        from_chat, message_id = req.params.get("from_chat_id"), req.params.get("message_id")
        if not isinstance(from_chat, int) or not isinstance(message_id, int):
            raise _bad_request(f"message to {what} not found")
        source = self.get_message(from_chat, message_id)
        if source is None:
            raise _bad_request(f"message to {what} not found")
        return source

    async def _m_copy_message(self, req: _Request) -> tuple[Any, list[JSON]]:
        self._target_chat(req)
        source = self._source_message(req, "copy")
        content = {k: source[k] for k in self._CONTENT_KEYS if k in source}
        if req.params.get("caption") is not None:
            content.pop("caption_entities", None)
            content.update(self._caption_content(req))
        message, messages = self._bot_send(req, content)
        return {"message_id": message["message_id"]}, messages

    async def _m_forward_message(self, req: _Request) -> tuple[Any, list[JSON]]:
        self._target_chat(req)
        source = self._source_message(req, "forward")
        content = {k: source[k] for k in self._CONTENT_KEYS if k in source}
        content["forward_origin"] = {
            "type": "user",
            "sender_user": source.get("from", self.bot_user),
            "date": source["date"],
        }
        return self._bot_send(req, content)

    async def _m_edit_message_text(self, req: _Request) -> tuple[Any, list[JSON]]:
        old = self._edit_target(req)
        text, entities = self._render(req, "text", caption=False)
        markup = self._inline_markup(req.params.get("reply_markup"))
        if old is None:
            return True, []
        if "text" not in old:
            raise _bad_request("there is no text in the message to edit")
        return self._finish_edit(old, {"text": text, "entities": entities}, markup)

    async def _m_edit_message_caption(self, req: _Request) -> tuple[Any, list[JSON]]:
        old = self._edit_target(req)
        text, entities = self._render(req, "caption", caption=True) if req.params.get("caption") else ("", [])
        markup = self._inline_markup(req.params.get("reply_markup"))
        if old is None:
            return True, []
        if "text" in old:
            raise _bad_request("there is no caption in the message to edit")
        return self._finish_edit(old, {"caption": text or None, "caption_entities": entities}, markup)

    async def _m_edit_message_reply_markup(self, req: _Request) -> tuple[Any, list[JSON]]:
        old = self._edit_target(req)
        markup = self._inline_markup(req.params.get("reply_markup"))
        if old is None:
            return True, []
        return self._finish_edit(old, {}, markup)

    async def _m_delete_message(self, req: _Request) -> tuple[Any, list[JSON]]:
        chat_id = self._target_chat(req)
        message_id = req.params.get("message_id")
        store = self._messages.get(chat_id, {})
        if not isinstance(message_id, int) or message_id not in store:
            if self.strict:
                raise _bad_request("message to delete not found")
            return True, []
        del store[message_id]
        return True, []

    async def _m_answer_callback_query(self, req: _Request) -> tuple[Any, list[JSON]]:
        query_id = str(req.params.get("callback_query_id") or "")
        if self.strict and (query_id not in self._callback_chat or query_id in self._answered_callbacks):
            raise _bad_request("query is too old and response timeout expired or query ID is invalid")
        self._answered_callbacks.add(query_id)
        return True, []

    async def _m_get_file(self, req: _Request) -> tuple[Any, list[JSON]]:
        fake = self.files.get(str(req.params.get("file_id") or ""))
        if fake is None or fake.file_id in self._lost_files:
            raise _bad_request("invalid file_id")
        return {
            "file_id": fake.file_id,
            "file_unique_id": fake.file_unique_id,
            "file_size": fake.size,
            "file_path": fake.file_path,
        }, []

    async def _m_get_chat(self, req: _Request) -> tuple[Any, list[JSON]]:
        chat_id = self._target_chat(req)
        if chat_id > 0 and chat_id not in self.users and chat_id not in self._messages:
            raise _bad_request("chat not found")
        return {
            **self.chat_dict(chat_id),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }, []
