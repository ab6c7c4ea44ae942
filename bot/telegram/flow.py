"""Shared pieces of the guided flows of admins, leadership and officials (/kunjungan, /janji, /siaran, feedback,
a department's answer to a commitment).

Their ConversationHandlers live in handler group 0 like the aspiration conversation; /batal outside every
conversation is a fallback (handlers/fallback.py), so a flow's own /batal is reached first. ``button`` wraps a
flow's callbacks so that a button press is acknowledged once (``answer_button``), after the work; ``deny`` refuses as
a popup when the press was not answered yet and as a chat message otherwise. ``step`` writes once the opening of a
guided step: acknowledge the press, check the caller, load the step's draft, and leave when there is none.
``guided`` wires an admin's guided flow the same way for every command (entry, /batal, the stop button, a word where
a button was expected), with ``leave`` and ``stale`` for its way out and its old buttons.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from typing import Any, TypeVar

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.messaging import callbacks
from bot.people.roster import Person
from bot.telegram.context import SambangContext, answer_button, notice, reply

Callback = Callable[[Update, SambangContext], Coroutine[Any, Any, Any]]
D = TypeVar("D")
Guard = Callable[[Update, SambangContext], Awaitable[Person | None]]
Loader = Callable[[Update, SambangContext], Awaitable[D | None]]
Leave = Callable[[Update, SambangContext], Awaitable[int]]
Step = Callable[[Update, SambangContext, Person, D], Awaitable[str | int]]
StateCallback = Callable[[Update, SambangContext], Coroutine[Any, Any, str | int]]
GuardedStep = Callable[[Update, SambangContext, Person], Awaitable[str | int]]


def button(func: Callback) -> Callback:
    """Wrap a callback: its button press (if any) is acknowledged once it is done, unless it already was."""

    @wraps(func)
    async def wrapper(update: Update, context: SambangContext) -> Any:
        result = await func(update, context)
        await answer_button(update)
        return result

    return wrapper


async def deny(update: Update, context: SambangContext, message: str) -> None:
    """A refusal: as a popup on the press when it was not answered yet, otherwise as a message in the chat."""
    if update.callback_query is not None and await answer_button(update, message[:190], show_alert=True):
        return
    await reply(update, "common/refusal", message=message)


async def drop_buttons(update: Update) -> None:
    """Remove the buttons of the message whose button was pressed, so it cannot be pressed again."""
    message = update.callback_query.message if update.callback_query is not None else None
    # (a message without buttons — a forged press, or one already cleared — needs no call Telegram would refuse)
    if message is not None and getattr(message, "reply_markup", None) is not None:
        assert update.callback_query is not None
        try:
            await update.callback_query.edit_message_reply_markup(None)
        except BadRequest:
            pass


def text_of(update: Update) -> str:
    message = update.effective_message
    return (message.text or "").strip() if message is not None and update.callback_query is None else ""


def data_of(update: Update) -> str:
    return (update.callback_query.data or "") if update.callback_query is not None else ""


def choice_of(update: Update) -> str:
    """The last part of the pressed button's callback data (``pot:kind:sawah`` -> ``sawah``)."""
    return callbacks.field(data_of(update), -1)


def guarded(who: Guard) -> Callable[[GuardedStep], StateCallback]:
    """A conversation step that runs only for a caller ``who`` accepts (``who`` refuses the others, and the
    conversation ends for them)."""

    def decorate(func: GuardedStep) -> StateCallback:
        @wraps(func)
        async def wrapper(update: Update, context: SambangContext) -> str | int:
            person = await who(update, context)
            if person is None:
                return ConversationHandler.END
            return await func(update, context, person)

        return wrapper

    return decorate


def step(who: Guard, load: Loader[D], gone: Leave, *, press: bool = False) -> Callable[[Step[D]], StateCallback]:
    """A conversation step that runs only for a caller ``who`` accepts and with the draft ``load`` finds.

    With ``press`` the button press is acknowledged first (so a refusal after it goes to the chat). A refused caller
    ends the conversation; a missing draft leaves through ``gone``.
    """

    def decorate(func: Step[D]) -> StateCallback:
        @wraps(func)
        async def wrapper(update: Update, context: SambangContext) -> str | int:
            if press:
                await answer_button(update)
            person = await who(update, context)
            if person is None:
                return ConversationHandler.END
            draft = await load(update, context)
            if draft is None:
                return await gone(update, context)
            return await func(update, context, person, draft)

        return wrapper

    return decorate


