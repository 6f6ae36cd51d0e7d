"""Real CTranslate2 on the built copy model: whatever goes in must come back, in place."""

from pathlib import Path

import pytest

from serve_app.engines.device import available_cores
from serve_app.engines.models import ModelUnavailableError
from serve_app.engines.translator import (
    TranslationOptions,
    TranslationRequest,
    Translator,
    UnsupportedLanguageError,
    split_evenly,
)


def request(
    text: str, src: str = "eng_Latn", tgt: str = "swh_Latn", *, protect: bool = True
) -> TranslationRequest:
    return TranslationRequest(text, src, tgt, protect_spans=protect)


def test_model_knows_all_202_languages(translator: Translator) -> None:
    assert len(translator.supported_languages) == 202
    assert translator.compute_type == "int8"


def test_single_translation_round_trips_through_the_model(translator: Translator) -> None:
    out = translator.translate(
        [request("Habari za asubuhi, rafiki yangu.", "swh_Latn", "eng_Latn")]
    )
    (result,) = out.results
    assert result.text == "Habari za asubuhi, rafiki yangu."
    assert result.source_language == "swh_Latn"
    assert result.target_language == "eng_Latn"
    assert result.input_tokens > 3
    assert result.output_tokens == result.input_tokens - 2  # minus language token and </s>
    assert out.timings.translate_seconds > 0
    assert out.timings.total_seconds >= out.timings.translate_seconds


def test_batch_of_many_requests_routes_each_result_back(translator: Translator) -> None:
    texts = [f"Sentence number {i} of the batch. It has two parts." for i in range(40)]
    targets = ["fra_Latn", "swh_Latn", "deu_Latn", "zho_Hans"]
    requests = [request(t, tgt=targets[i % 4], protect=False) for i, t in enumerate(texts)]
    out = translator.translate(requests)
    assert [r.text for r in out.results] == texts
    assert [r.target_language for r in out.results] == [targets[i % 4] for i in range(40)]
    assert out.timings.sentences == 80
    # "It has two parts." repeats per target language: decoded once per language pair.
    assert out.timings.unique_sentences == 40 + 4
    # With the numbers protected the model sees "Sentence number {0} of the batch." for all
    # 40: one decode per target, and every number is still put back in its own text.
    protected = translator.translate([request(t, tgt=targets[i % 4]) for i, t in enumerate(texts)])
    assert [r.text for r in protected.results] == texts
    assert protected.timings.unique_sentences == 4 + 4


def test_batched_equals_one_by_one(translator: Translator) -> None:
    texts = ["Good morning.", "A much longer sentence, with commas, and more words in it.", "Ok?"]
    batched = [r.text for r in translator.translate([request(t) for t in texts]).results]
    single = [translator.translate([request(t)]).results[0].text for t in texts]
    assert batched == single == texts


def test_paragraphs_and_whitespace_are_reassembled(translator: Translator) -> None:
    text = "  Title line\n\nFirst paragraph. Second sentence!\n\n\tIndented paragraph?  \n"
    (result,) = translator.translate([request(text)]).results
    assert result.text == text
    assert result.sentences == 4


def test_any_script_round_trips(translator: Translator) -> None:
    text = "你好，世界。Ẹ káàárọ̀! ሰላም። 🎉 Ünïcödé ✓"
    assert translator.translate([request(text)]).results[0].text == text


def test_100k_character_text_is_split_and_translated(translator: Translator) -> None:
    text = ("The market opens early in the morning and closes late. " * 1800)[:100_000]
    out = translator.translate([request(text)])
    assert out.results[0].text == text
    assert out.timings.sentences > 1000
    assert out.timings.unique_sentences <= 3


def test_empty_inputs(translator: Translator) -> None:
    assert translator.translate([]).results == []
    (empty, blank) = translator.translate([request(""), request("  \n ")]).results
    assert empty.text == ""
    assert empty.sentences == 0
    assert blank.text == "  \n "


@pytest.mark.parametrize(("src", "tgt"), [("klingon", "fra_Latn"), ("eng_Latn", "xx_Latn")])
def test_unknown_language_raises_value_error(translator: Translator, src: str, tgt: str) -> None:
    with pytest.raises(UnsupportedLanguageError, match="FLORES-200 codes such as 'swh_Latn'"):
        translator.translate([request("Hello", src, tgt)])


