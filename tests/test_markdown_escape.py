"""escape_markdown's quick answer (a text no pass would change is returned as it is: most of a
brief's values) is the full escape's, on texts built from every character the passes look at
(Unicode digits and spaces included: the block pattern's \\d and \\s are Unicode's)."""

from __future__ import annotations

import random

from engine.render import markdown


def _full(text: str) -> str:
    text = " ".join(text.splitlines()) if ("\n" in text or "\r" in text) else text
    text = markdown._INLINE.sub(r"\\\1", text)
    text = markdown._UNDERSCORE.sub(r"\\_", text)
    return markdown._BLOCK.sub(lambda m: m.group(1) + "\\" + m.group(2)
                               if not m.group(2).isdigit() else m.group(1) + m.group(2) + "\\",
                               text, count=1)


def test_the_quick_answer_is_the_full_escape() -> None:
    parts = [*"ab Z09_-#+=.)*[]<>|&~`\\\n\r\t\v", "\u2028", "\u00a0", "\u0661", "12.", "x"]
    rng = random.Random(7)
    for _ in range(30_000):
        text = "".join(rng.choice(parts) for _ in range(rng.randint(0, 8)))
        assert markdown.escape_markdown(text) == _full(text), repr(text)
    assert markdown.escape_markdown("Welcome new customers") == "Welcome new customers"
    assert markdown.escape_markdown(" 3. x") == " 3\\. x"
