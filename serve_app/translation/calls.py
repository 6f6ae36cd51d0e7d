"""The Translator's side of a call: several callers' TranslateCalls answered in one flush
by an engine (plain Python: the Translator deployment batches calls and hands them here;
tests and tools call it directly)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from serve_app.engines.glossary import by_pair
from serve_app.engines.markup import Document, MarkupError, prepare
from serve_app.engines.memory import by_pair as memory_by_pair
from serve_app.engines.translator import TranslationOptions, TranslationRequest, Translator
from serve_app.messages import TranslateCall, TranslateOutcome


@dataclass(frozen=True)
class ServedModel:
    """Which model answers: its registered name, what it is, whether it is the fallback."""

    name: str
    model: str
    fallback: bool = False


@dataclass
class _Group:
    """The requests of one flush that share decoding options, with their callers."""

    requests: list[TranslationRequest] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    owners: list[int] = field(default_factory=list)


def answer_calls(
    engine: Translator,
    calls: list[TranslateCall],
    options: TranslationOptions,
    served: ServedModel,
    parallel: int | None = None,
    *,
    cached_only: bool = False,
) -> list[TranslateOutcome] | None:
    """Each call's outcome, every call's texts decoded together (one ``translate`` per
    distinct (hypotheses, beam) asked for: nearly always one). With ``cached_only``, None
    unless the cache holds every sentence (an error, e.g. an unknown language, is answered
    at once too)."""
    outcomes = [TranslateOutcome(batch_requests=len(calls)) for _ in calls]
    groups: dict[tuple[int, int], _Group] = {}
    for index, call in enumerate(calls):
        try:
            targets = [engine.check_language(code) for code in call.targets]
            sources = [engine.check_language(code) for code in call.source_languages]
            for target in targets:  # a pair model serves its one pair
                for source in set(sources):
                    engine.check_pair(source, target)
        except ValueError as exc:
            outcomes[index].error = str(exc)
            outcomes[index].error_field = "language"
            continue
        try:  # markup is parsed once per text, whatever the number of targets
            documents = [
                prepare(text, call.text_format, protect=call.protect_spans) for text in call.texts
            ]
        except MarkupError as exc:
            outcomes[index].error = str(exc)
            outcomes[index].error_field = "text"
            outcomes[index].error_code = "INVALID_MARKUP"
            continue
        beam = call.beam_size or options.beam_size
        group = groups.setdefault((1 + call.alternatives, beam), _Group())
        glossaries = by_pair(call.glossary, call.glossary_mode)
        memories = memory_by_pair(call.memory)
        # Several targets ride the same translate_batch, target by target.
        for target in targets:
            for text, source, document in zip(call.texts, sources, documents, strict=True):
                group.requests.append(
                    TranslationRequest(
                        text,
                        source,
                        target,
                        call.text_format,
                        call.protect_spans,
                        quality=call.quality,
                        glossary=glossaries.get((source, target)),
                        cache_scope=call.cache_scope,
                        memory=memories.get((source, target)),
                        memory_mode=call.memory_mode,
                    )
                )
                group.documents.append(document)
                group.owners.append(index)
    call_memory = [bool(call.memory) for call in calls]
    seconds, sentences = 0.0, 0
    for (hypotheses, beam), group in groups.items():
        group_options = replace(options, num_alternatives=hypotheses, beam_size=beam)
        if cached_only:
            found = engine.translate_from_cache(
                group.requests, group_options, prepared=group.documents
            )
            if found is None:
                return None
            output = found
        else:
            output = engine.translate(
                group.requests, group_options, parallel=parallel, prepared=group.documents
            )
        for owner, result in zip(group.owners, output.results, strict=True):
            outcomes[owner].beam_size = group_options.decoding_beam
            outcomes[owner].texts.append(result.text)
            outcomes[owner].alternatives.append([a.text for a in result.alternatives[1:]])
            outcomes[owner].qualities.append(result.quality)
            outcomes[owner].glossary.append(result.glossary)
            if call_memory[owner]:
                outcomes[owner].memory.append(result.memory)
            outcomes[owner].repaired_sentences += result.repaired
            outcomes[owner].cached_sentences += result.cached
            outcomes[owner].sentences += result.sentences
        seconds += output.timings.translate_seconds
        sentences += output.timings.unique_sentences
    for outcome in outcomes:
        outcome.inference_seconds = seconds
        outcome.batch_sentences = sentences
        outcome.model = served.model
        outcome.model_name = served.name
        outcome.model_is_fallback = served.fallback
    return outcomes
