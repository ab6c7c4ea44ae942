"""What every handler needs: the caller's account, replies rendered from templates, role checks, and the
application-wide guards (duplicate updates, unknown messages, errors)."""

from __future__ import annotations

import html
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar, cast

from markupsafe import Markup
from telegram import Message, ReplyKeyboardRemove, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application, ApplicationHandlerStop, CallbackContext, ExtBot, JobQueue

from bot.core.clock import to_iso
from bot.core.domain import ROLE_LABELS, DomainError, Role
from bot.messaging import callbacks
from bot.messaging.templates import render
from bot.operations.logs import remember_name
from bot.people import service as people
from bot.people.roster import Person
from bot.people.service import Entry
from bot.services import Services
from bot.storage import audit
from bot.telegram import inbound

if TYPE_CHECKING:
    from bot.telegram.webhook import WebhookServer

log = logging.getLogger(__name__)


class SambangContext(CallbackContext[ExtBot[None], dict[str, Any], dict[str, Any], dict[str, Any]]):
    """CallbackContext with the bot's services; they live on the Application, never in persisted data."""

    #: the update's sender as ``caller`` read them, with the ``people`` change count and Telegram id of that read
    #: (a context serves one update)
    caller_read: tuple[tuple[int, int], tuple[Person | None, Entry | None]] | None = None

    @property
    def services(self) -> Services:
        return services_of(self.application)

    @property
    def cancel_hooks(self) -> tuple[CancelHook, ...]:
        return getattr(self.application, "cancel_hooks", ())


#: The PTB Application as Sambang builds it: its callbacks get a ``SambangContext``.
SambangApp: TypeAlias = Application[
    ExtBot[None], SambangContext, dict[str, Any], dict[str, Any], dict[str, Any], JobQueue[SambangContext]
]


class SambangApplication(SambangApp):
    """The PTB Application carrying Sambang's services."""

    # Application defines __slots__; a subclass without them gets a __dict__, which is what we want here.
    bot_data_services: Services
    #: the webhook server while the bot takes its updates by webhook (unset otherwise)
    webhook_server: WebhookServer | None
    #: the dashboard's own server in polling mode (``SAMBANG_WEB_LISTEN``; unset otherwise)
    web_server: Any
    #: Other flows' answers to /batal, in order, set by the composition root (see ``CancelHook``).
    cancel_hooks: tuple[CancelHook, ...] = ()


def services_of(app: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    """The services the composition root put on the application (built with ``SambangApplication``)."""
    return cast(SambangApplication, app).bot_data_services


R = TypeVar("R")
Handler = Callable[[Update, SambangContext], Coroutine[Any, Any, Any]]
Wrapped = Callable[[Update, SambangContext], Coroutine[Any, Any, R]]


def services(context: SambangContext) -> Services:
    return context.services


async def caller(update: Update, context: SambangContext) -> tuple[Person | None, Entry | None]:
    """Who sent the update (``people.caller_state``), read once per update: the guard asks whether they may use
    Sambang, then the handler who they are. The context is the update's own; a write to ``people`` in between
    (a registration, a role changed) makes the next ask read again."""
    user = update.effective_user
    if user is None:
        return None, None
    db = context.services.db
    key = (db.changes("people"), user.id)
    if context.caller_read is not None and context.caller_read[0] == key:
        return context.caller_read[1]
    state = await people.caller_state(db, user.id)
    context.caller_read = (key, state)
    return state


async def current_person(update: Update, context: SambangContext) -> Person | None:
    person, _inactive = await caller(update, context)
    return person


async def reply(update: Update, template: str, *, reply_markup: Any = None, **values: Any) -> Message | None:
    """Answer the user's own message (or button press) with a rendered template."""
    text = render(template, **values)
    message = update.effective_message
    chat = update.effective_chat
    if message is not None and update.callback_query is None:
        return await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=reply_markup,
                                        do_quote=False)
    if chat is not None:
        return await chat.send_message(text, parse_mode=ParseMode.HTML, reply_markup=reply_markup)
    return None