def test_engine_checks_codes_but_does_not_normalise_them(translator: Translator) -> None:
    """Normalisation happens once, at the edge (API, workflow params); the engine only
    checks that the FLORES-200 codes it is given are the model's."""
    (result,) = translator.translate([request("Hello", "eng_Latn", "swh_Latn")]).results
    assert (result.source_language, result.target_language) == ("eng_Latn", "swh_Latn")
    with pytest.raises(UnsupportedLanguageError, match="'en'"):
        translator.translate([request("Hello", "en", "sw")])


def test_alternatives_with_scores(translator: Translator) -> None:
    options = TranslationOptions(beam_size=4, num_alternatives=3)
    (result,) = translator.translate([request("Hello world. Bye.")], options).results
    assert len(result.alternatives) == 3
    assert result.alternatives[0].text == "Hello world. Bye."
    scores = [alt.score for alt in result.alternatives]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > scores[-1]


def test_decoding_length_guard_truncates_output(translator: Translator) -> None:
    options = TranslationOptions(max_decoding_length=3, max_decoding_ratio=0.1)
    (result,) = translator.translate(
        [request("one two three four five six seven")], options
    ).results
    assert 0 < len(result.text) < len("one two three four five six seven")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"beam_size": 0}, "beam_size"),
        ({"num_alternatives": 11}, "num_alternatives"),
        ({"max_decoding_ratio": 0}, "max_decoding"),
        ({"repetition_penalty": 0}, "repetition_penalty"),
    ],
)
def test_bad_options(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TranslationOptions(**kwargs)  # type: ignore[arg-type]


def test_not_a_model_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match=r"no model\.bin"):
        Translator(tmp_path)


@pytest.mark.parametrize(
    ("sizes", "parts"),
    [([1] * 10, 3), ([1, 1, 1, 1, 10], 2), ([5, 1], 4), ([], 2), ([3, 3, 3, 3], 1), ([1] * 7, 7)],
)
def test_split_evenly_keeps_order_and_balances(sizes: list[int], parts: int) -> None:
    order = list(range(100, 100 + len(sizes)))
    runs = split_evenly(order, sizes, parts)
    assert [index for run in runs for index in run] == order  # contiguous, nothing lost
    assert all(runs)
    assert len(runs) == min(parts, len(order))
    if len(runs) > 1:
        weight = {index: size for index, size in zip(order, sizes, strict=True)}
        totals = [sum(weight[index] for index in run) for run in runs]
        # No run exceeds an even share by more than its own largest item.
        assert max(totals) <= sum(sizes) / len(runs) + max(sizes)


def test_parallel_workers_share_a_flush_and_agree(test_model_dir: Path) -> None:
    """A flush is split among CTranslate2's parallel workers; results are the same, in order."""
    texts = [f"Sentence {i} is {'quite ' * (i % 7)}long." for i in range(30)]
    targets = ["fra_Latn", "swh_Latn", "zho_Hans"]
    requests = [request(t, tgt=targets[i % 3]) for i, t in enumerate(texts)]
    parallel = Translator(test_model_dir, inter_threads=3, intra_threads=1)
    assert parallel.workers == 3
    out = parallel.translate(requests)
    assert [r.text for r in out.results] == texts
    assert [r.target_language for r in out.results] == [targets[i % 3] for i in range(30)]
    assert out.timings.parallel_batches == 3
    (single,) = parallel.translate([request("One alone.")]).results
    assert single.text == "One alone."
    assert Translator(test_model_dir, inter_threads=0, intra_threads=1).workers == (
        available_cores()
    )


def test_sub_batch_budget_is_the_configured_one_and_changes_no_output(
    translator: Translator,
) -> None:
    """``translator.max_batch_tokens`` reaches the engine's options; a budget smaller than
    one sentence (each sentence its own sub-batch) gives the same outputs as a large one."""
    from serve_app.config import TranslatorConfig
    from serve_app.loading import decoding_options

    assert decoding_options(TranslatorConfig(), "cpu").max_batch_tokens == 1024
    options = decoding_options(TranslatorConfig(max_batch_tokens=64), "cpu")
    assert options.max_batch_tokens == 64
    texts = [f"Sentence {i} is {'rather ' * (3 * i)}long." for i in range(12)]
    small = translator.translate([request(t) for t in texts], options)
    large = translator.translate(
        [request(t) for t in texts], TranslationOptions(max_batch_tokens=65_536)
    )
    assert [r.text for r in small.results] == [r.text for r in large.results] == texts
