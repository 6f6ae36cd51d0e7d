"""HTML and protected spans through real CTranslate2: the copy model, and a model that writes
"(" for "{" (and back), so a test can tell what the model did from what the service kept."""

from __future__ import annotations

import pytest

from serve_app.engines.translator import TranslationOptions, TranslationRequest, Translator
from serve_app.testmodel.build import build_test_model

PAGE = """<!DOCTYPE html>
<html lang="en"><head><title>Welcome &amp; hello</title>
<style>p { color: red; }</style></head>
<body>
  <h1 class="big">Good morning, {name}!</h1>
  <p>Read <a href="https://example.org/?a=1&amp;b=2" title="Not translated">our guide</a>
     before 12:30. Write to help@example.org&nbsp;today.</p>
  <p>Run <code>tafsiri serve</code> and open <b>the <i>web</i> page</b>.<br>Done &copy; 2026.</p>
  <div translate="no">Tafsiri Ltd.</div><!-- footer -->
  <script>document.title = "<b>Hello</b>";</script>
</body></html>"""


@pytest.fixture(scope="module")
def swapping(tmp_path_factory: pytest.TempPathFactory) -> Translator:
    path = build_test_model(tmp_path_factory.mktemp("swap") / "m", swaps=(("<0x7B>", "("),))
    return Translator(path, intra_threads=1)


def html(text: str, protect: bool = True) -> TranslationRequest:
    return TranslationRequest(text, "eng_Latn", "swh_Latn", "html", protect)


def text(text: str, protect: bool = True) -> TranslationRequest:
    return TranslationRequest(text, "eng_Latn", "swh_Latn", "text", protect)


def test_a_page_comes_back_byte_for_byte_through_the_copy_model(translator: Translator) -> None:
    out = translator.translate([html(PAGE)])
    (result,) = out.results
    assert result.text == PAGE
    assert result.repaired == 0
    # Only the readable text reached the model: the title, the heading, two sentences per
    # paragraph (a line break inside a paragraph is a space, not a sentence end).
    assert out.timings.unique_sentences == 6


def test_html_sentences_share_the_batch_and_the_decode_with_plain_text(
    translator: Translator,
) -> None:
    out = translator.translate(
        [html("<p>Good <b>morning</b>, friend.</p><p>See you soon.</p>"), text("See you soon.")]
    )
    assert [r.text for r in out.results] == [
        "<p>Good <b>morning</b>, friend.</p><p>See you soon.</p>",
        "See you soon.",
    ]
    assert out.timings.unique_sentences == 2  # "See you soon." decoded once for both


def test_spans_survive_a_model_that_mangles_them(swapping: Translator) -> None:
    source = "Hello {name}, you have 3 new (unread) messages at https://x.org/{id}."
    (unprotected,) = swapping.translate([text(source, protect=False)]).results
    # The model really rewrites braces and parentheses both ways...
    assert (
        unprotected.text == "Hello (name}, you have 3 new {unread) messages at https://x.org/(id}."
    )
    out = swapping.translate([text(source)])
    (result,) = out.results
    # ...yet every protected span is back verbatim; the rest is the model's own output.
    assert result.text == "Hello {name}, you have 3 new {unread) messages at https://x.org/{id}."
    assert result.repaired == 1
    assert out.timings.repaired_sentences == 1
    assert out.timings.parallel_batches == 2  # the repair is one more call, for all of them


def test_inline_tags_survive_a_model_that_mangles_them(swapping: Translator) -> None:
    source = '<p>Click <a href="/go">here (now)</a> or <b>wait</b>.</p><p>Plain (text).</p>'
    (result,) = swapping.translate([html(source)]).results
    assert (
        result.text
        == '<p>Click <a href="/go">here {now)</a> or <b>wait</b>.</p><p>Plain {text).</p>'
    )
    assert result.repaired == 1  # the second paragraph had no span to lose


def test_alternatives_keep_spans_even_when_an_alternative_loses_one(swapping: Translator) -> None:
    options = TranslationOptions(beam_size=3, num_alternatives=3)
    (result,) = swapping.translate([text("Dear {name}, welcome.")], options).results
    assert 1 <= len(result.alternatives) <= 3
    offered = [alternative.text for alternative in result.alternatives]
    assert len(set(offered)) == len(offered)  # an alternative that lost a span is not repeated
    for alternative in offered:
        assert "{name}" in alternative


def test_text_with_nothing_to_translate_never_reaches_the_model(translator: Translator) -> None:
    out = translator.translate([text("12:30 - 14:00"), html("<p>42</p><p>{name} &amp; %s</p>")])
    assert [r.text for r in out.results] == ["12:30 - 14:00", "<p>42</p><p>{name} &amp; %s</p>"]
    assert out.timings.unique_sentences == 0


def test_html_output_is_escaped_where_the_model_writes_markup_characters(
    translator: Translator,
) -> None:
    # "&lt;" reaches the model as "<"; what comes back is escaped again, never raw markup.
    source = "<p>If a &lt; b then stop &amp; think.</p>"
    (result,) = translator.translate([html(source)]).results
    assert result.text == source


def test_a_span_at_a_hard_cut_comes_back(translator: Translator) -> None:
    source = "x" * 398 + "{name}" + "y" * 50  # no space: the sentence is cut at 400
    (result,) = translator.translate([text(source)]).results
    assert result.text == source
