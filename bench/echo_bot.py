"""The yardstick: a minimal python-telegram-bot echo bot that answers every message and button press.

Run by the intake benchmark as its own process against the same fake Bot API server as Sambang:
``TELEGRAM_BOT_TOKEN=... TELEGRAM_API_BASE_URL=http://127.0.0.1:PORT/bot python bench/echo_bot.py [--rate-limiter]``.
``--rate-limiter`` adds the same ``AIORateLimiter(max_retries=0)`` Sambang's Application has, so the two can be
compared under Telegram's 30 messages a second as well as bare.
"""

from __future__ import annotations

import argparse
import os

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import AIORateLimiter, ApplicationBuilder, CallbackQueryHandler, ContextTypes, MessageHandler, filters

# One button, so the load generator can press something on the echo's answer as it does on Sambang's.
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="echo:ok")]])


async def echo_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    await message.reply_text(f"echo: {message.text or 'lampiran'}"[:4096], reply_markup=KEYBOARD, do_quote=False)


async def echo_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    await query.answer()
    await update.effective_chat.send_message(f"echo: {query.data}", reply_markup=KEYBOARD)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate-limiter", action="store_true", help="add AIORateLimiter(max_retries=0) as Sambang")
    args = parser.parse_args()
    builder = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_API_BASE_URL"])
        .base_file_url(os.environ.get("TELEGRAM_API_FILE_URL", os.environ["TELEGRAM_API_BASE_URL"]))
    )
    if args.rate_limiter:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=0))
    app = builder.build()
    app.add_handler(MessageHandler(filters.ALL, echo_message))
    app.add_handler(CallbackQueryHandler(echo_button))
    app.run_polling(allowed_updates=Update.ALL_TYPES, timeout=30)


if __name__ == "__main__":
    main()
