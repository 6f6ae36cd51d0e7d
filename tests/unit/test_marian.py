"""Marian / OPUS-MT pair models: the test builder's layout and the engine's conventions
(source pieces + ``</s>``, no language token, no target prefix, one pair), on real
CTranslate2, plus such a model fetched from a populated offline Hugging Face cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from serve_app.engines.models import ModelUnavailableError
from serve_app.engines.translator import (
    TranslationRequest,
    Translator,
    UnsupportedLanguageError,
)
from serve_app.testmodel.build import build_test_model
from tests.unit.published_layouts import cache_repo

TEXT = "Good morning, my friend. Where is the station? It is near {the} old market."


@pytest.fixture(scope="module")
def marian_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_test_model(
        tmp_path_factory.mktemp("marian") / "opus-en-fr",
        family="marian",
        languages=("eng_Latn", "fra_Latn"),
    )


def translate(translator: Translator, text: str, source: str, target: str) -> str:
    request = TranslationRequest(text=text, source_language=source, target_language=target)
    return translator.translate([request]).results[0].text


def test_the_builder_lays_out_a_ct2_conversion_of_an_opus_mt_model(marian_model: Path) -> None:
    files = {path.name for path in marian_model.iterdir()}
    assert {"model.bin", "shared_vocabulary.json", "source.spm", "target.spm"} <= files
    assert "sentencepiece.bpe.model" not in files
    vocabulary = json.loads((marian_model / "shared_vocabulary.json").read_text())
    assert vocabulary[:2] == ["</s>", "<unk>"]
    assert "<pad>" not in vocabulary
    assert "<s>" not in vocabulary
    assert not any(token.endswith("_Latn") for token in vocabulary)  # no language token
    config = json.loads((marian_model / "config.json").read_text())
    assert config["decoder_start_token"] == "</s>"
    meta = json.loads((marian_model / "tafsiri_model.json").read_text())
    assert (meta["family"], meta["languages"]) == ("marian", ["eng_Latn", "fra_Latn"])


def test_a_pair_model_translates_its_pair_exactly_with_marian_conventions(
    marian_model: Path,
) -> None:
    translator = Translator(marian_model, intra_threads=1)
    assert (translator.family, translator.pair) == ("marian", ("eng_Latn", "fra_Latn"))
    assert translator.supported_languages == ["eng_Latn", "fra_Latn"]
    pieces = translator.tokenizer.encode("Where is it?")
    # Source: pieces then </s>, nothing before; decoding starts with no prefix.
    assert translator.tokenizer.source_tokens(pieces, "eng_Latn") == [*pieces, "</s>"]
    assert translator.tokenizer.target_prefix("fra_Latn") is None
    assert translate(translator, TEXT, "eng_Latn", "fra_Latn") == TEXT
    # Markup through the same path.
    html = "<p>Hello <b>world</b>. Bye!</p>"
    request = TranslationRequest(
        text=html, source_language="eng_Latn", target_language="fra_Latn", text_format="html"
    )
    assert translator.translate([request]).results[0].text == html


def test_a_pair_model_refuses_every_other_pair(marian_model: Path) -> None:
    translator = Translator(marian_model, intra_threads=1)
    for source, target in [
        ("fra_Latn", "eng_Latn"),
        ("eng_Latn", "eng_Latn"),
        ("swh_Latn", "fra_Latn"),
    ]:
        with pytest.raises(UnsupportedLanguageError):
            translate(translator, "Hello.", source, target)
    with pytest.raises(UnsupportedLanguageError, match="eng_Latn to fra_Latn only"):
        translator.check_pair("fra_Latn", "eng_Latn")


def test_the_pair_comes_from_the_config_or_an_argos_style_metadata_file(
    marian_model: Path, tmp_path: Path
) -> None:
    bare = shutil.copytree(marian_model, tmp_path / "bare")
    (bare / "tafsiri_model.json").unlink()
    with pytest.raises(ModelUnavailableError, match="which pair it serves"):
        Translator(bare)
    given = Translator(bare, pair=("en", "fr"), intra_threads=1)  # any accepted code
    assert given.pair == ("eng_Latn", "fra_Latn")
    (bare / "metadata.json").write_text(json.dumps({"from_code": "sw", "to_code": "en"}))
    argos = Translator(bare, intra_threads=1)
    assert argos.pair == ("swh_Latn", "eng_Latn")
    assert translate(argos, "Habari za asubuhi.", "swh_Latn", "eng_Latn") == "Habari za asubuhi."


def test_distinguishable_models_tell_which_one_answered(
    marian_model: Path, test_model_dir: Path, tmp_path: Path
) -> None:
    """A Marian model built with a swap writes '(' for '{': its answers differ from the plain
    copy models' in a known way, so a routing test can tell which model served it."""
    swapped = build_test_model(tmp_path / "opus-swapped", family="marian", swaps=(("<0x7B>", "("),))
    # An unpaired brace: '{the}' would be a protected placeholder, never decoded.
    text = "Open the { menu now."
    marked = translate(Translator(swapped, intra_threads=1), text, "eng_Latn", "fra_Latn")
    assert marked == "Open the ( menu now."
    assert (
        translate(Translator(marian_model, intra_threads=1), TEXT, "eng_Latn", "fra_Latn") == TEXT
    )
    nllb = Translator(test_model_dir, intra_threads=1)
    assert nllb.family == "nllb"
    assert nllb.pair is None
    assert translate(nllb, TEXT, "eng_Latn", "swh_Latn") == TEXT


def test_a_marian_conversion_from_the_offline_cache(
    marian_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OPUS-MT CTranslate2 conversion as such repos publish it (model.bin, the shared
    vocabulary, config.json, source.spm, target.spm, plus Transformers' tokenizer files that
    are not needed), fetched offline; its pair from the config."""
    files = {
        name: (marian_model / name).read_bytes()
        for name in (
            "model.bin",
            "shared_vocabulary.json",
            "config.json",
            "source.spm",
            "target.spm",
        )
    }
    files["vocab.json"] = b"{}"
    files["tokenizer_config.json"] = b'{"source_lang": "en", "target_lang": "fr"}'
    files["README.md"] = b"# opus-mt-en-fr, converted\n"
    home = tmp_path / "hf"
    snapshot = cache_repo(home, "acme/opus-mt-en-fr-ct2", files, "0" * 40)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    translator = Translator.from_config("acme/opus-mt-en-fr-ct2", pair=("eng_Latn", "fra_Latn"))
    assert translator.model_path == snapshot
    assert translator.family == "marian"
    assert translate(translator, TEXT, "eng_Latn", "fra_Latn") == TEXT
