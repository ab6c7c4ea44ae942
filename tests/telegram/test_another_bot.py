"""A database taken over by another bot: Telegram numbers each bot's updates in its own sequence, so the first
updates of the new bot must not be mistaken for redeliveries of the old bot's."""

from __future__ import annotations

from tests.fake_telegram import BOT_ID, FakeTelegram
from tests.harness import TOKEN, BotHarness


async def test_a_new_bot_on_the_same_database_answers_its_first_updates(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.say(kades, "/batal", "Aspirasi dibatalkan")
    handled = await harness.svc.db.fetchval("SELECT COUNT(*) FROM processed_updates")
    assert handled >= 2

    # the regency makes a new bot and puts its token in place: a new Telegram sequence of update ids, from the
    # same first number as the old bot's
    await harness.stop()
    await harness.server.stop()
    harness.server = FakeTelegram(token=TOKEN)
    harness.server.bot_user["id"] = BOT_ID + 1
    await harness.start()

    kades = harness.server.user(10, "Budi")
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    await harness.say(kades, "/batal", "Aspirasi dibatalkan")


async def test_the_same_bot_after_a_restart_still_ignores_redeliveries(harness: BotHarness) -> None:
    kades = await harness.kepala_desa(10)
    await harness.say(kades, "/aspirasi", "Langkah 1 dari 4")
    marked = await harness.svc.db.fetchval("SELECT COUNT(*) FROM processed_updates")
    await harness.restart()
    assert await harness.svc.db.fetchval("SELECT COUNT(*) FROM processed_updates") == marked
    assert await harness.svc.db.fetchval("SELECT value FROM app_state WHERE key = 'bot_id'") == str(BOT_ID)
