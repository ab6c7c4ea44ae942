"""Proves tests/fake_telegram.py speaks the Bot API well enough for the real PTB stack."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaPhoto,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fake_telegram import BOT_ID, BOT_USERNAME, FakeTelegram, render_html

TOKEN = "123:TEST"


# --------------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------------


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegram]:
    srv = FakeTelegram(token=TOKEN)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def bot(server: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=server.base_url, base_file_url=server.base_file_url) as b:
        yield b


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message and update.effective_user
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("Ya", callback_data="yes"), InlineKeyboardButton("Tidak", callback_data="no")]]
    )
    await update.effective_message.reply_text(
        f"Selamat datang, <b>{update.effective_user.first_name}</b>!\n",
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard,
    )


async def _pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(f"Pilihan: {query.data}")


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.text is not None
    if message.reply_to_message:
        await message.reply_text(f"Balasan untuk {message.reply_to_message.message_id}: {message.text}")
    else:
        await message.reply_text(f"Echo: {message.text}")


async def _edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.edited_message is not None
    await update.edited_message.reply_text(f"Diedit: {update.edited_message.text}")


async def _photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.photo
    file = await context.bot.get_file(message.photo[-1].file_id)
    data = await file.download_as_bytearray()
    await message.reply_text(f"Foto {len(data)} byte, caption={message.caption}")


async def _document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.document
    await message.reply_text(f"Dokumen {message.document.file_name} {message.document.mime_type}")


async def _location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.location
    await message.reply_text(f"Lokasi {message.location.latitude:.3f},{message.location.longitude:.3f}")


async def _contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.contact
    own = message.contact.user_id == message.from_user.id if message.from_user else False
    await message.reply_text(
        f"Kontak {message.contact.phone_number} own={own}",
        reply_markup=ReplyKeyboardMarkup([[KeyboardButton("Selesai")]]),
    )


async def _other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text("Jenis pesan ini belum didukung")


@pytest.fixture
async def app(server: FakeTelegram) -> AsyncIterator[Application]:
    application = (
        ApplicationBuilder().token(TOKEN).base_url(server.base_url).base_file_url(server.base_file_url).build()
    )
    application.add_handler(CommandHandler("start", _start))
    application.add_handler(CallbackQueryHandler(_pressed))
    application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.TEXT, _edited))
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND, _echo))
    application.add_handler(MessageHandler(filters.PHOTO, _photo))
    application.add_handler(MessageHandler(filters.Document.ALL, _document))
    application.add_handler(MessageHandler(filters.LOCATION, _location))
    application.add_handler(MessageHandler(filters.CONTACT, _contact))
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & ~filters.COMMAND, _other))
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


# --------------------------------------------------------------------------------------------------
# End to end with a real Application
# --------------------------------------------------------------------------------------------------


async def test_start_keyboard_press_and_edit(server: FakeTelegram, app: Application) -> None:
    budi = server.user(1001, "Budi")
    budi.send("/start")
    call = await server.wait_for_text(budi.id, "Selamat datang")
    message = call.message
    assert message is not None
    # HTML is parsed and trimmed like Telegram does; entities are in UTF-16 units.
    assert message["text"] == "Selamat datang, Budi!"
    assert message["entities"] == [{"type": "bold", "offset": 16, "length": 4}]
    assert message["from"]["id"] == BOT_ID and message["chat"] == {"id": 1001, "type": "private", "first_name": "Budi"}
    assert call.buttons == ["Ya", "Tidak"] and budi.buttons() == ["Ya", "Tidak"]
    assert message["message_id"] == 2  # user's /start was message 1 in this chat

    update = budi.press_button("Tidak")
    assert update["callback_query"]["message"]["message_id"] == message["message_id"]
    edited = await server.wait_for_text(budi.id, "Pilihan: no")
    assert edited.method == "editMessageText"
    assert "reply_markup" not in edited.message  # editing text without markup drops the keyboard
    answered = await server.wait_for_call("answerCallbackQuery", chat_id=budi.id)
    assert answered.params["callback_query_id"] == update["callback_query"]["id"]

    with pytest.raises(AssertionError, match="No inline button 'Ya'"):
        budi.press_button("Ya")  # the keyboard is gone now
    budi.press(call, "yes")  # pressing an explicit message still works (stale keyboards do exist)
    await server.wait_for_text(budi.id, "Pilihan: yes")
    await server.wait_idle()
    assert server.texts(budi.id) == ["Selamat datang, Budi!", "Pilihan: no", "Pilihan: yes"]
    assert [c.method for c in server.sent(budi.id)] == ["sendMessage", "editMessageText", "editMessageText"]
    assert server.violations == []


async def test_press_button_lists_available_buttons(server: FakeTelegram, app: Application) -> None:
    budi = server.user(1002, "Budi")
    budi.send("/start")
    await server.wait_for_text(budi.id, "Selamat datang")
    with pytest.raises(AssertionError) as info:
        budi.press_button("Nanti")
    assert "['Ya', 'Tidak']" in str(info.value)


async def test_group_command_with_bot_username(server: FakeTelegram, app: Application) -> None:
    group = server.group(-100200300, "Grup Kecamatan")
    siti = server.user(1003, "Siti", username="siti")
    update = siti.send(f"/start@{BOT_USERNAME} ayo", chat=group)
    entity = update["message"]["entities"][0]
    assert entity == {"type": "bot_command", "offset": 0, "length": len(f"/start@{BOT_USERNAME}")}
    call = await server.wait_for_text(group.id, "Selamat datang, Siti")
    assert call.message is not None and call.message["chat"]["type"] == "supergroup"
    siti.send("/start@other_bot", chat=group)  # addressed to another bot: PTB ignores it
    siti.send("halo grup", chat=group)
    await server.wait_for_text(group.id, "Echo: halo grup")
    assert server.texts(group.id) == ["Selamat datang, Siti!", "Echo: halo grup"]


async def test_media_location_contact_and_others(server: FakeTelegram, app: Application) -> None:
    ani = server.user(1004, "Ani")
    photo_update = ani.send_photo(caption="jalan rusak")
    sizes = photo_update["message"]["photo"]
    assert len(sizes) == 4 and len({s["file_id"] for s in sizes}) == 4
    largest = sizes[-1]
    await server.wait_for_text(ani.id, f"Foto {largest['file_size']} byte, caption=jalan rusak")
    assert server.downloads  # the handler really downloaded through /file/bot<token>/...

    ani.send_document("proposal.pdf", "application/pdf", 12345)
    await server.wait_for_text(ani.id, "Dokumen proposal.pdf application/pdf")
    ani.send_location(-7.25, 112.75)
    await server.wait_for_text(ani.id, "Lokasi -7.250,112.750")
    ani.send_contact("+628123456789")
    call = await server.wait_for_text(ani.id, "Kontak +628123456789 own=True")
    assert call.params["reply_markup"]["keyboard"] == [[{"text": "Selesai"}]]
    assert ani.reply_keyboard == [["Selesai"]]
    ani.send_contact("+628111", user_id=5555, first_name="Pak Lurah")
    await server.wait_for_text(ani.id, "Kontak +628111 own=False")

    mark = server.mark()
    for send in (ani.send_sticker, ani.send_voice, ani.send_video_note, ani.send_poll, ani.send_dice):
        send()
    await server.wait_until(
        lambda: len([c for c in server.sent(ani.id) if c.index >= mark]) == 5, what="5 'unsupported' replies"
    )
    await server.wait_idle()


async def test_edit_and_reply(server: FakeTelegram, app: Application) -> None:
    joko = server.user(1005, "Joko")
    original = joko.send("halo")
    await server.wait_for_text(joko.id, "Echo: halo")
    joko.edit(original, "halo lagi")
    await server.wait_for_text(joko.id, "Diedit: halo lagi")
    bot_reply = server.sent(joko.id)[0]
    update = joko.reply(bot_reply, "terima kasih")
    assert update["message"]["reply_to_message"]["message_id"] == bot_reply.message["message_id"]
    await server.wait_for_text(joko.id, f"Balasan untuk {bot_reply.message['message_id']}: terima kasih")


async def test_many_users_concurrently(server: FakeTelegram, app: Application) -> None:
    users = [server.user(20_000 + i, f"Kades {i}") for i in range(200)]
    for user in users:
        user.send(f"laporan {user.id}")
    await server.wait_until(lambda: len(server.sent()) == len(users), timeout=8, what="200 echoes")
    for user in users:
        assert server.texts(user.id) == [f"Echo: laporan {user.id}"]
    await server.wait_idle()
    # One reply per chat never breaks the per-chat limit; 200 fast replies usually break the 30 msg/s one.
    assert {v.kind for v in server.violations} <= {"global"}


# --------------------------------------------------------------------------------------------------
# Direct Bot API behaviour
# --------------------------------------------------------------------------------------------------


async def test_get_me_and_unknown_method(server: FakeTelegram, bot: Bot) -> None:
    assert bot.id == BOT_ID and bot.username == BOT_USERNAME
    assert await bot.do_api_request("setSomethingNew", api_kwargs={"chat_id": 5, "flag": True}) is True
    call = server.unknown_calls[-1]
    assert call.method == "setSomethingNew" and call.params == {"chat_id": 5, "flag": True} and call.chat_id == 5


async def test_long_poll_offset_and_timeout(server: FakeTelegram, bot: Bot) -> None:
    user = server.user(1006, "Rina")
    loop = asyncio.get_running_loop()
    loop.call_later(0.1, user.send, "pagi")
    started = time.monotonic()
    updates = await bot.get_updates(timeout=3)
    assert time.monotonic() - started < 1.5
    assert [u.message.text for u in updates if u.message] == ["pagi"]
    # Unconfirmed updates are redelivered; confirming via offset drops them.
    assert len(await bot.get_updates(timeout=0)) == 1
    started = time.monotonic()
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0.3) == ()
    assert 0.25 <= time.monotonic() - started < 1.5
    second, third = user.send("a"), user.send("b")
    assert second["update_id"] < third["update_id"]
    assert third["message"]["message_id"] == second["message"]["message_id"] + 1


async def test_uploads_files_and_media_group(server: FakeTelegram, bot: Bot) -> None:
    server.user(1007, "Dewi")
    message = await bot.send_document(1007, InputFile(b"%PDF-1.4 hello", filename="rekap.pdf"), caption="Rekap")
    call = server.last_call("sendDocument")
    assert call is not None and call.files["document"].filename == "rekap.pdf"
    assert call.files["document"].size == len(b"%PDF-1.4 hello")
    assert message.document is not None and message.document.file_name == "rekap.pdf"
    assert message.caption == "Rekap"
    file = await bot.get_file(message.document.file_id)
    assert bytes(await file.download_as_bytearray()) == b"%PDF-1.4 hello"

    album = await bot.send_media_group(
        1007, [InputMediaPhoto(b"\xff\xd8one", caption="<i>satu</i>", parse_mode="HTML"), InputMediaPhoto(b"two")]
    )
    assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id
    assert album[0].caption == "satu" and album[0].caption_entities[0].type == "italic"
    group_call = server.last_call("sendMediaGroup")
    assert group_call is not None and len(group_call.files) == 2
    assert isinstance(group_call.params["media"], list)
    photo = await bot.get_file(album[0].photo[-1].file_id)
    assert bytes(await photo.download_as_bytearray()) == b"\xff\xd8one"

    # The project's outbox transport style: do_api_request with an InputFile and a dict markup.
    result = await bot.do_api_request(
        "sendDocument",
        api_kwargs={
            "chat_id": 1007,
            "document": InputFile(b"a,b\n1,2\n", filename="data.csv"),
            "reply_markup": {"inline_keyboard": [[{"text": "Buka", "callback_data": "open:1"}]]},
        },
    )
    assert isinstance(result, dict) and result["document"]["file_name"] == "data.csv"
    assert result["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "open:1"

    sent_location = await bot.send_location(1007, -7.5, 112.5)
    assert sent_location.location is not None and sent_location.location.latitude == -7.5
    venue = await bot.send_venue(1007, -7.5, 112.5, "Balai Desa", "Jl. Raya 1")
    assert venue.venue is not None and venue.venue.title == "Balai Desa"
    await bot.send_chat_action(1007, "typing")
    assert server.texts(1007) == ["Rekap", "satu"]  # captionless photo/csv/location add nothing
    assert [c.method for c in server.sent(1007, "sendPhoto")] == []


async def test_edits_and_strictness(server: FakeTelegram, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok")]])
    message = await bot.send_message(1008, "Status: baru", reply_markup=keyboard)
    assert message.reply_markup == keyboard
    edited = await bot.edit_message_reply_markup(1008, message.message_id, reply_markup=None)
    assert isinstance(edited, type(message)) and edited.reply_markup is None
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("Status: baru", 1008, message.message_id)
    with pytest.raises(BadRequest, match="not found"):
        await bot.edit_message_text("x", 1008, 999)
    assert await bot.edit_message_text("x", inline_message_id="abc") is True
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(
            1008, "x", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("long", callback_data="x" * 65)]])
        )
    with pytest.raises(BadRequest, match='(?i)unsupported start tag "br"'):
        await bot.send_message(1008, "baris<br>baris", parse_mode="HTML")
    with pytest.raises(BadRequest, match="text is empty"):
        await bot.send_message(1008, "  \n ")
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(1008, "x" * 4097)
    assert await bot.delete_message(1008, message.message_id) is True
    with pytest.raises(BadRequest, match="to delete not found"):
        await bot.delete_message(1008, message.message_id)
    failed = [c for c in server.calls_for(1008) if not c.ok]
    assert len(failed) == 7 and all(c.status == 400 for c in failed)


async def test_fault_injection(server: FakeTelegram, bot: Bot) -> None:
    server.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(1009, "a")
    assert info.value.retry_after in (3, dt.timedelta(seconds=3))
    await bot.send_message(1009, "b")  # only the next call failed

    server.fail_next("SENDMESSAGE", status=500, times=2, chat_id=1010)
    await bot.send_message(1009, "other chat unaffected")
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(1010, "c")
    await bot.send_message(1010, "d")

    server.fail_next("sendMessage", status=400, description="chat not found")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(1009, "e")

    server.block(1011)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(1011, "f")
    server.unblock(1011)
    await bot.send_message(1011, "g")

    server.drop_connection_next("sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(1009, "h")
    assert server.calls_for(1009)[-1].error == "connection dropped"
    assert server.texts(1009) == ["b", "other chat unaffected"]
    assert server.texts(1010) == ["d"] and server.texts(1011) == ["g"]


async def test_rate_limit_accounting(server: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(1012, "satu")
    await bot.send_message(1012, "dua")  # < 0.9 s later, same private chat
    await bot.send_chat_action(1012, "typing")  # not a message
    assert [(v.kind, v.chat_id) for v in server.violations] == [("private_chat", 1012)]

    server.violations.clear()
    for i in range(21):
        await bot.send_message(-100500, f"grup {i}")
    kinds = [v.kind for v in server.violations]
    assert kinds.count("group") == 1 and kinds.count("global") == 0

    strict = FakeTelegram(token=TOKEN, enforce_rate_limits=True)
    await strict.start()
    try:
        async with Bot(TOKEN, base_url=strict.base_url, base_file_url=strict.base_file_url) as strict_bot:
            await strict_bot.send_message(1, "a")
            with pytest.raises(RetryAfter):
                await strict_bot.send_message(1, "b")
            assert strict.violations[0].enforced
    finally:
        await strict.stop()

    telegram_like = FakeTelegram(token=TOKEN, enforce_rate_limits={"global", "group"})
    await telegram_like.start()
    try:
        async with Bot(TOKEN, base_url=telegram_like.base_url, base_file_url=telegram_like.base_file_url) as tg_bot:
            await tg_bot.send_message(1, "a")
            await tg_bot.send_message(1, "b")  # a burst in one private chat: recorded, not refused
            assert [(v.kind, v.enforced) for v in telegram_like.violations] == [("private_chat", False)]
            for i in range(28):
                await tg_bot.send_message(100 + i, "c")
            with pytest.raises(RetryAfter):  # the 31st message within a second
                await tg_bot.send_message(200, "d")
            assert telegram_like.violations[-1].kind == "global" and telegram_like.violations[-1].enforced
            assert telegram_like.texts(200) == []
    finally:
        await telegram_like.stop()


async def test_commands_are_stored_per_scope(server: FakeTelegram, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("start", "Mulai"), BotCommand("status", "Cek status")])
    await bot.set_my_commands([BotCommand("invite", "Undang")], scope=BotCommandScopeChat(42), language_code="id")
    assert [c.command for c in await bot.get_my_commands()] == ["start", "status"]
    scoped = await bot.get_my_commands(scope=BotCommandScopeChat(42), language_code="id")
    assert [c.command for c in scoped] == ["invite"]
    assert server.commands({"type": "chat", "chat_id": 42}, "id") == [{"command": "invite", "description": "Undang"}]
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()


async def test_wait_helpers_fail_readably(server: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(1013, "<b>Halo</b>", parse_mode="HTML")
    assert (await server.wait_for_text(1013, "Halo", timeout=0.2)).text == "Halo"
    with pytest.raises(AssertionError) as info:
        await server.wait_for_text(1013, "tidak ada", timeout=0.2)
    assert "sendMessage(chat=1013) 'Halo'" in str(info.value)
    server.user(1014, "Tono").send("tidak ada yang polling")
    with pytest.raises(AssertionError, match="never fetched"):
        await server.wait_idle(quiet=0.05, timeout=0.3)


def test_render_html_matches_telegram() -> None:
    text, entities = render_html('🙂 <b>Desa &amp; <i>Kota</i></b> <a href="https://x.id">tautan</a> a &copy; b > c')
    assert text == "🙂 Desa & Kota tautan a &copy; b > c"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 11},
        {"type": "italic", "offset": 10, "length": 4},
        {"type": "text_link", "offset": 15, "length": 6, "url": "https://x.id"},
    ]
    text, entities = render_html('<pre><code class="language-python">x = 1</code></pre>')
    assert entities == [{"type": "pre", "offset": 0, "length": 5, "language": "python"}]
    for bad, message in [
        ("a < b", 'Unsupported start tag ""'),
        ("<b>x", "Can't find end tag"),
        ("<b>x</i>", "Unmatched end tag"),
        ("x</b>", "Unexpected end tag"),
        ("<p>x</p>", 'Unsupported start tag "p"'),
    ]:
        with pytest.raises(ValueError, match=message):
            render_html(bad)
