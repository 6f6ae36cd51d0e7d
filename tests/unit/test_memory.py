"""Translation memory: TMX in and out, hostile files, exact and fuzzy lookup, and memory
matches applied sentence by sentence on the real engines (the copy model echoes its input,
so a sentence that comes back translated came from the memory)."""

from __future__ import annotations

import asyncio
import random
import uuid

import pytest
from rapidfuzz import fuzz

from serve_app.engines.corrections import Correction
from serve_app.engines.detector import LanguageDetector
from serve_app.engines.languages import LanguageDatabase
from serve_app.engines.memory import (
    FuzzyIndex,
    MemoryFileError,
    MemoryLimits,
    MemoryUnit,
    TranslationMemory,
    memory_key,
    sentence_keys,
)
from serve_app.engines.translator import Translator
from serve_app.records import (
    CORRECTION,
    MEMORY,
    OwnedRecord,
    correction_of,
    correction_record,
    memory_of,
    memory_record,
)
from serve_app.records.tmx import language_of, read_tmx, tag_of, write_tmx
from serve_app.translation.request import TranslationRequest, memory_offers
from serve_app.translation.service import Translated
from tests.remote import Remote
from tests.unit.service_fixtures import EngineService

LANGUAGES = LanguageDatabase.default()
LIMITS = MemoryLimits(max_units=100, max_segment_chars=200)
SW, EN = "swh_Latn", "eng_Latn"

TMX = b"""<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4">
  <header creationtool="test" creationtoolversion="1" datatype="plaintext" segtype="sentence"
          adminlang="en" srclang="en" o-tmf="test"/>
  <body>
    <tu>
      <tuv xml:lang="en-US"><seg>Good morning, my friend.</seg></tuv>
      <tuv xml:lang="sw"><seg>Habari ya asubuhi, rafiki yangu.</seg></tuv>
      <tuv xml:lang="fr-FR"><seg>Bonjour, mon ami.</seg></tuv>
    </tu>
    <tu>
      <tuv lang="EN"><seg>Click <bpt i="1">&lt;b&gt;</bpt>here<ept i="1">&lt;/b&gt;</ept> \
<hi>now</hi>.</seg></tuv>
      <tuv xml:lang="sw"><seg>Bofya hapa sasa.</seg></tuv>
    </tu>
    <tu>
      <tuv xml:lang="en"><seg>Only one language.</seg></tuv>
      <tuv xml:lang="xx-unknown"><seg>Nothing known.</seg></tuv>
    </tu>
  </body>
</tmx>
"""


def memory(*units: dict[str, str]) -> TranslationMemory:
    return TranslationMemory(
        "m" * 32, "", "test", 0.0, [MemoryUnit(tuple(unit.items())) for unit in units]
    )


def test_tmx_units_are_read_with_their_languages_and_text_only() -> None:
    read = read_tmx(TMX, LANGUAGES, LIMITS)
    assert read.skipped == 1  # one known language left: no pair
    first, second = read.units
    assert first.variants == (
        (EN, "Good morning, my friend."),
        (SW, "Habari ya asubuhi, rafiki yangu."),
        ("fra_Latn", "Bonjour, mon ami."),
    )
    # Inline code (<bpt>, <ept>) is the original format's, not text; <hi> is text.
    assert second.text(EN) == "Click here now."


def test_a_memory_round_trips_through_tmx_and_its_record() -> None:
    odd = MemoryUnit(((SW, 'Nambari <5> & "alama"'), ("zho_Hant", "數字"), ("srp_Cyrl", "Број")))
    units = [*read_tmx(TMX, LANGUAGES, LIMITS).units, odd]
    again = read_tmx(write_tmx(units, LANGUAGES), LANGUAGES, LIMITS)
    assert again.units == units
    assert again.skipped == 0
    stored = memory(*({code: text for code, text in unit.variants} for unit in units))
    assert memory_of(memory_record(stored)).units == stored.units


@pytest.mark.parametrize("code", LANGUAGES.codes)
def test_every_language_is_written_as_a_tag_that_reads_back_as_itself(code: str) -> None:
    assert language_of(tag_of(code, LANGUAGES), LANGUAGES) == code


