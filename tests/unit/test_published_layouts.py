"""Every published NLLB layout loads and translates exactly, from a populated offline Hugging
Face cache (HF_HUB_OFFLINE=1), the way a networked first start would find it."""

from __future__ import annotations

import fnmatch
import logging
from pathlib import Path

import pytest

from serve_app.config import (
    BUNDLED_DETECTOR,
    BUNDLED_TRANSLATOR,
    DEFAULT_TRANSLATOR,
    DEFAULT_TRANSLATOR_REVISION,
    AppArgs,
)
from serve_app.engines.detector import (
    DETECTOR_FILES,
    KNOWN_MODELS,
    LanguageDetector,
    bundled_lid176_path,
    resolve_detector_model,
)
from serve_app.engines.models import (
    ModelUnavailableError,
    download_patterns,
    load_with_fallback,
    split_repo_reference,
)
from serve_app.engines.tokenizer import open_pieces
from serve_app.engines.translator import (
    MODEL_FILES,
    TOKENIZER_FILES,
    TranslationRequest,
    Translator,
)
from serve_app.testmodel.build import build_test_model
from tests.unit.published_layouts import cache_repo, model_files, sema_files, write_tree

SENTENCES = [
    "Habari za asubuhi, rafiki yangu.",
    "Ça va très bien, merci! Où est la gare?",
    "Ich habe heute leider keine Zeit.",
]
COMMIT = "0123456789abcdef0123456789abcdef01234567"
LID_COMMIT = KNOWN_MODELS["lid218e"][2]


@pytest.fixture(scope="module")
def nllb_vocab_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The copy model with NLLB-200's own vocabulary: 256,206 entries in its order."""
    return build_test_model(tmp_path_factory.mktemp("nllb") / "model", size="nllb-vocab")


@pytest.fixture(scope="module")
def hf_home(
    tmp_path_factory: pytest.TempPathFactory, test_model_dir: Path, nllb_vocab_model: Path
) -> Path:
    home = tmp_path_factory.mktemp("hf-home")
    both = {"sentencepiece.bpe.model", "tokenizer.json"}
    # The default model, at its pinned revision, as JustFrederik published it.
    cache_repo(
        home,
        DEFAULT_TRANSLATOR,
        model_files(nllb_vocab_model, vocabulary="txt", tokenizer=both),
        DEFAULT_TRANSLATOR_REVISION,
    )
    # ct2fast: tokenizer.json only, JSON vocabulary.
    cache_repo(
        home,
        "michaelfeil/ct2fast-nllb-200-distilled-600M",
        model_files(test_model_dir, vocabulary="json", tokenizer={"tokenizer.json"}),
        COMMIT,
    )
    # Plain ct2-transformers-converter output: no tokenizer at all...
    cache_repo(
        home,
        "acme/nllb-600m-ct2",
        model_files(test_model_dir, vocabulary="json", tokenizer=set()),
        COMMIT,
    )
    # ...whose tokenizer is the original model's.
    original = model_files(test_model_dir, vocabulary="json", tokenizer=both)
    tokenizer_only = {
        name: original[name] for name in ("sentencepiece.bpe.model", "tokenizer.json")
    }
    cache_repo(home, "facebook/nllb-200-distilled-600M", tokenizer_only, COMMIT)
    cache_repo(
        home, "sematech/sema-utils", sema_files(test_model_dir, bundled_lid176_path()), COMMIT
    )
    cache_repo(
        home,
        "facebook/fasttext-language-identification",
        {"model.bin": bundled_lid176_path().read_bytes()},
        str(LID_COMMIT),
    )
    return home


@pytest.fixture
def offline_cache(hf_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(hf_home))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(hf_home / "hub"))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    return hf_home


def translate_all(translator: Translator) -> list[str]:
    requests = [TranslationRequest(text, "swh_Latn", "eng_Latn") for text in SENTENCES]
    return [result.text for result in translator.translate(requests).results]


