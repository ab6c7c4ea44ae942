"""Fair under a flood: thirty accounts flooding the bot with wrong invitation codes neither drown a kepala desa's
answer nor get an answer per message; each of them hears once that they must slow down, at Telegram's pace for one
chat. Against the real bot with the production flood limits (the harness raises them for every other test)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import Update

from bot.core.clock import FakeClock
from bot.telegram.inbound import FairLanes
from bot.telegram.ratelimit import PACE_BURST, FloodGuard, Verdict
from tests.conftest import START
from tests.fake_telegram import Call
from tests.harness import BotHarness

FLOODERS = 30
MESSAGES_EACH = 60


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    # Telegram's overall limit for the answers, and the default flood limits
    h = BotHarness(tmp_path, FakeClock(START), outbox_rate=28.0,
                   extra={"SAMBANG_RATE_LIMIT_BURST": "20", "SAMBANG_RATE_LIMIT_PER_MINUTE": "40"})
    await h.start()
    try:
        yield h
    finally:
        await h.close()


async def test_thirty_flooding_accounts_do_not_delay_a_kepala_desa(bot: BotHarness) -> None:
    h = bot
    kades = await h.kepala_desa(700_001)
    flooders = [h.user(710_000 + i, f"Tamu{i}") for i in range(FLOODERS)]
    mark = h.server.mark()
    for n in range(MESSAGES_EACH):  # the accounts send at the same time, interleaved
        for flooder in flooders:
            flooder.send(f"/start BADCODE{n:02d}")
    started = time.monotonic()
    await h.say(kades, "/bantuan", "Bantuan Sambang", timeout=30)
    waited = time.monotonic() - started
    assert waited < 5.0, f"the kepala desa waited {waited:.1f} s behind the flood"

    # each flooder: the answers to its first messages (a short burst) and one slow-down, then silence
    for flooder in flooders:
        await h.server.wait_for_text(flooder.id, "terlalu cepat", timeout=10, since=mark)
    await h.settle(timeout=30)
    for flooder in flooders:
        answers = [c for c in h.server.calls[mark:] if c.chat_id == flooder.id and c.method == "sendMessage"]
        assert len(answers) <= PACE_BURST + 1, [c.text for c in answers]
        assert sum("terlalu cepat" in (c.text or "") for c in answers) == 1
    paced = [v for v in h.server.violations if v.kind == "private_chat" and v.chat_id in {f.id for f in flooders}]
    assert paced == [], paced[:3]
    # dropped, and still marked handled: nothing is replayed at the next start
    assert await h.svc.db.fetchval("SELECT COUNT(*) FROM inbound_updates") == 0


async def test_messages_written_apart_are_not_a_flood_when_handled_at_once(bot: BotHarness) -> None:
    """After an outage the bot handles a backlog at once: what counts is when each message was written."""
    h = bot
    user = h.user(720_001, "Sabar")
    now = h.server.now()
    mark = h.server.mark()
    for n in range(25):  # more than the burst, one every two seconds, all waiting for the bot at once
        update = user.send("/bantuan")  # still queued: the date it carries can be set before the bot polls
        update["message"] = {**update["message"], "date": now - 50 + 2 * n}
    await h.settle(timeout=20)
    texts = [c.text or "" for c in h.server.calls[mark:] if c.chat_id == user.id and c.method == "sendMessage"]
    assert not [t for t in texts if "terlalu cepat" in t]
    assert sum("Bantuan Sambang" in t for t in texts) == 25, texts


async def test_an_hour_of_messages_delivered_at_once_after_downtime_is_not_throttled(bot: BotHarness) -> None:
    """The bot was down for an hour; a kepala desa kept writing now and then. When it is back, Telegram hands over
    the whole backlog at once: more than the burst and the per-minute rate, but written far apart."""
    h = bot
    user = h.user(720_002, "Rajin")
    now = h.server.now()
    mark = h.server.mark()
    for n in range(45):  # one every 80 seconds over the last hour
        update = user.send("/bantuan")
        update["message"] = {**update["message"], "date": now - 3600 + 80 * n}

    def answers() -> list[str]:
        return [c.text or "" for c in h.server.calls[mark:] if c.chat_id == user.id and c.method == "sendMessage"]

    answered = 0

    def forty_fifth(call: Call) -> bool:
        nonlocal answered
        answered += call.method == "sendMessage" and "Bantuan Sambang" in (call.text or "")
        return answered == 45

    await h.server.wait_for(forty_fifth, 40, chat_id=user.id, since=mark, what="the 45th answer")
    await h.settle(timeout=20)
    assert not [t for t in answers() if "terlalu cepat" in t]
    assert sum("Bantuan Sambang" in t for t in answers()) == 45


def test_a_flood_episode_is_answered_once_and_lasts_while_the_sender_keeps_sending() -> None:
    guard = FloodGuard(20, 40)  # the defaults: one message a second after a burst of three, twenty in a row at most
    t = 1_000.0
    assert [guard.check(1, t) for _ in range(PACE_BURST)] == [Verdict.ALLOW] * PACE_BURST  # typed quickly
    assert guard.check(1, t) is Verdict.WARN  # one more within the same second
    assert guard.pause_seconds(1) == 2
    for second in range(30):  # a script that keeps sending hears nothing more
        assert {guard.check(1, t + second) for _ in range(5)} == {Verdict.DROP}
    assert guard.check(1, t + 31) is Verdict.ALLOW  # two quiet seconds, as asked
    assert guard.check(2, t) is Verdict.ALLOW  # nobody else is affected
    # an album counts once (up to ten items); button presses are not paced per second
    assert [guard.check(3, t, album="a") for _ in range(10)] == [Verdict.ALLOW] * 10
    assert [guard.check(3, t) for _ in range(PACE_BURST - 1)] == [Verdict.ALLOW] * (PACE_BURST - 1)
    assert guard.check(3, t, album="a") is Verdict.WARN
    assert [guard.check(4, t, paced=False) for _ in range(20)] == [Verdict.ALLOW] * 20
    assert guard.check(4, t, paced=False) is Verdict.WARN
    assert guard.check(4, t) is Verdict.ALLOW  # presses (judged by the bot's clock) and messages are kept apart


async def test_a_person_typing_quickly_is_answered_every_time(bot: BotHarness) -> None:
    """Three messages within one second (a quick photo and its text, a few forwarded at once) are no flood."""
    h = bot
    user = h.user(730_001, "Cepat")
    now = h.server.now()
    mark = h.server.mark()
    for _ in range(PACE_BURST):
        update = user.send("/bantuan")
        update["message"] = {**update["message"], "date": now}
    await h.settle(timeout=10)
    texts = [c.text or "" for c in h.server.calls[mark:] if c.chat_id == user.id and c.method == "sendMessage"]
    assert sum("Bantuan Sambang" in t for t in texts) == PACE_BURST, texts
    assert not [t for t in texts if "terlalu cepat" in t]


async def test_the_queue_takes_senders_in_turn() -> None:
    """One sender's backlog does not hold up the next sender: their update is handled in the first round."""
    queue = FairLanes()
    flood = [_update(i, user_id=1) for i in range(50)]
    for update in flood:
        queue.append(update)
    queue.append("stop")  # PTB's stop signal comes out after every update
    queue.append(_update(99, user_id=2))
    taken = [queue.popleft() for _ in range(len(queue))]
    assert taken[1].update_id == 99  # the second sender's only update comes right after the flood's first
    assert [u.update_id for u in taken[:-1] if u.effective_user.id == 1] == list(range(50))  # order kept per person
    assert taken[-1] == "stop"


def _update(update_id: int, *, user_id: int) -> Update:
    return Update.de_json({"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "chat": {"id": user_id, "type": "private"},
        "from": {"id": user_id, "is_bot": False, "first_name": "X"}, "text": "hai"}}, None)
