"""Which language a text is written in: enough to tell English from Chinese replies."""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def detect_language(text: str) -> str | None:
    """'zh' when CJK characters dominate the letters, 'en' when Latin letters do, else None."""
    cjk, latin = len(_CJK.findall(text)), len(_LATIN.findall(text))
    if cjk == 0 and latin == 0:
        return None
    # A Chinese character carries about as much as a short English word: weigh accordingly.
    return "zh" if cjk * 3 >= latin else "en"
