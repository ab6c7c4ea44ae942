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


def test_fields_are_read_back_as_the_buttons_wrote_them() -> None:
    assert callbacks.field("asp:sum:rm:AgAD:x", 1) == "sum"
    assert callbacks.field("pot:kind:sawah", -1) == "sawah"
    assert callbacks.field("pot:list", 5) == ""  # a forged or short button reads as no choice, never a crash
    assert callbacks.rest("kj:time:0830", 2) == "0830"
    assert callbacks.rest("asp:sum:rm:AgAD:x", 3) == "AgAD:x"  # a choice may hold the separator itself
    assert callbacks.head("asp:act:12:ok", 3) == "asp:act:12"
    assert callbacks.fits("jj", "d", "DINKES")
    assert not callbacks.fits("jj", "d", "X" * 64)


def test_pinned_button_formats_are_built_byte_for_byte() -> None:
    assert callbacks.build("kj", "time", "08:30".replace(":", "")) == "kj:time:0830"
    assert callbacks.build("asp", "sum", "rm", "AgADx") == "asp:sum:rm:AgADx"
    assert callbacks.build("jnj", 7, "send") == "jnj:7:send"
    assert callbacks.build("pot", "delok", 3) == "pot:delok:3"
