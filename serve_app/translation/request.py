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


class TranslationRequest(BaseModel):
    """Texts into one target or several; language codes already normalised (FLORES-200)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    texts: list[str] = Field(min_length=1)
    targets: list[str] = Field(min_length=1)
    # Given for every text; else detected: each text on its own, or with ``detect_as_one``
    # the texts as one (a document's cells, a stream's text: one language, read from the
    # start of the whole).
    source: str | None = None
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
    # Whose part of the translation cache this request uses (the caller's key id; "" shared).
    owner: str = ""

    @model_validator(mode="after")
    def _offers_name_texts(self) -> TranslationRequest:
        for offer in self.corrections:
            if offer.text >= len(self.texts):
                raise ValueError(f"a correction names text {offer.text} of {len(self.texts)}")
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


class CallerRecords(Protocol):
    """What a translation may read of its caller's records (glossaries, corrections)."""

    async def glossary(self, owner: str, glossary_id: str) -> Glossary | None:
        """``owner``'s glossary ``glossary_id``; None for an unknown one or another's."""
        ...

    async def corrections(self, owner: str) -> Corrections | None:
        """``owner``'s corrections to serve; None when corrections are off."""
        ...
