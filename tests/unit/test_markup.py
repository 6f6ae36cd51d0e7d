"""Protected spans and HTML units, without a model: what is masked, what comes back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from serve_app.engines.markup import (
    MAX_DEPTH,
    MarkupError,
    parse_html,
    prepare,
    readable_text,
)
from serve_app.engines.spans import SENTINEL, Unit, mask, masked_sentence


def spans(text: str) -> list[str]:
    return [span.raw for span in mask(text).spans]


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Hello {name}, welcome", ["{name}"]),
        ("Hi {{ user.name }}!", ["{{ user.name }}"]),
        ("Hi {0} and {count:d}", ["{0}", "{count:d}"]),
        ("Total: ${amount} due", ["${amount}"]),
        ("Sent %s files to %1$s and %(who)s", ["%s", "%1$s", "%(who)s"]),
        ("See https://example.org/a?b=1&c=2. Then", ["https://example.org/a?b=1&c=2"]),
        ("(visit www.example.org/path)", ["www.example.org/path"]),
        ("Write to ana.m+news@mail.example.co.tz today", ["ana.m+news@mail.example.co.tz"]),
        ("At 12:30 pay 1,000.50 for 3 items", ["12:30", "1,000.50", "3"]),
        ("50% off", ["50"]),  # "% o" is no printf conversion: only the number is kept
        ("Version mp3 and COVID-19", ["19"]),  # digits glued after a letter are the word's
    ],
)
def test_protected_spans_are_masked(text: str, kept: list[str]) -> None:
    assert spans(text) == kept
    unit = mask(text)
    for index, raw in enumerate(kept):
        assert f"{{{index}}}" in unit.text
        assert raw not in unit.text.replace(f"{{{index}}}", "")


def test_unprotected_text_is_left_whole() -> None:
    unit = mask("Hello {name}, 3 times", protect=False)
    assert unit.text == unit.raw == "Hello {name}, 3 times"
    assert unit.spans == []
    # Nothing was masked, so braces in the sentence are the text's own, not sentinels.
    sentence = masked_sentence(unit.text, unit)
    assert sentence.restore("Jambo {name}, 3", str) == "Jambo {name}, 3"


def test_sentinels_are_renumbered_per_sentence_and_restored() -> None:
    unit = mask("First {a}. Second {b} and {c}.")
    sentence = masked_sentence("Second {1} and {2}.", unit)
    assert sentence.model_text == "Second {0} and {1}."
    # The model may move spans and put spaces inside the braces.
    assert sentence.restore("Pili { 1 } na {0}.", str) == "Pili {c} na {b}."


@pytest.mark.parametrize(
    "output",
    ["Pili {0}.", "Pili {0} {0} {1}.", "Pili {0} {2}.", "Pili (0} na {1}."],
)
def test_a_lost_repeated_or_mangled_sentinel_is_refused(output: str) -> None:
    sentence = masked_sentence("Second {0} and {1}.", mask("Second {a} and {b}."))
    assert sentence.restore(output, str) is None


def test_fragments_rejoin_around_spans_in_order() -> None:
    sentence = masked_sentence(
        "Hi {0}, you have {1} new messages", mask("Hi {x}, you have 3 new messages")
    )
    assert sentence.fragments() == ["Hi ", ", you have ", " new messages"]
    assert (
        sentence.join(["Jambo ", ", una ", " ujumbe mpya"], str) == "Jambo {x}, una 3 ujumbe mpya"
    )


def test_a_closing_tag_before_its_opening_is_refused() -> None:
    (unit,) = [p for p in parse_html("<p>Say <b>hello</b> now</p>") if isinstance(p, Unit)]
    sentence = masked_sentence(unit.text, unit)
    assert sentence.model_text == "Say {0}hello{1} now"
    assert sentence.restore("Sema {0}jambo{1} sasa", str) == "Sema <b>jambo</b> sasa"
    assert sentence.restore("Sema {1}jambo{0} sasa", str) is None


def units(source: str) -> list[Unit]:
    return [part for part in parse_html(source) if isinstance(part, Unit)]


def test_block_tags_cut_units_and_inline_tags_stay_inside() -> None:
    source = '<h1>Title</h1>\n<p class="lead">Read <a href="/x?a=1&amp;b=2">this</a> now.</p>'
    document = parse_html(source)
    assert [p if isinstance(p, str) else p.text for p in document] == [
        "<h1>",
        "Title",
        "</h1>",
        "\n",
        '<p class="lead">',
        "Read {0}this{1} now.",
        "</p>",
    ]
    link = units(source)[2]
    assert [span.raw for span in link.spans] == ['<a href="/x?a=1&amp;b=2">', "</a>"]
    assert link.spans[1].closes == 0


@pytest.mark.parametrize(
    "kept",
    [
        "<script>var s = '<b>Hello</b> world';</script>",
        "<style>p::before { content: 'Hello world'; }</style>",
        '<div translate="no"><p>Brand Name Here</p></div>',
        '<div class="box notranslate">Brand <b>Name</b></div>',
        "<svg><text>Hello world</text></svg>",
    ],
)
def test_untranslatable_blocks_are_kept_whole(kept: str) -> None:
    document = parse_html(f"<p>Before it.</p>{kept}<p>After it.</p>")
    assert kept in document
    assert [unit.text for unit in units(f"<p>Before it.</p>{kept}<p>After it.</p>")] == [
        "Before it.",
        "After it.",
    ]


def test_spans_with_nothing_between_them_are_one_sentinel() -> None:
    (unit,) = units('<p><b><i>Hi</i></b> there, <a href="/n">42</a> times.</p>')
    assert unit.text == "{0}Hi{1} there, {2} times."
    assert [span.raw for span in unit.spans] == ["<b><i>", "</i></b>", '<a href="/n">42</a>']
    sentence = masked_sentence(unit.text, unit)
    assert sentence.closes == {1: 0}  # the merged closing tags still follow their opening
    assert sentence.restore("{1}Jambo{0}", str) is None


def test_untranslatable_inline_elements_stay_in_their_sentence() -> None:
    (unit,) = units('<p>Run <code>ls -l</code> and <span class="notranslate">Tafsiri</span>.</p>')
    assert unit.text == "Run {0} and {1}."
    assert [span.raw for span in unit.spans] == [
        "<code>ls -l</code>",
        '<span class="notranslate">Tafsiri</span>',
    ]


def test_entities_are_decoded_for_the_model_and_written_back_as_they_were() -> None:
    (unit,) = units("<p>Tom&nbsp;&amp;&#32;Jerry &copy; caf&eacute; &bogus; x</p>")
    assert unit.text == "Tom\xa0& Jerry © café {0} x"
    assert unit.spans[0].raw == "&bogus;"  # not an HTML entity: kept as it stands
    # Non-ASCII characters keep their entity; "&#32;" is not forced on every space.
    assert (
        unit.escape("Tom\xa0& Jerry © café <3") == "Tom&nbsp;&amp; Jerry &copy; caf&eacute; &lt;3"
    )


def test_what_html_parser_cannot_read_is_refused_not_crashed() -> None:
    with pytest.raises(MarkupError, match="could not be parsed"):
        parse_html("<p>ok</p><![}$ not a section")


def test_depth_beyond_the_limit_is_refused_but_implied_ends_are_not_counted() -> None:
    with pytest.raises(MarkupError, match="nested deeper"):
        parse_html("<div>" * (MAX_DEPTH + 1) + "x")
    parse_html("<ul>" + "<li>item" * 5 * MAX_DEPTH + "</ul>")  # each <li> closes the last
    parse_html("<p>para" * 5 * MAX_DEPTH)


@pytest.mark.parametrize(
    "source",
    [
        '<!DOCTYPE html [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><p>&b;&b;</p>',
        "<p>Unclosed <b>bold and <i>italic",
        "</b></i>Stray ends</p></div>",
        "<p>1 < 2 and 3 > 2 & so on</p>",
        "<p title='x>Broken attribute",
        "<<<>>>",
        "<!-- never closed",
        "<script>never closed",
        "</>",  # dropped by html.parser: kept here
        "&b",  # an unfinished entity first: reported one character late by html.parser
        "<![CDATA[x]]> and <!>",
    ],
)
def test_malformed_html_is_kept_byte_for_byte(source: str) -> None:
    document = parse_html(source)
    assert "".join(p if isinstance(p, str) else p.raw for p in document) == source


html_pieces = st.sampled_from(
    [
        "<p>", "</p>", "<b>", "</b>", '<a href="x">', "</a>", "<br>", "<img src=a.png>",
        "<script>", "</script>", "<code>", "</code>", '<span translate="no">', "</span>",
        "&amp;", "&nbsp;", "&#169;", "&nope;", "<!-- c -->", "Hello world.", " ", "\n",
        "{name}", "%s", "https://x.org/a", "42", "<", ">", "&", "Habari za asubuhi?",
        "</>", "<!", "<![", "]]>", "<![CDATA[", "&#", "&#x", "b", "-->", "<?", "'", '"',
    ]
)  # fmt: skip


@given(st.lists(html_pieces, max_size=40).map("".join))
def test_every_input_splits_into_parts_that_rebuild_it(source: str) -> None:
    try:
        document = parse_html(source)
    except MarkupError as exc:  # refused (a 400), never another exception (a 500)
        refusal = str(exc)
        document = [source]
    else:
        refusal = "could not be parsed"
    assert "could not be parsed" in refusal
    assert "".join(p if isinstance(p, str) else p.raw for p in document) == source
    for part in document:
        if isinstance(part, Unit):
            # Every sentinel in a unit's text names one of its spans, each exactly once.
            numbers = [int(n) for n in SENTINEL.findall(part.text)]
            assert sorted(numbers) == list(range(len(part.spans)))


def test_line_breaks_end_sentences_only_in_preformatted_text() -> None:
    found = units("<p>Read this\n   carefully.</p><pre>line one\nline two</pre><p>x\ny</p>")
    assert [(unit.text, unit.line_breaks) for unit in found] == [
        ("Read this\n   carefully.", False),
        ("line one\nline two", True),
        ("x\ny", False),
    ]


def test_readable_text_is_what_a_reader_sees() -> None:
    source = "<p>Habari <b>za</b> asubuhi.</p><script>var x;</script><p>Rafiki&nbsp;yangu</p>"
    assert readable_text(source, "html") == "Habari  za  asubuhi.\nRafiki\xa0yangu"
    assert readable_text("<b>as is</b>", "text") == "<b>as is</b>"


def test_unknown_format_is_refused() -> None:
    with pytest.raises(MarkupError, match="unknown format"):
        prepare("x", "markdown")
