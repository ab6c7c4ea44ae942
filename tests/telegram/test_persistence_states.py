"""The conversation state store skips writing a state that did not change, and never skips one that did: what a
restart reads back is always the last state handed over."""

from __future__ import annotations

from bot.storage.database import Database
from bot.telegram.persistence import SqlitePersistence


async def _stored(db: Database) -> dict[tuple[int, ...], object]:
    return dict(await SqlitePersistence(db).get_conversations("aspirasi"))  # a fresh instance: as after a restart


async def test_the_last_state_is_what_a_restart_reads(db: Database) -> None:
    store = SqlitePersistence(db)
    await store.update_conversation("aspirasi", (5, 5), 1)
    await store.update_conversation("aspirasi", (5, 5), 1)
    assert await _stored(db) == {(5, 5): 1}
    await store.update_conversation("aspirasi", (5, 5), 2)
    assert await _stored(db) == {(5, 5): 2}
    await store.update_conversation("aspirasi", (5, 5), None)  # conversation ended
    assert await _stored(db) == {}
    await store.update_conversation("aspirasi", (5, 5), 2)  # started again in the state it had before it ended
    assert await _stored(db) == {(5, 5): 2}


async def test_a_state_read_at_start_is_not_written_again_but_a_change_is(db: Database) -> None:
    await SqlitePersistence(db).update_conversation("aspirasi", (7, 7), 3)
    store = SqlitePersistence(db)
    assert await store.get_conversations("aspirasi") == {(7, 7): 3}
    writes: list[str] = []
    db.on_commit(lambda: writes.append("commit"))
    await store.update_conversation("aspirasi", (7, 7), 3)
    assert writes == []
    await store.update_conversation("aspirasi", (7, 7), 4)
    assert writes == ["commit"]
    assert await _stored(db) == {(7, 7): 4}