def test_tokenizer_json_gives_the_sentencepiece_pieces(
    test_model_dir: Path, tmp_path: Path
) -> None:
    files = model_files(test_model_dir, vocabulary="json", tokenizer={"tokenizer.json"})
    write_tree(tmp_path, files)
    fast = open_pieces(tmp_path / "tokenizer.json")
    slow = open_pieces(test_model_dir / "sentencepiece.bpe.model")
    corpus = [*SENTENCES, "Ṣé dáadáa ni? 日本語も 🙂 ok", "ĉu vi parolas Esperanton?"]
    for text in corpus:
        assert fast.encode(text) == slow.encode(text), text
        assert fast.decode(fast.encode(text)) == slow.decode(slow.encode(text)), text


@pytest.mark.parametrize(
    ("reference", "revision", "tokenizer"),
    [
        # The default: JustFrederik's layout, pinned, NLLB-200's 256,206-entry vocabulary.
        (DEFAULT_TRANSLATOR, DEFAULT_TRANSLATOR_REVISION, None),
        # tokenizer.json only.
        ("michaelfeil/ct2fast-nllb-200-distilled-600M", None, None),
        # Plain converter output, its tokenizer from the original model's repo.
        ("acme/nllb-600m-ct2", "main", "facebook/nllb-200-distilled-600M"),
        # Sema: a folder inside the repo, spm.model two levels up, at its commit.
        ("sematech/sema-utils/translation_models/sematrans-3.3B", COMMIT, None),
    ],
)
def test_each_published_layout_translates_exactly_from_the_offline_cache(
    offline_cache: Path, reference: str, revision: str | None, tokenizer: str | None
) -> None:
    translator = Translator.from_config(
        reference, revision=revision, tokenizer=tokenizer, intra_threads=1
    )
    assert translate_all(translator) == SENTENCES
    assert str(translator.model_path).startswith(str(offline_cache / "hub"))


