"""One spelling for every text the crisis detector reads: curly quotes and full-width commas would
hide "don't" and the like from the rules, and traditional Chinese (自殺, 傷害自己, 喘不過氣) is
mapped to simplified so one set of rules and one classifier serve both scripts."""

from __future__ import annotations

from functools import cache


@cache
def _to_simplified():
    from opencc import OpenCC  # opencc-python-reimplemented: pure Python, ships its dictionaries

    return OpenCC("t2s").convert


def normalise(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\uff0c", "，")
    return _to_simplified()(text)
