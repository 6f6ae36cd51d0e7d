"""What one translation asks for: the same request whichever entry point it came through.

A job stores its request (as JSON) and runs it later, so the request carries what it needs
of the caller's records as they stood when it was made: the glossary's terms found in the
texts and the caller's corrections of them, not references a deletion could break.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from serve_app.engines.corrections import Corrections
from serve_app.engines.glossary import Glossary
from serve_app.engines.memory import MemoryMatch, TranslationMemory, sentence_keys

# (source language, target language, source term, target term): a glossary entry found in
# the texts, as a Translator call carries it.
Term = tuple[str, str, str, str]


class CorrectionOffer(BaseModel):
    """The caller's correction of text ``text`` into ``target`` when its source is
    ``source`` (a text's source may be detected only when the request runs)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: int = Field(ge=0)
    target: str
    source: str
    id: str
    translation: str


class MemoryOffer(BaseModel):
    """A translation memory's match of a sentence (its key) found in texts ``texts``, from
    ``source`` into ``target`` (a text's source may be detected only when it runs)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    texts: tuple[int, ...] = Field(min_length=1)
    source: str
    target: str
    key: str
    segment: str
    translation: str
    score: float = Field(gt=0, le=1)

    @property
    def match(self) -> MemoryMatch:
        return MemoryMatch(
            self.source, self.target, self.key, self.segment, self.translation, self.score
        )


class TranslationRequest(BaseModel):
    """Texts into one target or several; language codes already normalised (FLORES-200)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    texts: list[str] = Field(min_length=1)
    targets: list[str] = Field(min_length=1)
    # Given for every text; else detected: each text on its own, or with ``detect_as_one``
    # the texts as one (a document's cells, a stream's text: one language, read from the
    # start of the whole).
    source: str | None = None
    # Where detected: the only languages a text may be detected as (None: any).
    source_candidates: frozenset[str] | None = None
    detect_as_one: bool = False
    text_format: Literal["text", "html"] = "text"
    protect_spans: bool = True
    alternatives: int = Field(0, ge=0)
    beam_size: int | None = Field(None, ge=1)
    # A registered model by name; else the routing table's per pair.
    model: str | None = None
    # Measure each translation's quality (output language included); below ``min_quality``
    # a translation is withheld (the entry point says how).
    quality: bool = False
    min_quality: float | None = Field(None, ge=0, le=1)
    # With a glossary (None: without one): its terms found in the texts, and how to apply them.
    glossary: tuple[Term, ...] | None = None
    glossary_mode: Literal["enforce", "prefer"] = "enforce"
    corrections: tuple[CorrectionOffer, ...] = ()
    # With a translation memory (None: without one): its matches of the texts' sentences,
    # and whether a fuzzy one is served (``prefer``) or only offered (``suggest``).
    memory: tuple[MemoryOffer, ...] | None = None
    memory_mode: Literal["suggest", "prefer"] = "suggest"
    # Whose part of the translation cache this request uses (the caller's key id; "" shared).
    owner: str = ""

    @model_validator(mode="after")
    def _offers_name_texts(self) -> TranslationRequest:
        for offer in self.corrections:
            if offer.text >= len(self.texts):
                raise ValueError(f"a correction names text {offer.text} of {len(self.texts)}")
        for memory in self.memory or ():
            if max(memory.texts) >= len(self.texts):
                raise ValueError(f"a memory match names text {max(memory.texts)}")
        return self

    @property
    def measured(self) -> bool:
        """Whether qualities are measured: asked for, or needed to apply ``min_quality``."""
        return self.quality or self.min_quality is not None

    @property
    def characters(self) -> int:
        """Characters translated: each text's once per target (what a request is charged)."""
        return sum(map(len, self.texts)) * len(self.targets)


def found_terms(
    glossary: Glossary, readable: Sequence[str], targets: Sequence[str]
) -> tuple[Term, ...]:
    """The ``glossary``'s entries into any of ``targets`` that occur in the texts (their
    ``readable`` text), from every source it has: the texts' sources may be detected later,
    and a Translator applies only the entries of each text's own pair."""
    wanted = set(targets)
    used: dict[Term, None] = {}
    for source, target in glossary.language_pairs:
        if target not in wanted:
            continue
        terms = glossary.terms(source, target)
        for text in readable:
            for match in terms.find(text):
                term_source, term_target = terms.pairs[match.term]
                used[(source, target, term_source, term_target)] = None
    return tuple(used)


def correction_offers(
    table: Corrections | None, texts: Sequence[str], targets: Sequence[str]
) -> tuple[CorrectionOffer, ...]:
    """The caller's corrections of ``texts`` into ``targets``, for every source they have."""
    if not table:
        return ()
    return tuple(
        CorrectionOffer(
            text=index, target=target, source=source, id=found.id, translation=found.translation
        )
        for index, text in enumerate(texts)
        for target in targets
        for source, found in table.offered(text, target).items()
    )


def memory_offers(
    memory: TranslationMemory,
    texts: Sequence[str],
    targets: Sequence[str],
    *,
    sources: Sequence[str] | None = None,
    text_format: str,
    protect_spans: bool,
    max_sentence_chars: int,
    threshold: float,
) -> tuple[MemoryOffer, ...]:
    """The ``memory``'s best match (exact, else fuzzy at or above ``threshold``) of each
    sentence of ``texts`` into each of ``targets``, from ``sources`` (the request's source
    language, when it names one), else from every source language the memory has: the
    texts' sources may be detected later, and a Translator applies only the matches of each
    text's own pair. Each distinct sentence is looked up once per pair."""
    where: dict[str, list[int]] = {}
    for index, text in enumerate(texts):
        for key in sentence_keys(
            text, text_format, protect=protect_spans, max_sentence_chars=max_sentence_chars
        ):
            if not key:
                continue
            found = where.setdefault(key, [])
            if not found or found[-1] != index:
                found.append(index)
    offers = []
    for target in targets:
        for source in memory.sources_into(target):
            if sources is not None and source not in sources:
                continue  # (an index is built per pair looked in: only those asked for)
            for key, indexes in where.items():
                match = memory.lookup(key, source, target, threshold)
                if match is not None:
                    offers.append(
                        MemoryOffer(
                            texts=tuple(indexes),
                            source=source,
                            target=target,
                            key=key,
                            segment=match.segment,
                            translation=match.translation,
                            score=match.score,
                        )
                    )
    return tuple(offers)


class CallerRecords(Protocol):
    """What a translation may read of its caller's records (glossaries, corrections)."""

    async def glossary(self, owner: str, glossary_id: str) -> Glossary | None:
        """``owner``'s glossary ``glossary_id``; None for an unknown one or another's."""
        ...

    async def corrections(self, owner: str) -> Corrections | None:
        """``owner``'s corrections to serve; None when corrections are off."""
        ...
