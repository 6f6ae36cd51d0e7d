"""The sentence-level translation cache on real CTranslate2: in-process LRU and a real
redis-server shared by two engines (two replicas' worth)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from serve_app.engines.cache import MemoryCache, RedisCache
from serve_app.engines.translator import TranslationOptions, TranslationRequest, Translator
from serve_app.testmodel.build import build_test_model

TEXTS = [
    "Good morning, friend. The market opens at 7:30 today.",
    "Send {name} the report. The market opens at 7:30 today.",
]


def requests(target: str = "swh_Latn") -> list[TranslationRequest]:
    return [TranslationRequest(text, "eng_Latn", target) for text in TEXTS]


@pytest.fixture
def engine(test_model_dir: Path) -> Translator:
    engine = Translator(test_model_dir, intra_threads=1)
    engine.cache = MemoryCache(1 << 20)
    return engine


def test_a_repeated_call_is_served_from_the_cache_exactly(engine: Translator) -> None:
    first = engine.translate(requests())
    assert first.timings.cached_sentences == 0
    assert first.timings.unique_sentences == 3
    again = engine.translate(requests())
    assert [r.text for r in again.results] == [r.text for r in first.results] == TEXTS
    assert again.timings.cached_sentences == 3
    assert again.timings.parallel_batches == 0  # the model was not called
    assert [r.cached for r in again.results] == [2, 2]
    assert [a.score for a in again.results[0].alternatives] == [
        a.score for a in first.results[0].alternatives
    ]


def test_one_keys_translations_are_neither_served_to_nor_revealed_to_another(
    engine: Translator,
) -> None:
    # With auth on, each API key has its part of the cache: whether a sentence is cached
    # (cached_sentences, or a faster answer) tells a key nothing about another key's texts.
    def scoped(scope: str) -> list[TranslationRequest]:
        return [TranslationRequest(t, "eng_Latn", "swh_Latn", cache_scope=scope) for t in TEXTS]

    engine.translate(scoped("alice"))
    assert engine.translate(scoped("bob")).timings.cached_sentences == 0
    assert engine.translate(requests()).timings.cached_sentences == 0  # nor the shared part
    assert engine.translate(scoped("alice")).timings.cached_sentences == 3
    # The same sentence for two keys in one batch is decoded for each, cached for each.
    both = engine.translate([*scoped("carol"), *scoped("dave")])
    assert both.timings.unique_sentences == 6
    assert engine.translate(scoped("dave")).timings.cached_sentences == 3


def test_only_the_misses_reach_the_model(engine: Translator) -> None:
    engine.translate(requests()[:1])
    out = engine.translate(requests())
    assert out.timings.cached_sentences == 2  # both sentences of the first text
    assert [r.cached for r in out.results] == [2, 1]  # the second shares one of them
    # Masked spans make one entry serve texts that differ only in their numbers or names.
    other = engine.translate([TranslationRequest("Send {who} the report.", "eng_Latn", "swh_Latn")])
    assert other.results[0].text == "Send {who} the report."
    assert other.timings.cached_sentences == 1


@pytest.mark.parametrize(
    ("target", "options"),
    [
        ("fra_Latn", None),
        ("swh_Latn", TranslationOptions(beam_size=1)),
        ("swh_Latn", TranslationOptions(num_alternatives=2)),
        # Every option that can change what is decoded, one at a time.
        ("swh_Latn", TranslationOptions(max_decoding_ratio=1.5)),
        ("swh_Latn", TranslationOptions(max_decoding_offset=8)),
        ("swh_Latn", TranslationOptions(max_decoding_length=256)),
        ("swh_Latn", TranslationOptions(repetition_penalty=1.2)),
        ("swh_Latn", TranslationOptions(no_repeat_ngram_size=3)),
        ("swh_Latn", TranslationOptions(length_penalty=0.8)),
    ],
)
def test_another_target_or_decoding_is_another_entry(
    engine: Translator, target: str, options: TranslationOptions | None
) -> None:
    engine.translate(requests())
    assert engine.translate(requests(target), options).timings.cached_sentences == 0
    assert engine.translate(requests(target), options).timings.cached_sentences == 3  # unique


def test_another_compute_type_is_another_namespace(
    engine: Translator, test_model_dir: Path
) -> None:
    """The same files quantised otherwise decode otherwise: never served each other's."""
    other = Translator(test_model_dir, intra_threads=1, compute_type="float32")
    assert engine.compute_type != other.compute_type
    assert other.cache_namespace != engine.cache_namespace
    other.cache = engine.cache
    engine.translate(requests())
    assert other.translate(requests()).timings.cached_sentences == 0


def test_from_cache_answers_only_when_every_sentence_is_there(engine: Translator) -> None:
    assert engine.translate_from_cache(requests()) is None
    assert engine.translate_from_cache(requests()) is None  # nothing was decoded meanwhile
    engine.translate(requests()[:1])
    assert engine.translate_from_cache(requests()) is None
    engine.translate(requests())
    found = engine.translate_from_cache(requests())
    assert found is not None
    assert [r.text for r in found.results] == TEXTS


def test_the_health_probe_bypasses_the_cache(engine: Translator) -> None:
    engine.translate(requests())
    assert engine.translate(requests(), use_cache=False).timings.cached_sentences == 0


def test_another_model_never_reads_this_models_entries(engine: Translator, tmp_path: Path) -> None:
    swapping = Translator(build_test_model(tmp_path / "swap", swaps=(("<0x7B>", "("),)))
    assert swapping.cache_namespace != engine.cache_namespace
    swapping.cache = engine.cache  # one shared cache, as Redis is for every replica
    engine.translate([TranslationRequest("A (note).", "eng_Latn", "swh_Latn")])
    out = swapping.translate([TranslationRequest("A (note).", "eng_Latn", "swh_Latn")])
    assert out.results[0].text == "A {note)."  # its own decode, not the copy model's entry
    assert out.timings.cached_sentences == 0


def test_memory_stays_within_the_bound(test_model_dir: Path) -> None:
    engine = Translator(test_model_dir, intra_threads=1)
    cache = MemoryCache(20_000)
    engine.cache = cache
    texts = [f"Sentence about item {word} here." for word in "abcdefghijklmnopqrstuvwxyz" * 4]
    for start in range(0, len(texts), 13):
        engine.translate(
            [TranslationRequest(t, "eng_Latn", "swh_Latn") for t in texts[start : start + 13]]
        )
    assert 0 < cache.bytes <= 20_000
    assert 0 < len(cache) < 26  # the oldest were evicted


def test_redis_cache_is_shared_by_replicas_and_an_outage_is_a_miss(
    test_model_dir: Path, redis_url: str
) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    one, two = (Translator(test_model_dir, intra_threads=1) for _ in range(2))
    one.cache = RedisCache(redis_url, prefix=prefix, ttl_seconds=60)
    two.cache = RedisCache(redis_url, prefix=prefix, ttl_seconds=60)
    one.translate(requests())
    shared = two.translate(requests())
    assert shared.timings.cached_sentences == 3
    assert [r.text for r in shared.results] == TEXTS
    # Nothing listens here: every lookup is a miss and the translation still succeeds.
    two.cache = RedisCache("redis://127.0.0.1:1/0", prefix=prefix)
    down = two.translate(requests())
    assert [r.text for r in down.results] == TEXTS
    assert down.timings.cached_sentences == 0