PRIVATE = filters.ChatType.PRIVATE
TEXT = PRIVATE & filters.TEXT & ~filters.COMMAND
OTHER = PRIVATE & ~filters.COMMAND
States = dict[object, list[Any]]


def press(func: Callback, pattern: str) -> CallbackQueryHandler[Any, Any]:
    """A button of a guided flow, acknowledged once its step is done."""
    return CallbackQueryHandler(button(func), pattern=pattern)


def typed(func: Callback, filter_: filters.BaseFilter = TEXT) -> MessageHandler[Any, Any]:
    """A message in a guided flow (typed text unless ``filter_`` says otherwise)."""
    return MessageHandler(filter_, button(func))


def conversation(name: str, entry_points: list[Any], states: States, fallbacks: list[Any]) -> ConversationHandler[Any]:
    """A conversation kept across restarts under ``name``, which a new entry restarts."""
    return ConversationHandler(entry_points=entry_points, states=states, fallbacks=fallbacks, name=name,
                               persistent=True, allow_reentry=True)


#: One way into or through a drafting conversation: a button pattern (a press) or a message filter, and its step.
Route = tuple[str | filters.BaseFilter, Callback]


def _route(trigger: str | filters.BaseFilter, func: Callback) -> Any:
    if isinstance(trigger, str):
        return CallbackQueryHandler(func, pattern=trigger)
    return MessageHandler(trigger, func)


def drafting(command: str, start: Callback, entries: list[Route], states: dict[object, list[Route]],
             fallbacks: list[Route], *, cancel: Callback | None = None) -> ConversationHandler[Any]:
    """/``command`` (or a button of ``entries``): a kepala desa's conversation that writes a draft, named ``command``.

    Its steps acknowledge their presses themselves (they answer before the work, so a refusal after it goes to the
    chat); each state lists its routes in the order they are tried. With ``cancel``, the conversation's own /batal
    comes before ``fallbacks``.
    """
    entry = CommandHandler(command, start, filters=PRIVATE)
    own: list[Any] = [CommandHandler("batal", cancel, filters=PRIVATE)] if cancel is not None else []
    return conversation(command, [entry, *(_route(*r) for r in entries)],
                        {state: [_route(*r) for r in routes] for state, routes in states.items()},
                        own + [_route(*r) for r in fallbacks])


def guided(command: str, prefix: str, start: Callback, stop: Callback, states: States) -> ConversationHandler[Any]:
    """/``command``: an admin's guided flow of buttons (``<prefix>:…``) and typed answers, named ``command``.

    /batal and the ``<prefix>:stop`` button leave through ``stop``; /``command`` again starts over; any other message
    where a button is expected is answered with ``wrong_input``.
    """
    entry = CommandHandler(command, button(start), filters=PRIVATE)
    return conversation(command, [entry], states, [
        CommandHandler("batal", button(stop), filters=PRIVATE),
        CommandHandler(command, button(start), filters=PRIVATE),
        press(stop, rf"^{prefix}:stop$"),
        typed(wrong_input, OTHER),
    ])


def leave(key: str, template: str) -> Callable[[Update, SambangContext], Coroutine[Any, Any, int]]:
    """The way out of a guided flow: its buttons go, its draft (``user_data[key]``) too, and ``template`` says so."""

    async def stop(update: Update, context: SambangContext) -> int:
        await drop_buttons(update)
        if context.user_data is not None:
            context.user_data.pop(key, None)
        await reply(update, template)
        return ConversationHandler.END

    return stop


async def stale(update: Update, context: SambangContext, command: str) -> None:
    """A button of a guided flow that is over: refuse it, naming the command that starts again."""
    await deny(update, context, notice("flow_button_stale", command=command))


async def wrong_input(update: Update, context: SambangContext) -> None:
    """A message where a guided flow waits for a button."""
    await reply(update, "common/refusal", message=notice("use_the_buttons"))


async def finish(update: Update, context: SambangContext, key: str) -> None:
    """A guided flow is done: its buttons and its draft (``user_data[key]``) go."""
    await drop_buttons(update)
    assert context.user_data is not None
    context.user_data.pop(key, None)


async def done(update: Update, context: SambangContext, key: str, template: str, **values: Any) -> int:
    """A guided flow is done: its buttons and draft go, ``template`` says what was done, and the conversation ends."""
    await finish(update, context, key)
    await reply(update, template, **values)
    return ConversationHandler.END
