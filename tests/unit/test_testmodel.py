import json
from pathlib import Path

import ctranslate2
import sentencepiece as spm

from serve_app.engines.languages import LanguageDatabase
from serve_app.testmodel.build import build_test_model


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
