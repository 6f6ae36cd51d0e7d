"""NLLB-200 tokenization: a SentencePiece model, or the same pieces from a ``tokenizer.json``.

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
    def target_prefix(target_language: str) -> list[str]:
        return [target_language]