def notice(template: str, **values: Any) -> str:
    """A short notice from ``messages/notice/<name>.html.j2``.

    Already rendered (user values escaped), so it is ``Markup``: the refusal template must not escape it again —
    "/status <b>" has to read "<b>" to the user, not "&lt;b&gt;".
    """
    return Markup(render(f"notice/{template}", **values))


def _plain(message: str) -> str:
    """A callback answer is plain text: no tags, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", message)) if isinstance(message, Markup) else message


#: Callback queries already answered (Telegram refuses a second answer; the text would be lost).
_ANSWERED: OrderedDict[int, Any] = OrderedDict()


async def answer_button(update: Update, text: str | None = None, *, show_alert: bool = False) -> bool:
    """Answer the button press once. False if it was answered before (say it in the chat instead)."""
    query = update.callback_query
    if query is None:
        return False
    # Keyed by the object handled now (kept alive here, so its id is not reused while remembered): a replayed or
    # redelivered update is a new object and may be answered again.
    key = id(query)
    if key in _ANSWERED:
        return False
    _ANSWERED[key] = query
    while len(_ANSWERED) > 10_000:
        _ANSWERED.popitem(last=False)
    try:
        await query.answer(text, show_alert=show_alert)
    except BadRequest:
        pass
    return True


#: The callback-data codec's number checks, under the names the handlers and guards use.
MAX_BUTTON_NUMBER = callbacks.MAX_NUMBER
button_numbers_valid = callbacks.numbers_valid
button_number = callbacks.number


async def refuse(update: Update, message: str, *, show_alert: bool = False, reply_markup: Any = None) -> None:
    """A refusal: as a popup for button presses (or in the chat when the press was already answered), as a reply
    otherwise."""
    if update.callback_query is not None:
        text = _plain(message)
        if await answer_button(update, text[:190], show_alert=show_alert or len(text) > 60):
            return
    if not isinstance(message, Markup) and len(message) > 1000:  # a refusal quoting user input stays short
        message = message[:1000] + "…"
    await reply(update, "common/refusal", message=message, reply_markup=reply_markup)


def requires(*roles: Role) -> Callable[[Wrapped[R]], Wrapped[R | None]]:
    """Check the caller's role on the server for every call: commands and button presses alike."""

    def decorator(func: Wrapped[R]) -> Wrapped[R | None]:
        @wraps(func)
        async def wrapper(update: Update, context: SambangContext) -> R | None:
            if await person_or_refuse(update, context, roles) is None:
                return None
            return await func(update, context)

        return wrapper

    return decorator


def attempted_action(update: Update) -> str:
    """What a refused user tried, without what they wrote: the command, or the button's prefix."""
    if update.callback_query is not None:
        data = update.callback_query.data or ""
        return "tombol " + callbacks.head(data, 3)[:40]
    message = update.effective_message
    text = (message.text or "") if message is not None else ""
    if text.startswith("/"):
        return text.split()[0].split("@")[0][:40]
    return "pesan"


async def _audit_refusal(update: Update, context: SambangContext, why: str) -> None:
    """Log a refused privileged attempt and keep it in the audit table (who, what, when; never their text)."""
    user = update.effective_user
    what = attempted_action(update)
    log.warning("refused %s for user %s: %s", what, user.id if user else None, why)
    try:
        await audit.record_now(context.services.db, user.id if user else None, "ditolak", f"{what} ({why})",
                               now=context.services.clock.now())
    except Exception:  # the refusal itself was answered; a failed audit write is logged, never raised
        log.exception("could not write the refusal to the audit log")


async def person_or_refuse(update: Update, context: SambangContext, roles: Iterable[Role] = ()) -> Person | None:
    """The caller if registered and in one of ``roles`` (any role when empty); otherwise refuse and return None."""
    person = await current_person(update, context)
    allowed = tuple(roles)
    if person is None:
        if update.callback_query is not None:
            await refuse(update, notice("unregistered_button"), show_alert=True)
        else:
            await reply(update, "common/not_registered")
        if allowed:
            await _audit_refusal(update, context, "unregistered")
        return None
    if allowed and person.role not in allowed:
        labels = ", ".join(ROLE_LABELS[r] for r in allowed)
        if update.callback_query is not None:
            await refuse(update, notice("button_not_for_role", roles=labels), show_alert=True)
        else:
            await reply(update, "common/not_allowed", roles=labels)
        await _audit_refusal(update, context, f"role {person.role.value}")
        return None
    return person


