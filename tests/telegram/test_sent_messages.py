"""What the bot reads back of a message it sent: Telegram's answer is trimmed to the fields Sambang uses (its id,
chat, date and text), and the message itself reaches the chat whole: buttons, formatting, album."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto
from telegram.constants import ParseMode

from bot.telegram.transport import SambangBot
from tests.fake_telegram import FakeTelegram
from tests.harness import TOKEN


@pytest.fixture
async def sambang_bot() -> AsyncIterator[tuple[FakeTelegram, SambangBot]]:
    server = FakeTelegram(token=TOKEN)
    await server.start()
    try:
        async with SambangBot(TOKEN, base_url=server.base_url, base_file_url=server.base_file_url) as bot:
            yield server, bot
    finally:
        await server.stop()


async def test_a_sent_message_comes_back_with_its_id_chat_and_text(
        sambang_bot: tuple[FakeTelegram, SambangBot]) -> None:
    server, bot = sambang_bot
    server.user(4001, "Budi")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Kirim", callback_data="asp:sum:send")]])
    sent = await bot.send_message(4001, "<b>Ringkasan</b> aspirasi", parse_mode=ParseMode.HTML,
                                  reply_markup=keyboard)
    call = server.last_call("sendMessage")
    assert call is not None and call.message is not None
    # the person got everything: the formatting and the button
    assert call.message["entities"][0]["type"] == "bold"
    assert call.message["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "asp:sum:send"
    # the bot reads back what it uses, and no more
    assert sent.message_id == call.message["message_id"] and sent.chat.id == 4001
    assert sent.text == "Ringkasan aspirasi" and sent.date is not None
    assert sent.reply_markup is None and sent.entities == () and sent.from_user is None

    edited = await bot.edit_message_text("<i>Terkirim</i>", chat_id=4001, message_id=sent.message_id,
                                         parse_mode=ParseMode.HTML)
    assert not isinstance(edited, bool) and edited.message_id == sent.message_id and edited.text == "Terkirim"


async def test_an_album_comes_back_as_its_messages(sambang_bot: tuple[FakeTelegram, SambangBot]) -> None:
    server, bot = sambang_bot
    server.user(4002, "Siti")
    album = await bot.send_media_group(4002, [InputMediaPhoto(b"\xff\xd8satu", caption="Jalan rusak"),
                                              InputMediaPhoto(b"\xff\xd8dua")])
    assert [m.chat.id for m in album] == [4002, 4002]
    assert album[0].caption == "Jalan rusak" and album[0].media_group_id == album[1].media_group_id
    assert len({m.message_id for m in album}) == 2


async def test_what_people_send_is_read_whole(sambang_bot: tuple[FakeTelegram, SambangBot]) -> None:
    """Only the bot's own sends are trimmed: an update carries the person's message and, for a button press, the
    bot message with every button, as Telegram sent them."""
    server, bot = sambang_bot
    ani = server.user(4003, "Ani")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ya", callback_data="ya"),
                                      InlineKeyboardButton("Tidak", callback_data="tidak")]])
    sent = await bot.send_message(4003, "Lanjutkan?", reply_markup=keyboard)
    ani.send("/aspirasi")
    ani.press(server.last_call("sendMessage"), "ya")
    updates = await bot.get_updates(timeout=0)
    assert len(updates) == 2
    command, press = updates
    assert command.message is not None and command.message.entities[0].type == "bot_command"
    assert command.message.from_user is not None and command.message.from_user.id == 4003
    assert press.callback_query is not None and press.callback_query.data == "ya"
    pressed_on = press.callback_query.message
    assert pressed_on is not None and pressed_on.message_id == sent.message_id
    assert pressed_on.reply_markup is not None  # type: ignore[union-attr]
    assert [b.text for b in pressed_on.reply_markup.inline_keyboard[0]] == ["Ya", "Tidak"]  # type: ignore[union-attr]
    me = await bot.get_me()
    assert me.id == bot.bot.id and me.username