def test_the_default_model_has_nllbs_vocabulary(offline_cache: Path) -> None:
    translator = Translator.from_config(DEFAULT_TRANSLATOR, revision=DEFAULT_TRANSLATOR_REVISION)
    vocabulary = (translator.model_path / "shared_vocabulary.txt").read_text().splitlines()
    assert len(vocabulary) == 256_206
    assert vocabulary[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert vocabulary[-1] == "<mask>"
    assert len(translator.supported_languages) == 202


def test_sema_layout_as_a_local_directory(offline_cache: Path) -> None:
    snapshot = offline_cache / "hub" / "models--sematech--sema-utils" / "snapshots" / COMMIT
    folder = snapshot / "translation_models" / "sematrans-3.3B"
    assert translate_all(Translator.from_config(str(folder), intra_threads=1)) == SENTENCES


def test_detectors_from_the_offline_cache(offline_cache: Path) -> None:
    """lid218e by name at its pinned revision, and Sema's LID by file or by repo."""
    for reference in ("lid218e", "sematech/sema-utils/lid218e.bin", "sematech/sema-utils"):
        path = resolve_detector_model(reference)
        assert str(path).startswith(str(offline_cache / "hub")), reference
        (found,) = LanguageDetector(path).detect(["Ich habe heute leider keine Zeit."])
        assert found.language == "deu_Latn", reference


SEMA_REPO = [
    "README.md",
    "spm.model",
    "lid218e.bin",
    "translation_models/sematrans-3.3B/model.bin",
    "translation_models/sematrans-3.3B/config.json",
    "translation_models/sematrans-3.3B/shared_vocabulary.txt",
]


def fetched(reference: str, patterns: list[str], search_up: tuple[str, ...] = ()) -> set[str]:
    """What huggingface_hub's own filter keeps of the Sema repo for these patterns."""
    from huggingface_hub.utils import filter_repo_objects

    parts = split_repo_reference(reference)
    assert parts is not None
    allow = download_patterns(parts[1], patterns, search_up)
    return set(filter_repo_objects(SEMA_REPO, allow_patterns=allow))


def test_only_the_files_a_model_needs_are_fetched() -> None:
    # The detector never pulls the 3.3B translation model.
    assert fetched("sematech/sema-utils", DETECTOR_FILES) == {"lid218e.bin"}
    assert fetched("sematech/sema-utils/lid218e.bin", DETECTOR_FILES) == {"lid218e.bin"}
    # The translator in a subfolder: its files and the tokenizer at the root, nothing else.
    assert fetched(
        "sematech/sema-utils/translation_models/sematrans-3.3B",
        MODEL_FILES,
        (*TOKENIZER_FILES, "*.model"),
    ) == {name for name in SEMA_REPO if name.startswith("translation_models/")} | {"spm.model"}
    # A repo root: model files only, not a README or another model's weights.
    assert not fnmatch.filter(["README.md", "pytorch_model.bin"], "|".join(MODEL_FILES))


def test_missing_tokenizer_names_the_setting_and_the_fix(offline_cache: Path) -> None:
    with pytest.raises(ModelUnavailableError) as info:
        Translator.from_config("acme/nllb-600m-ct2", revision="main")
    message = str(info.value)
    assert "`translator.tokenizer`" in message
    assert "TAFSIRI_TRANSLATOR__TOKENIZER" in message
    assert "facebook/nllb-200-distilled-600M" in message


def test_bad_tokenizer_files_get_errors_not_raw_library_messages(
    test_model_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "tokenizer.json").write_text('{"not": "a tokenizer"}')
    (tmp_path / "spm.model").write_bytes(b"not a protobuf")
    with pytest.raises(ModelUnavailableError, match=r"is not a tokenizer\.json"):
        Translator(test_model_dir, tokenizer_path=tmp_path / "tokenizer.json")
    with pytest.raises(ModelUnavailableError, match="is not a SentencePiece model"):
        Translator(test_model_dir, tokenizer_path=tmp_path / "spm.model")


def test_a_model_missing_offline_names_the_setting_and_how_to_fetch(offline_cache: Path) -> None:
    with pytest.raises(ModelUnavailableError) as info:
        Translator.from_config("acme/not-cached", revision="main")
    message = str(info.value)
    assert "`translator.model` (environment: TAFSIRI_TRANSLATOR__MODEL)" in message
    assert "tafsiri models pull acme/not-cached --revision main" in message


def test_fallback_is_loud_and_says_why(
    offline_cache: Path, test_model_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def load(model: str, revision: str | None) -> Translator:
        return Translator.from_config(model, revision=revision, intra_threads=1)

    with caplog.at_level(logging.ERROR):
        loaded = load_with_fallback(
            "translator", load, "acme/not-cached", "main", str(test_model_dir)
        )
    assert loaded.model == str(test_model_dir)
    assert loaded.fallback_reason is not None
    assert "acme/not-cached" in loaded.fallback_reason
    assert any("SERVING THE BUNDLED FALLBACK" in record.getMessage() for record in caplog.records)
    served = load_with_fallback("translator", load, str(test_model_dir), None, "unused")
    assert served.fallback_reason is None
    with pytest.raises(ModelUnavailableError):
        load_with_fallback("translator", load, "acme/not-cached", "main", None)


def test_models_setting_decides_defaults_and_fallbacks() -> None:
    auto = AppArgs()
    assert (auto.translator.model, auto.translator.revision) == (
        DEFAULT_TRANSLATOR,
        DEFAULT_TRANSLATOR_REVISION,
    )
    assert auto.detector.model == "lid218e"
    assert (auto.translator.fallback_model, auto.detector.fallback_model) == (
        BUNDLED_TRANSLATOR,
        BUNDLED_DETECTOR,
    )
    bundled = AppArgs(models="bundled")
    assert (bundled.translator.model, bundled.detector.model) == (
        BUNDLED_TRANSLATOR,
        BUNDLED_DETECTOR,
    )
    hub = AppArgs(models="hub")
    assert hub.translator.fallback_model is None
    keys = {"enabled": True, "api_keys": [{"id": "ops", "sha256": "0" * 64}]}
    production = AppArgs(environment="production", auth=keys)
    assert production.translator.fallback_model is None  # production never falls back
    assert production.detector.fallback_model is None
    with pytest.raises(ValueError, match="production serves real models"):
        AppArgs(environment="production", auth=keys, models="bundled")
    # Another repo without a revision is not pinned to the default model's commit.
    assert AppArgs(translator={"model": "acme/other"}).translator.revision is None