# -- application-wide guards ------------------------------------------------------------------------------------


async def drop_duplicate_updates(update: Update, context: SambangContext) -> None:
    """Handle each Telegram update once, even if it is delivered again (e.g. after a crash before confirming)."""
    db = context.services.db
    now = to_iso(context.services.clock.now())
    if update.effective_user is not None:  # from now on their name is masked in the logs
        remember_name(update.effective_user.full_name, update.effective_user.username)
    private_user = update.effective_user.id if update.effective_user is not None and update.effective_chat is not None \
        and update.effective_chat.type == "private" else None
    failures = _failures(context)
    retry = failures is not None and failures.is_retry(update.update_id)  # coming back for another try
    if not await inbound.mark_handled(db, update.update_id, private_user, now) and not retry:
        log.info("dropping duplicate update %s", update.update_id)
        raise ApplicationHandlerStop


def _failures(context: SambangContext) -> inbound.FailedUpdates | None:
    return context.services.failed_updates


async def on_error(update: object, context: SambangContext) -> None:
    """Log the failure with its traceback. An update whose handling failed stops here and is tried again a little
    later; after a few failed tries it is set aside as a dead letter and its sender reads a short Indonesian note
    (``bot.telegram.inbound.FailedUpdates``). Without that tracker, the user reads a short apology."""
    if context.error is not None and inbound.is_transient(context.error):  # a fault outside the code: one line
        log.error("error while handling an update: %s: %s", type(context.error).__name__, context.error)
    else:
        log.error("error while handling an update", exc_info=context.error)
    if isinstance(context.error, Forbidden):
        return
    failures = _failures(context)
    if isinstance(update, Update) and failures is not None and context.error is not None:
        await failures.failed(update, context.error)
        raise ApplicationHandlerStop  # this try ends here: no later handler group sees a half-handled update
    if isinstance(update, Update):
        try:
            if update.callback_query is not None:
                if not await answer_button(update, notice("generic_error_alert"), show_alert=True) \
                        and update.effective_chat is not None:
                    await update.effective_chat.send_message(render("common/error_generic"), parse_mode=ParseMode.HTML)
            elif update.effective_chat is not None and update.effective_chat.type == "private":
                await update.effective_chat.send_message(render("common/error_generic"), parse_mode=ParseMode.HTML)
        except Exception:  # the apology itself must never raise
            log.exception("could not tell the user about the error")


async def persist_now(update: Update, context: SambangContext) -> None:
    """Write changed conversation state right after each update, so a crash loses no step of a conversation.
    The update went through every handler: it needs no more tries. A failed save is logged and made up by the
    next one (PTB saves on a timer too); it is no reason to handle the update again."""
    failures = _failures(context)
    if failures is not None:
        failures.succeeded(update.update_id)
    try:
        await context.application.update_persistence()
    except Exception as exc:
        log.error("could not save conversation state now (%s: %s); the next save writes it", type(exc).__name__, exc)


def domain_errors(func: Wrapped[R]) -> Wrapped[R | None]:
    """Turn a DomainError into its Indonesian message for the user."""

    @wraps(func)
    async def wrapper(update: Update, context: SambangContext) -> R | None:
        try:
            return await func(update, context)
        except DomainError as exc:
            await refuse(update, exc.message)
            return None

    return wrapper


def esc(text: str | None) -> str:
    return html.escape(text or "", quote=False)


REMOVE_KEYBOARD = ReplyKeyboardRemove()

#: Other flows' answers to /batal when no aspiration is being written: each returns True if it cancelled
#: something (and told the user). The composition root lists those of the flows whose conversation comes after the
#: aspiration's, since the global /batal handler is reached before their conversation's own fallback.
CancelHook = Callable[[Update, SambangContext], Awaitable[bool]]
