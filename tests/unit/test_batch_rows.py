"""Batch translation's Ray-free core on the real copy model and the real detector: rows keep
their place, nulls and blanks stay, a bad row is reported beside the others."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from serve_app.batch.rows import BatchSpec, BatchSpecError, RowTranslator
from serve_app.engines.detector import LanguageDetector
from serve_app.engines.translator import Translator


def rows(
    translator: Translator, detector: LanguageDetector | None = None, **spec: object
) -> RowTranslator:
    settings: dict[str, object] = {"column": "text", "targets": ("fra_Latn",), **spec}
    return RowTranslator(
        translator,
        BatchSpec(**settings),  # type: ignore[arg-type]
        detector=(lambda: detector) if detector else None,  # type: ignore[return-value]
    )


def test_every_row_keeps_its_place_nulls_and_blanks_included(translator: Translator) -> None:
    texts = [
        "The first row. It has two sentences.",
        None,
        "",
        "   ",
        "Send {count} files to https://example.org today.",
        float("nan"),
        "Last row.",
    ]
    batch = pd.DataFrame({"id": range(len(texts)), "text": texts}, index=range(10, 17))
    out = rows(translator, source="eng_Latn")(batch)
    assert list(out.index) == list(batch.index)
    assert list(out["id"]) == list(range(len(texts)))
    got = out["translation"].tolist()
    assert got[0] == texts[0]
    assert got[1] is None
    assert got[5] is None
    assert got[2:4] == ["", "   "]  # blanks come back as they were
    assert got[4] == texts[4]  # spans kept exactly
    assert got[6] == "Last row."
    assert out["error"].isna().all()
    assert out["source_language"].tolist() == [
        "eng_Latn",
        None,
        None,
        None,
        "eng_Latn",
        None,
        "eng_Latn",
    ]


def test_bad_rows_get_their_reason_and_the_others_are_translated(
    translator: Translator, detector: LanguageDetector
) -> None:
    batch = pd.DataFrame(
        {
            "text": [
                "Good morning, how are you today my friend?",
                12345,
                "x" * 200,
                "Bonjour tout le monde, comment allez-vous ce matin?",
                "1234 5678",
                "<p>Unclosed <b>markup</p>",
            ],
            "lang": ["en", "fr", None, "", None, "klingon"],
        }
    )
    out = rows(translator, detector, source_column="lang", max_text_chars=100)(batch)
    errors = out["error"].tolist()
    assert errors[0] is None
    assert out["translation"][0] == batch["text"][0]
    assert errors[1] == "not text: a int value"
    assert errors[2] is not None
    assert "limit is 100" in errors[2]
    # No source given for this row: detected (fastText on a real sentence).
    assert errors[3] is None
    assert out["source_language"][3] == "fra_Latn"
    assert out["translation"][3] == batch["text"][3]
    assert errors[4] is not None
    assert "could not detect" in errors[4]
    assert errors[5] == "unknown source language 'klingon'"
    assert out["translation"][1:3].isna().all()
    assert out["translation"][4:].isna().all()


def test_several_targets_and_quality_get_a_column_each(translator: Translator) -> None:
    batch = pd.DataFrame({"text": ["One short line.", "Another short line."]})
    out = rows(translator, source="eng_Latn", targets=("fra_Latn", "swh_Latn"), quality=True)(batch)
    assert out["translation_fra_Latn"].tolist() == batch["text"].tolist()
    assert out["translation_swh_Latn"].tolist() == batch["text"].tolist()
    for target in ("fra_Latn", "swh_Latn"):
        scores = out[f"quality_{target}"].tolist()
        assert all(0.0 <= score <= 1.0 and not math.isnan(score) for score in scores)


def test_html_rows_keep_their_markup_and_a_refused_page_is_that_rows_error(
    translator: Translator,
) -> None:
    batch = pd.DataFrame(
        {"text": ["<p>Hello <b>world</b>!</p>", "<div>" * 300 + "Deep", "<i>Fine</i>"]}
    )
    out = rows(translator, source="eng_Latn", text_format="html")(batch)
    assert out["translation"][0] == "<p>Hello <b>world</b>!</p>"
    assert "nested deeper than 256" in out["error"][1]
    assert out["translation"][1] is None
    assert out["translation"][2] == "<i>Fine</i>"


def test_glossary_terms_are_enforced_per_language_pair(translator: Translator) -> None:
    glossary = (("eng_Latn", "fra_Latn", "cloud", "nuage"),)
    batch = pd.DataFrame({"text": ["Our cloud is fast.", "No term here."]})
    out = rows(translator, source="eng_Latn", glossary=glossary)(batch)
    assert out["translation"].tolist() == ["Our nuage is fast.", "No term here."]


def test_a_job_that_cannot_run_is_refused_before_any_row() -> None:
    with pytest.raises(BatchSpecError, match="at least one target"):
        BatchSpec("text", ())
    with pytest.raises(BatchSpecError, match="named twice"):
        BatchSpec("text", ("fra_Latn", "fra_Latn"))
    spec = BatchSpec("text", ("fra_Latn",))
    with pytest.raises(BatchSpecError, match="no column 'text'"):
        spec.check_columns(["body"])
    with pytest.raises(BatchSpecError, match="would overwrite"):
        spec.check_columns(["text", "translation"])
    # The source column may be the one the result names: its codes come back normalised.
    BatchSpec("text", ("fra_Latn",), source_column="source_language").check_columns(
        ["text", "source_language"]
    )


def test_an_unknown_target_is_refused_when_the_translator_is_made(
    translator: Translator,
) -> None:
    from serve_app.engines.translator import UnsupportedLanguageError

    with pytest.raises(UnsupportedLanguageError):
        rows(translator, targets=("xxx_Latn",))


def test_batch_spec_normalises_codes_and_reads_a_glossary_csv(tmp_path: Path) -> None:
    from serve_app.batch import batch_spec

    terms = tmp_path / "terms.csv"
    terms.write_text("source,target\ncloud,nuage\n")
    spec = batch_spec("text", "fr", source="en", glossary=terms, glossary_mode="prefer")
    assert (spec.targets, spec.source) == (("fra_Latn",), "eng_Latn")
    assert spec.glossary == (("eng_Latn", "fra_Latn", "cloud", "nuage"),)
    assert batch_spec("text", ["sw", "deu_Latn"]).targets == ("swh_Latn", "deu_Latn")
    with_languages = tmp_path / "pairs.csv"
    with_languages.write_text("en,sw,cloud,wingu\nen,fr,cloud,nuage\n")
    assert len(batch_spec("text", "fr,sw", glossary=with_languages).glossary) == 2
    # source,target rows say nothing of their languages: they need one source and target.
    with pytest.raises(BatchSpecError, match="need one source"):
        batch_spec("text", "fr,sw", source="en", glossary=terms)
    twice = tmp_path / "twice.csv"
    twice.write_text("cloud,nuage\nCloud,ciel\n")
    with pytest.raises(BatchSpecError, match="listed twice"):
        batch_spec("text", "fr", source="en", glossary=twice)
    with pytest.raises(BatchSpecError, match="glossary mode"):
        batch_spec("text", "fr", glossary_mode="sometimes")


def test_the_pool_leaves_a_cpu_for_reading_and_writing() -> None:
    from serve_app.batch import Pool

    assert Pool().size(cluster_cpus=4) == 3
    assert Pool(cpus_per_actor=2).size(cluster_cpus=8) == 3
    assert Pool(max_actors=2).size(cluster_cpus=4) == 2
    pool = Pool(threads_per_actor=3, max_actors=1)
    assert (pool.size(cluster_cpus=2), pool.threads(2, 1)) == (1, 3)
    assert Pool(cpus_per_actor=3).threads(16, 5) == 3
    # By default the cores the pool leaves (the one kept for reading and writing) are worked
    # too: one actor on a 2-CPU machine runs two workers; three on four CPUs, one each.
    assert Pool().threads(2, Pool().size(cluster_cpus=2)) == 2
    assert Pool().threads(4, Pool().size(cluster_cpus=4)) == 1
    # A pool that would hold every CPU would wait forever for its reads: refused.
    with pytest.raises(BatchSpecError, match="leave none for reading"):
        Pool(cpus_per_actor=2, max_actors=1).size(cluster_cpus=2)
    with pytest.raises(BatchSpecError, match="leave none for reading"):
        Pool().size(cluster_cpus=1)
    with pytest.raises(BatchSpecError, match="at least min_actors"):
        Pool(min_actors=3, max_actors=2)
