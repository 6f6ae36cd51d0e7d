import pytest

from serve_app.engines.detector import (
    UNKNOWN_LANGUAGE,
    LanguageDetector,
    bundled_lid176_path,
    resolve_detector_model,
)
from serve_app.engines.models import ModelUnavailableError


def test_default_model_is_bundled_lid176() -> None:
    path = bundled_lid176_path()
    assert path.name == "lid.176.ftz"
    assert path.stat().st_size > 500_000


def test_batched_detection_answers_flores_codes_in_order(detector: LanguageDetector) -> None:
    texts = [
        "Bonjour tout le monde, comment allez-vous aujourd'hui?",
        "The quick brown fox jumps over the lazy dog.",
        "Mimi ni mwalimu wa shule ya msingi katika kijiji chetu",
        "Ich habe heute leider keine Zeit für dich.",
        "Привет, как дела? Надеюсь, у тебя всё хорошо.",
        "Hola a todos, ¿cómo están? Espero que tengan un buen día.",
    ]
    results = detector.detect(texts, k=3)
    assert [r.language for r in results] == [
        "fra_Latn",
        "eng_Latn",
        "swh_Latn",
        "deu_Latn",
        "rus_Cyrl",
        "spa_Latn",
    ]
    for result in results:
        assert result.reliable
        assert 0.3 <= result.confidence <= 1.0
        assert 1 <= len(result.candidates) <= 3
        confidences = [c.confidence for c in result.candidates]
        assert confidences == sorted(confidences, reverse=True)
        assert len({c.language for c in result.candidates}) == len(result.candidates)


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "12345", "3.14 + 2 = 5.14", "!!!", "a"])
def test_texts_without_signal_are_unknown_not_a_guess(
    detector: LanguageDetector, text: str
) -> None:
    (result,) = detector.detect([text])
    assert result.language == UNKNOWN_LANGUAGE
    assert result.confidence == 0.0
    assert not result.reliable


def test_newlines_are_handled(detector: LanguageDetector) -> None:
    (result,) = detector.detect(["Bonjour tout le monde.\nComment allez-vous?\r\nTrès bien."])
    assert result.language == "fra_Latn"


def test_short_text_is_flagged_unreliable(detector: LanguageDetector) -> None:
    (result,) = detector.detect(["ok"])
    assert not result.reliable


def test_empty_batch_and_bad_arguments(detector: LanguageDetector) -> None:
    assert detector.detect([]) == []
    with pytest.raises(ValueError, match="k must be at least 1"):
        detector.detect(["hello"], k=0)
    with pytest.raises(TypeError, match="texts must be strings"):
        detector.detect([42])  # type: ignore[list-item]


def test_huge_text_is_detected_quickly(detector: LanguageDetector) -> None:
    (result,) = detector.detect(["The weather is lovely today. " * 4000])
    assert result.language == "eng_Latn"


def test_missing_hub_model_offline_gives_actionable_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    with pytest.raises(ModelUnavailableError, match="tafsiri models pull"):
        resolve_detector_model("lid218e")


def test_local_model_path(tmp_path) -> None:
    detector = LanguageDetector(bundled_lid176_path())
    assert detector.detect(["Guten Morgen, wie geht es dir?"])[0].language == "deu_Latn"
