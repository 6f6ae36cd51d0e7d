"""The corrections table: what counts as the same text, and which correction wins."""

from __future__ import annotations

from serve_app.engines.corrections import Correction, Corrections, correction_key


def correction(text: str, translation: str, at: float, target: str = "eng_Latn") -> Correction:
    return Correction(f"id-{at}", "", at, "swh_Latn", target, text, translation)


def test_the_same_text_is_nfc_and_whitespace_insensitive_but_case_sensitive() -> None:
    assert correction_key("  Cafe\u0301\t au  lait\n") == "Café au lait"
    table = Corrections([correction("Habari  yako?", "How are you?", 1.0)])
    assert table.find("Habari yako?", "swh_Latn", "eng_Latn") is not None
    assert table.find(" Habari\nyako? ", "swh_Latn", "eng_Latn") is not None
    assert table.find("habari yako?", "swh_Latn", "eng_Latn") is None
    assert table.find("Habari yako?", "swh_Latn", "fra_Latn") is None  # another pair
    assert table.find("Habari yako?", "zsm_Latn", "eng_Latn") is None


def test_the_newest_correction_of_a_text_wins() -> None:
    older = correction("Asante.", "Thanks.", 1.0)
    newer = correction("Asante.", "Thank you.", 2.0)
    for order in ([older, newer], [newer, older]):
        found = Corrections(order).find("Asante.", "swh_Latn", "eng_Latn")
        assert found is newer
    assert len(Corrections([older, newer, correction("Asante.", "Merci.", 3.0, "fra_Latn")])) == 2
    assert Corrections([]).find("Asante.", "swh_Latn", "eng_Latn") is None


def test_a_job_is_offered_every_source_of_a_text() -> None:
    swahili = correction("Asante.", "Thanks.", 1.0)
    malay = Correction("m", "", 2.0, "zsm_Latn", "eng_Latn", "Asante.", "Thanks (ms).")
    table = Corrections([swahili, malay])
    assert table.offered(" Asante. ", "eng_Latn") == {"swh_Latn": swahili, "zsm_Latn": malay}
    assert table.offered("Asante.", "fra_Latn") == {}
