"""How one Translator outcome for several targets is cut back into each target's results."""

from __future__ import annotations

import asyncio
import threading

from serve_app.api.translating import (
    OFF_THE_LOOP_CHARS,
    Translated,
    TranslatedItem,
    off_the_loop,
)
from serve_app.engines.glossary import TermReport
from serve_app.engines.quality import Quality
from serve_app.engines.source_language import SourceLanguages
from serve_app.messages import TranslateCall, TranslateOutcome


def test_outcome_is_cut_target_by_target() -> None:
    # The Translator answers target by target: every text of the first, then of the next.
    outcome = TranslateOutcome(
        texts=["a-fr", "b-fr", "a-de", "b-de"], alternatives=[["x"], [], [], ["y"]]
    )
    done = Translated(
        ["a", "bb"],
        ["fra_Latn", "deu_Latn"],
        SourceLanguages(["eng_Latn", "eng_Latn"], [None, None]),
        outcome,
        [None, Quality(0.5, 0.0), None, None],
        [[], [], [TermReport("b", "c", 1, 1, "model")], []],
    )
    assert done.by_target() == {
        "fra_Latn": [
            TranslatedItem("a-fr", ["x"], None, []),
            TranslatedItem("b-fr", [], Quality(0.5, 0.0), []),
        ],
        "deu_Latn": [
            TranslatedItem("a-de", [], None, [TermReport("b", "c", 1, 1, "model")]),
            TranslatedItem("b-de", ["y"], None, []),
        ],
    }
    assert done.characters == 2 * 3


def test_a_call_names_its_targets() -> None:
    one = TranslateCall(["a"], ["eng_Latn"], "fra_Latn")
    several = TranslateCall(
        ["a"], ["eng_Latn"], "fra_Latn", target_languages=("fra_Latn", "deu_Latn")
    )
    assert one.targets == ("fra_Latn",)
    assert several.targets == ("fra_Latn", "deu_Latn")


def test_parsing_and_matching_large_texts_leaves_the_event_loop() -> None:
    # A large request's markup and glossary work runs in a worker thread, so the replica's
    # event loop keeps serving; a small one's stays inline (a thread hop costs more).
    async def where(texts: list[str]) -> bool:
        loop_thread = threading.get_ident()
        return await off_the_loop(texts, lambda: threading.get_ident() != loop_thread)

    assert asyncio.run(where(["x" * (OFF_THE_LOOP_CHARS + 1)])) is True
    assert asyncio.run(where(["x" * 100] * 3)) is False
