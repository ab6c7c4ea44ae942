"""The callback-data codec: the formats buttons carry, and the refusal of numbers no button of ours carries."""

import pytest

from bot.messaging import callbacks


def test_build_joins_fields_and_refuses_what_telegram_or_the_parser_would() -> None:
    assert callbacks.build("asp", "act", 12, "ok") == "asp:act:12:ok"
    assert callbacks.build("fb", 3, "visit", 5) == "fb:3:visit:5"
    with pytest.raises(ValueError):
        callbacks.build("asp", "act", -1)
    with pytest.raises(ValueError):
        callbacks.build("asp", "act", callbacks.MAX_NUMBER + 1)
    with pytest.raises(ValueError):
        callbacks.build("x" * 65)


def test_numbers_are_range_checked() -> None:
    assert callbacks.number("asp:act:12:ok", 2) == 12
    assert callbacks.numbers_valid("asp:act:12:ok")
    for forged in ("asp:act:-1:ok", "asp:act:+1:ok", f"asp:act:{2**31}:ok", "asp:act:١٢:ok"):
        assert not callbacks.numbers_valid(forged)
        with pytest.raises(ValueError):
            callbacks.number(forged, 2)
