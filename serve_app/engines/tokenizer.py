"""Tokenization by model family. NLLB-200: a SentencePiece model, or the same pieces from a
``tokenizer.json``; Marian/OPUS-MT pair models: a SentencePiece model per side.

Published conversions ship one or the other (some only ``tokenizer.json``, the Hugging Face
"fast" form of NLLB's SentencePiece BPE). Both give the same pieces, and the conventions are
ours either way: source ``[src_lang] + pieces + </s>``, target prefix ``[tgt_lang]``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from serve_app.engines.models import ModelUnavailableError

EOS = "</s>"
SPECIAL_TOKENS = frozenset({"<s>", "<pad>", "</s>", "<unk>", "<mask>"})
SENTENCEPIECE_FILES = (
    "sentencepiece.bpe.model",
    "spm.model",
    "sentencepiece.model",
    "tokenizer.model",
)
TOKENIZER_JSON = "tokenizer.json"


class _Pieces(Protocol):
    def encode(self, text: str) -> list[str]: ...

    def decode(self, pieces: list[str]) -> str: ...


class _SentencePiece:
    def __init__(self, path: Path) -> None:
        import sentencepiece as spm

        try:
            self._processor = spm.SentencePieceProcessor(model_file=str(path))
        except (RuntimeError, OSError) as exc:
            raise ModelUnavailableError(
                f"{path} is not a SentencePiece model ({exc}); NLLB conversions ship "
                "sentencepiece.bpe.model or tokenizer.json"
            ) from exc

    def encode(self, text: str) -> list[str]:
        pieces: list[str] = self._processor.encode(text, out_type=str)
        return pieces

    def decode(self, pieces: list[str]) -> str:
        text: str = self._processor.decode(pieces)
        return text


class _TokenizerJson:
    """The Hugging Face ``tokenizers`` form: pieces without any special token added."""

    def __init__(self, path: Path) -> None:
        from tokenizers import Tokenizer

        try:
            self._tokenizer: Any = Tokenizer.from_file(str(path))
        except Exception as exc:  # the library raises a bare Exception for a bad file
            raise ModelUnavailableError(f"{path} is not a tokenizer.json ({exc})") from exc
        self._unk = self._tokenizer.token_to_id("<unk>")

    def encode(self, text: str) -> list[str]:
        pieces: list[str] = self._tokenizer.encode(text, add_special_tokens=False).tokens
        return pieces

    def decode(self, pieces: list[str]) -> str:
        ids = [self._tokenizer.token_to_id(piece) for piece in pieces]
        text: str = self._tokenizer.decode(
            [self._unk if i is None else i for i in ids], skip_special_tokens=False
        )
        return text


def open_pieces(path: Path) -> _Pieces:
    """The backend for a tokenizer file: ``tokenizer.json`` or a SentencePiece model."""
    if path.suffix == ".json":
        return _TokenizerJson(path)
    return _SentencePiece(path)


class NllbTokenizer:
    """Source ``[src_lang] + pieces + </s>``, target prefix ``[tgt_lang]``.

    ``language_tokens`` are the FLORES-200 codes in the model vocabulary; they and the special
    tokens are dropped when decoding.
    """

    def __init__(self, model_path: str | Path, language_tokens: Iterable[str]) -> None:
        self.model_path = Path(model_path)
        self._pieces = open_pieces(self.model_path)
        self.language_tokens = frozenset(language_tokens)

    @cached_property
    def _dropped(self) -> frozenset[str]:
        return SPECIAL_TOKENS | self.language_tokens

    def encode(self, text: str) -> list[str]:
        return self._pieces.encode(text)

    def decode(self, pieces: Iterable[str]) -> str:
        return self._pieces.decode([piece for piece in pieces if piece not in self._dropped])

    def source_tokens(self, pieces: list[str], source_language: str) -> list[str]:
        return [source_language, *pieces, EOS]

    @staticmethod
    def target_prefix(target_language: str) -> list[str] | None:
        return [target_language]

    @staticmethod
    def output_pieces(hypothesis: list[str]) -> list[str]:
        """A hypothesis without its target prefix (the language token)."""
        return hypothesis[1:]

    @staticmethod
    def source_pieces(tokens: list[str]) -> list[str]:
        """The pieces of ``source_tokens``' output (language token and ``</s>`` off)."""
        return tokens[1:-1]


MARIAN_SOURCE_SPM = "source.spm"
MARIAN_TARGET_SPM = "target.spm"


class MarianTokenizer:
    """OPUS-MT / Marian conventions, as CTranslate2 converts them: a pair model with a
    SentencePiece model per side (``source.spm``, ``target.spm``), source ``pieces + </s>``,
    no language token and no target prefix (decoding starts at ``</s>``).

    Multi-target OPUS-MT models (``opus-mt-en-mul`` and the like) want a ``>>fra<<`` token
    first; this class serves the one-pair models.
    """

    def __init__(self, source_path: str | Path, target_path: str | Path) -> None:
        self.model_path = Path(source_path)
        self._source = _SentencePiece(Path(source_path))
        self._target = _SentencePiece(Path(target_path))

    def encode(self, text: str) -> list[str]:
        return self._source.encode(text)

    def decode(self, pieces: Iterable[str]) -> str:
        return self._target.decode([piece for piece in pieces if piece not in SPECIAL_TOKENS])

    def source_tokens(self, pieces: list[str], source_language: str) -> list[str]:
        return [*pieces, EOS]

    @staticmethod
    def target_prefix(target_language: str) -> list[str] | None:
        return None

    @staticmethod
    def output_pieces(hypothesis: list[str]) -> list[str]:
        return hypothesis

    @staticmethod
    def source_pieces(tokens: list[str]) -> list[str]:
        return tokens[:-1]


def find_marian_tokenizers(model_dir: Path) -> tuple[Path, Path] | None:
    """``(source.spm, target.spm)`` beside the model, if it follows Marian's layout."""
    source, target = model_dir / MARIAN_SOURCE_SPM, model_dir / MARIAN_TARGET_SPM
    return (source, target) if source.is_file() and target.is_file() else None
