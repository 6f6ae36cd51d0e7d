import json
from pathlib import Path

import ctranslate2
import pytest
import sentencepiece as spm

from serve_app.engines.languages import LanguageDatabase
from serve_app.testmodel.build import build_test_model
from serve_app.testmodel.sizes import (
    CLI_SIZES,
    NLLB_PIECE_SLOTS,
    NLLB_VOCABULARY,
    SIZES,
    nllb_shape,
    parameter_count,
)


def test_build_is_deterministic_and_fast(tmp_path: Path, test_model_dir: Path) -> None:
    again = build_test_model(tmp_path / "again")
    for name in ("model.bin", "shared_vocabulary.json", "sentencepiece.bpe.model"):
        assert (again / name).read_bytes() == (test_model_dir / name).read_bytes(), name


def test_nllb_conventions(test_model_dir: Path) -> None:
    vocabulary = json.loads((test_model_dir / "shared_vocabulary.json").read_text())
    assert vocabulary[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert vocabulary[-1] == "<mask>"
    assert vocabulary[-203:-1] == LanguageDatabase.default().codes
    assert not (test_model_dir / "source_vocabulary.json").exists()
    config = json.loads((test_model_dir / "config.json").read_text())
    assert config["decoder_start_token"] == "</s>"
    sp = spm.SentencePieceProcessor(model_file=str(test_model_dir / "sentencepiece.bpe.model"))
    pieces = sp.encode("Habari za asubuhi", out_type=str)
    assert all(piece in vocabulary for piece in pieces)


def test_raw_ctranslate2_with_nllb_inputs(test_model_dir: Path) -> None:
    """The model obeys the NLLB recipe used by ctranslate2's own docs, no Tafsiri code."""
    sp = spm.SentencePieceProcessor(model_file=str(test_model_dir / "sentencepiece.bpe.model"))
    model = ctranslate2.Translator(str(test_model_dir), compute_type="int8")
    source = ["swh_Latn", *sp.encode("Mimi ni mwalimu.", out_type=str), "</s>"]
    (result,) = model.translate_batch([source], target_prefix=[["eng_Latn"]])
    assert result.hypotheses[0][0] == "eng_Latn"
    assert sp.decode(result.hypotheses[0][1:]) == "Mimi ni mwalimu."


def test_true_size_stand_ins_have_the_published_shapes() -> None:
    """config.json of facebook/nllb-200-distilled-600M, -1.3B and nllb-200-3.3B: layers,
    d_model, ffn_dim, attention heads; the vocabulary in NLLB's order and size."""
    published = {
        "nllb-600m": (12, 1024, 4096, 16, 615),
        "nllb-1.3b": (24, 1024, 8192, 16, 1371),
        "nllb-3.3b": (24, 2048, 8192, 16, 3345),
    }
    for name, (layers, width, ffn, heads, millions) in published.items():
        size = SIZES[name]
        assert (size.layers, size.width, size.ffn_dims, size.heads) == (layers, width, ffn, heads)
        assert size.piece_slots == NLLB_PIECE_SLOTS
        assert size.storage == "float16"
        assert size.distinct_weights
        assert round(parameter_count(size) / 1e6) == millions
        assert name in CLI_SIZES


def test_a_true_size_shape_copies_through_every_head_and_stores_every_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The nllb-* recipe on a narrow model (4 heads, width 256): NLLB's 256,206-entry
    vocabulary, every layer's weights stored (none aliased, so memory is the real
    model's), and decoding copies the input exactly, long sentences too."""
    shape = nllb_shape(layers=2, width=256, ffn=512, heads=4)
    monkeypatch.setitem(SIZES, "test-shape", shape)
    model_dir = build_test_model(tmp_path / "shape", size="test-shape")
    vocabulary = json.loads((model_dir / "shared_vocabulary.json").read_text())
    assert len(vocabulary) == NLLB_VOCABULARY
    assert vocabulary[-203:-1] == LanguageDatabase.default().codes
    # float16: two bytes per weight; aliased (equal) layers would be stored once.
    assert (model_dir / "model.bin").stat().st_size >= 2 * parameter_count(shape)
    sp = spm.SentencePieceProcessor(model_file=str(model_dir / "sentencepiece.bpe.model"))
    model = ctranslate2.Translator(str(model_dir), compute_type="int8")
    texts = [
        "Mimi ni mwalimu.",
        "The quick brown fox jumps over the lazy dog; {braces} & 123.",
        "Ça va très bien, merci beaucoup! " * 8,
        "日本語のテキストも大丈夫です。",
    ]
    sources = [["eng_Latn", *sp.encode(text, out_type=str), "</s>"] for text in texts]
    results = model.translate_batch(sources, target_prefix=[["swh_Latn"]] * 4, beam_size=2)
    assert [sp.decode(r.hypotheses[0][1:]) for r in results] == texts
