"""Issue 11 (1): the carrier's standard keywords, any case and width, beside the Chinese ones."""

from __future__ import annotations

import pytest

from baiying_notifier.domain.keywords import parse


@pytest.mark.parametrize("text", [
    "STOP", "stop", "STOPALL", "UNSUBSCRIBE", "CANCEL", "cancel", "End", "QUIT",
    "ＳＴＯＰ", "ｃａｎｃｅｌ", " quit ", "退订", "TD", "ｔｄ", "取消订阅",
])
def test_opt_out_words(text: str) -> None:
    assert parse(text).intent == "opt_out"


@pytest.mark.parametrize("text", ["START", "start", "UNSTOP", "ＳＴＡＲＴ", "恢复订阅"])
def test_opt_in_words(text: str) -> None:
    assert parse(text).intent == "opt_in"


@pytest.mark.parametrize("text", ["HELP", "help", "INFO", "ＩＮＦＯ", "帮助"])
def test_help_words(text: str) -> None:
    assert parse(text).intent == "help"


def test_yes_accepts_unless_the_phone_is_opted_out() -> None:
    # YES is both an accept word and the carrier's re-subscribe word: an opted-out phone
    # has no live alert to accept, so there it can only mean "send to me again".
    assert parse("YES").intent == "accept"
    assert parse("ｙｅｓ").intent == "accept"
    assert parse("YES", opted_out=True).intent == "opt_in"
    assert parse("1", opted_out=True).intent == "accept"
    assert parse("STOP", opted_out=True).intent == "opt_out"
