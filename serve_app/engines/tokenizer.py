"""SentencePiece tokenizer with NLLB-200 conventions."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from pathlib import Path

EOS = "</s>"
SPECIAL_TOKENS = frozenset({"<s>", "<pad>", "</s>", "<unk>", "<mask>"})


class NllbTokenizer:
    """Source ``[src_lang] + pieces + </s>``, target prefix ``[tgt_lang]``.

    ``language_tokens`` are the FLORES-200 codes in the model vocabulary; they and the special
    tokens are dropped when decoding.
    """

    def __init__(self, model_path: str | Path, language_tokens: Iterable[str]) -> None:
        import sentencepiece as spm

        self.model_path = Path(model_path)
        self._processor = spm.SentencePieceProcessor(model_file=str(self.model_path))
        self.language_tokens = frozenset(language_tokens)

    @cached_property
    def _dropped(self) -> frozenset[str]:
        return SPECIAL_TOKENS | self.language_tokens

    def encode(self, text: str) -> list[str]:
        pieces: list[str] = self._processor.encode(text, out_type=str)
        return pieces

    def decode(self, pieces: Iterable[str]) -> str:
        kept = [piece for piece in pieces if piece not in self._dropped]
        text: str = self._processor.decode(kept)
        return text

    def source_tokens(self, pieces: list[str], source_language: str) -> list[str]:
        return [source_language, *pieces, EOS]

    @staticmethod
    def target_prefix(target_language: str) -> list[str]:
        return [target_language]