HOSTILE = {
    "billion laughs": b'<?xml version="1.0"?><!DOCTYPE tmx [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    b'<tmx version="1.4"><body><tu><tuv xml:lang="en"><seg>&c;</seg></tuv></tu></body></tmx>',
    "external entity": b'<?xml version="1.0"?><!DOCTYPE tmx [<!ENTITY x SYSTEM '
    b'"file:///etc/passwd">]><tmx version="1.4"><body><tu><tuv xml:lang="en"><seg>&x;</seg>'
    b"</tuv></tu></body></tmx>",
    "not xml": b"source,target\nhello,jambo\n",
    "cut off": TMX[: len(TMX) // 2],
    "not tmx": b'<?xml version="1.0"?><xliff version="1.2"><file/></xliff>',
    "empty": b"",
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_or_foreign_files_are_refused_as_such(name: str) -> None:
    with pytest.raises(MemoryFileError) as refused:
        read_tmx(HOSTILE[name], LANGUAGES, LIMITS)
    assert not refused.value.too_large


def test_a_file_of_too_many_units_is_refused_at_the_first_past_the_limit() -> None:
    unit = b'<tu><tuv xml:lang="en"><seg>a</seg></tuv><tuv xml:lang="sw"><seg>b</seg></tuv></tu>'
    # A million units; refused long before they are all read.
    data = b'<tmx version="1.4"><body>' + unit * 1_000_000 + b"</body></tmx>"
    with pytest.raises(MemoryFileError) as refused:
        read_tmx(data, LANGUAGES, MemoryLimits(max_units=1000))
    assert refused.value.too_large


def test_exact_lookup_normalises_as_corrections_do_and_the_newest_unit_wins() -> None:
    tm = memory(
        {EN: "Good morning.", SW: "Habari za asubuhi."},
        {EN: "Good  morning.", SW: "Asubuhi njema."},
    )
    found = tm.lookup(memory_key(" Good\nmorning. "), EN, SW, 0.85)
    assert found is not None
    assert (found.translation, found.score, found.exact) == ("Asubuhi njema.", 1.0, True)
    # Case is kept: "good morning." is a fuzzy match, not the same text.
    lowered = tm.lookup(memory_key("good morning."), EN, SW, 0.85)
    assert lowered is not None
    assert not lowered.exact
    # Any language of a unit may be the source.
    back = tm.lookup("Asubuhi njema.", SW, EN, 0.85)
    assert back is not None
    assert back.translation == "Good  morning."
    assert tm.lookup("Good morning.", EN, "fra_Latn", 0.5) is None  # no such pair


def test_fuzzy_matches_come_back_at_or_above_the_threshold_with_their_score() -> None:
    tm = memory(
        {EN: "The invoice was sent to the customer yesterday.", SW: "Ankara ilitumwa jana."},
        {EN: "Please restart the server tonight.", SW: "Tafadhali washa upya seva usiku."},
    )
    asked = "The invoice was sent to the customers yesterday."
    expected = fuzz.ratio(asked, "The invoice was sent to the customer yesterday.") / 100
    found = tm.lookup(asked, EN, SW, 0.85)
    assert found is not None
    assert found.translation == "Ankara ilitumwa jana."
    assert found.score == round(expected, 4)
    assert 0.85 <= found.score < 1
    assert tm.lookup(asked, EN, SW, found.score + 0.001) is None
    assert tm.lookup("Something else entirely, about cats.", EN, SW, 0.85) is None


def test_the_fuzzy_index_never_drops_an_entry_that_reaches_the_threshold() -> None:
    generator = random.Random(7)
    for _ in range(60):
        alphabet = generator.choice(["ab", "abc", "ab cd", "abcdefgh "])
        keys = ["".join(generator.choices(alphabet, k=generator.randint(0, 16))) for _ in range(40)]
        index = FuzzyIndex(keys)
        for _ in range(8):
            query = "".join(generator.choices(alphabet, k=generator.randint(1, 16)))
            for threshold in (0.5, 0.7, 0.85, 0.95):
                kept = set(index.candidates(query, threshold).tolist())
                reaching = {
                    i for i, key in enumerate(keys) if fuzz.ratio(query, key) >= threshold * 100
                }
                assert reaching <= kept, (query, threshold)
                best = index.best(query, threshold)
                if reaching:
                    assert best is not None
                    assert best[1] * 100 == max(fuzz.ratio(query, keys[i]) for i in reaching)
                else:
                    assert best is None


def test_sentences_are_looked_up_as_the_translator_cuts_them() -> None:
    text = "Good morning, my friend.  Call 555 1234 today! <b>x</b>"
    assert sentence_keys(text, "text", protect=True, max_sentence_chars=400) == [
        "Good morning, my friend.",
        "Call 555 1234 today!",
        "<b>x</b>",
    ]
    html = "<p>Good <b>morning</b>, my friend. See you.</p>"
    assert sentence_keys(html, "html", protect=True, max_sentence_chars=400) == [
        "Good <b>morning</b>, my friend.",
        "See you.",
    ]


@pytest.fixture
def engines(translator: Translator, detector: LanguageDetector) -> EngineService:
    return EngineService(translator, detector)


TM = memory(
    {EN: "Good morning, my friend.", SW: "Habari ya asubuhi, rafiki yangu."},
    {EN: "The invoice was sent to the customer yesterday.", SW: "Ankara ilitumwa jana."},
)


def translate(engines: EngineService, texts: list[str], mode: str = "suggest") -> Translated:
    offers = memory_offers(
        TM,
        texts,
        [SW],
        text_format="text",
        protect_spans=True,
        max_sentence_chars=400,
        threshold=0.85,
    )
    request = TranslationRequest(
        texts=texts, targets=[SW], source=EN, memory=offers, memory_mode=mode
    )
    return asyncio.run(engines.service.translate(request))


def test_an_exact_sentence_is_answered_from_memory_the_rest_by_the_model(
    engines: EngineService,
) -> None:
    other = "Nothing in the memory looks like this sentence at all."
    done = translate(engines, [f"Good  morning, my friend. {other}", other])
    first, second = done.items[SW]
    # The copy model echoes: the first sentence is the memory's, the second the model's.
    assert first.text == f"Habari ya asubuhi, rafiki yangu. {other}"
    assert first.memory is not None
    (report,) = first.memory
    assert (report.sentence, report.score, report.served) == (0, 1.0, True)
    assert second.text == other
    assert second.memory == []
    # Only what the memory had no answer for went to the model.
    ((_, call),) = engines.calls
    assert [match.key for match in call.memory] == ["Good morning, my friend."]


def test_a_fuzzy_match_is_suggested_beside_the_model_or_served_when_preferred(
    engines: EngineService,
) -> None:
    asked = "The invoice was sent to the customers yesterday."
    (suggested,) = translate(engines, [asked]).items[SW]
    assert suggested.text == asked  # the model's (the copy model's) translation
    assert suggested.memory is not None
    (report,) = suggested.memory
    assert report.translation == "Ankara ilitumwa jana."
    assert not report.served
    assert 0.85 <= report.score < 1
    (preferred,) = translate(engines, [asked], "prefer").items[SW]
    assert preferred.text == "Ankara ilitumwa jana."
    assert preferred.memory is not None
    assert preferred.memory[0].served


def test_without_a_memory_items_carry_no_memory_report(engines: EngineService) -> None:
    done = asyncio.run(
        engines.service.translate(TranslationRequest(texts=["Hello."], targets=[SW], source=EN))
    )
    assert done.items[SW][0].memory is None


# --- more files, and what a memory is written as --------------------------------------------

UNIT = (
    '<tu><tuv xml:lang="en"><seg>Hello.</seg></tuv><tuv xml:lang="sw"><seg>Jambo.</seg></tuv></tu>'
)


@pytest.mark.parametrize(
    "data",
    [
        # As CAT tools write it: UTF-16 with a byte-order mark, and the DTD named (not read).
        (
            '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE tmx SYSTEM "tmx14.dtd">'
            f'<tmx version="1.4"><header/><body>{UNIT}</body></tmx>'
        ).encode("utf-16"),
        b"\xef\xbb\xbf" + f'<tmx version="1.4"><body>{UNIT}</body></tmx>'.encode(),
    ],
    ids=["utf-16 with a DTD named", "utf-8 with a BOM"],
)
def test_tmx_files_as_tools_write_them_are_read(data: bytes) -> None:
    (unit,) = read_tmx(data, LANGUAGES, LIMITS).units
    assert unit.variants == ((EN, "Hello."), (SW, "Jambo."))


def test_a_file_in_an_encoding_no_codec_reads_is_refused_not_a_crash() -> None:
    data = b'<?xml version="1.0" encoding="no-such-codec"?><tmx version="1.4"><body/></tmx>'
    with pytest.raises(MemoryFileError) as refused:
        read_tmx(data, LANGUAGES, LIMITS)
    assert not refused.value.too_large


def test_a_unit_with_a_segment_past_the_limit_is_skipped_not_kept() -> None:
    long = "a" * (LIMITS.max_segment_chars + 1)
    data = (
        f'<tmx version="1.4"><body>{UNIT}<tu><tuv xml:lang="en"><seg>{long}</seg></tuv>'
        '<tuv xml:lang="sw"><seg>b</seg></tuv></tu></body></tmx>'
    ).encode()
    read = read_tmx(data, LANGUAGES, LIMITS)
    assert (len(read.units), read.skipped) == (1, 1)


def test_what_xml_cannot_hold_is_exported_as_a_replacement_character() -> None:
    # A correction filed under a memory may hold a noncharacter (U+FFFF): not a 500.
    unit = MemoryUnit(((EN, "odd\uffff text"), (SW, "sawa")))
    (again,) = read_tmx(write_tmx([unit], LANGUAGES), LANGUAGES, LIMITS).units
    assert again.text(EN) == "odd\ufffd text"


# --- the fuzzy index on long texts --------------------------------------------------------------


def test_the_fuzzy_index_leaves_out_common_tokens_and_still_drops_no_match() -> None:
    """Long texts over a small alphabet: each bigram is in every entry, so the commonest of a
    query's are not counted (FuzzyIndex.candidates); no entry reaching the threshold is lost."""
    generator = random.Random(11)
    for _ in range(12):
        alphabet = generator.choice(["abcd ", "abcdefghij ", "xyz"])
        base = [
            "".join(generator.choices(alphabet, k=generator.randint(40, 120))) for _ in range(30)
        ]
        # Near copies, so that some entries do reach the thresholds.
        keys = base + [
            "".join(c if generator.random() > 0.08 else generator.choice(alphabet) for c in key)
            for key in base
        ]
        index = FuzzyIndex(keys)
        for query in generator.sample(keys, 6):
            query = query[: len(query) - generator.randint(0, 6)]
            for threshold in (0.7, 0.85, 0.95):
                kept = set(index.candidates(query, threshold).tolist())
                reaching = {
                    i for i, key in enumerate(keys) if fuzz.ratio(query, key) >= threshold * 100
                }
                assert reaching <= kept, (query, threshold)
                if threshold < 0.9:
                    assert reaching  # (the query's own entry, at least)
                else:
                    assert len(kept) < len(keys)  # and it filters


def test_a_request_naming_its_source_looks_only_in_that_pair() -> None:
    tm = memory({EN: "Good morning.", SW: "Habari za asubuhi.", "fra_Latn": "Bonjour."})
    offers = memory_offers(
        tm,
        ["Good morning."],
        [SW],
        sources=[EN],
        text_format="text",
        protect_spans=True,
        max_sentence_chars=400,
        threshold=0.85,
    )
    assert [(offer.source, offer.translation) for offer in offers] == [(EN, "Habari za asubuhi.")]
    assert list(tm._pairs) == [(EN, SW)]  # no index of French into Swahili was built


# --- served, measured -------------------------------------------------------------------------


def test_a_text_answered_wholly_from_memory_is_still_measured(engines: EngineService) -> None:
    offers = memory_offers(
        TM,
        ["Good morning, my friend."],
        [SW],
        text_format="text",
        protect_spans=True,
        max_sentence_chars=400,
        threshold=0.85,
    )
    request = TranslationRequest(
        texts=["Good morning, my friend."], targets=[SW], source=EN, memory=offers, quality=True
    )
    (item,) = asyncio.run(engines.service.translate(request)).items[SW]
    assert item.text == "Habari ya asubuhi, rafiki yangu."
    assert item.quality is not None
    assert engines.calls  # the Translator was asked, and decoded nothing
    ((_, call),) = engines.calls
    assert [match.key for match in call.memory] == ["Good morning, my friend."]


# --- a replica's memories: read once, checked again, with the corrections filed under them ---


class _Keeper:
    """The record keeper as the routes call it (``await keeper.get.remote(...)``), counting
    the records it read whole."""

    def __init__(self) -> None:
        self.stored: dict[tuple[str, str], OwnedRecord] = {}
        self.bodies_read = 0

        def get(kind: str, record_id: str, owner: str) -> OwnedRecord | None:
            self.bodies_read += 1
            found = self.stored.get((kind, record_id))
            return found if found is not None and found.owner == owner else None

        def listed(kind: str, owner: str) -> list[OwnedRecord]:
            return [r for (k, _), r in self.stored.items() if k == kind and r.owner == owner]

        self.get, self.list = Remote(get), Remote(listed)


def test_a_replica_reads_a_memory_once_and_sees_corrections_and_deletion() -> None:
    from serve_app.api import memories
    from serve_app.api.errors import ApiError
    from serve_app.api.services import Services
    from serve_app.config import AppArgs

    keeper = _Keeper()
    # No short-lived cache: every use checks the memory again (as each does past the TTL).
    args = AppArgs.model_validate(
        {"corrections": {"enabled": True}, "memories": {"cache_seconds": 0}}
    )
    services = Services(None, None, None, args, records=keeper)
    stored = TranslationMemory(
        uuid.uuid4().hex, "alice", "tm", 1.0, [MemoryUnit(((EN, "Good morning."), (SW, "Habari.")))]
    )
    keeper.stored[MEMORY, stored.id] = memory_record(stored)

    def load(owner: str = "alice") -> TranslationMemory:
        return asyncio.run(memories.load(services, stored.id, owner, "memory_id"))

    first = load()
    assert first.lookup("Good morning!", EN, SW, 0.8) is not None  # its fuzzy index built
    again = load()
    assert again is first  # indexes and all: the units were read once
    assert keeper.bodies_read == 1
    # A correction filed under it is one of its units; one filed under another is not.
    for memory_id, text in ((stored.id, "Thank you."), ("0" * 32, "Goodbye.")):
        correction = Correction(
            uuid.uuid4().hex, "alice", 2.0, EN, SW, text, f"[{text}]", memory_id=memory_id
        )
        keeper.stored[CORRECTION, correction.id] = correction_record(correction)
    corrected = load()
    assert len(corrected.units) == 2
    found = corrected.lookup("Thank you.", EN, SW, 0.85)
    assert found is not None
    assert (found.translation, found.exact) == ("[Thank you.]", True)
    assert corrected.lookup("Goodbye.", EN, SW, 1.0) is None
    assert keeper.bodies_read == 1
    # Another key's: not found, as an unknown one.
    with pytest.raises(ApiError) as other:
        load("bob")
    assert other.value.status == 404
    # Deleted (by another replica): not found here either, though this one had read it.
    del keeper.stored[MEMORY, stored.id]
    with pytest.raises(ApiError) as gone:
        load()
    assert gone.value.status == 404


def test_a_correction_filed_under_a_memory_keeps_it_in_its_record() -> None:
    filed = Correction(uuid.uuid4().hex, "jo", 5.0, EN, SW, "a", "b", memory_id="m" * 32)
    record = correction_record(filed)
    assert record.summary["memory_id"] == "m" * 32
    assert correction_of(record) == filed
    plain = Correction(uuid.uuid4().hex, "jo", 5.0, EN, SW, "a", "b")
    assert "memory_id" not in correction_record(plain).summary  # as earlier releases wrote
    assert correction_of(correction_record(plain)) == plain
