"""Builds a tiny CTranslate2 model with NLLB-200 conventions, offline and in seconds.

The model is a *copy model*: its weights are set by hand so that greedy or beam decoding
reproduces the source pieces. Translation of "Habari" to any language is "Habari". That
makes tests exact: whatever goes through sentence splitting, batching, sorting, dedup and
reassembly must come back as the very text that went in, in the right request.

Conventions, identical to a CTranslate2 conversion of ``facebook/nllb-200-*``:

* SentencePiece model ``sentencepiece.bpe.model`` beside ``model.bin``;
* vocabulary ``<s> <pad> </s> <unk>`` + SentencePiece pieces + 202 FLORES-200 language
  tokens + ``<mask>``, saved once as ``shared_vocabulary.json``;
* source ``[src_lang] + pieces + </s>``, target prefix ``[tgt_lang]``, decoder start ``</s>``.

How the copy works: the model width is split into a token subspace and a position subspace.
Token embeddings live in the first, learned-style position encodings in the second, and both
are zero-mean with fixed norm so every LayerNorm is a constant rescale. Self-attention and
feed-forward blocks are zero. The decoder's cross-attention compares positions only, so the
decoder at position ``t`` attends to source position ``t``, and its values carry that source
token's embedding, which the tied output projection turns back into the same token.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from serve_app.engines.languages import LanguageDatabase

SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>"]
SP_MODEL_NAME = "sentencepiece.bpe.model"
MAX_POSITIONS = 1024
FREQUENCIES = 24
SEED = 20240615


def train_sentencepiece(vocab_size: int = 600) -> bytes:
    """A deterministic SentencePiece BPE model over the bundled multilingual corpus.

    Byte fallback makes any Unicode text encodable, so the copy model round-trips it exactly.
    """
    import sentencepiece as spm

    corpus = resources.files("serve_app.testmodel").joinpath("corpus.txt").read_text("utf-8")
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus.splitlines()),
        model_writer=model,
        model_type="bpe",
        vocab_size=vocab_size,
        character_coverage=1.0,
        byte_fallback=True,
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        split_digits=True,
        num_threads=1,
        shuffle_input_sentence=False,
        seed_sentencepiece_size=100_000,
        hard_vocab_limit=False,
        minloglevel=2,
    )
    return model.getvalue()


# NLLB-200's pieces region: its vocabulary is 4 specials + 255,999 pieces + 202 language
# tokens + <mask> = 256,206 entries.
NLLB_PIECE_SLOTS = 255_999


def _pieces(sp_model: bytes) -> list[str]:
    """The SentencePiece model's pieces, its own specials (``<unk> <s> </s>``) left out."""
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_proto=sp_model)
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    return [piece for piece in pieces if piece not in {"<unk>", "<s>", "</s>"}]


def nllb_vocabulary(sp_model: bytes, piece_slots: int = 0) -> list[str]:
    """fairseq/NLLB order: specials, SentencePiece pieces, language tokens, ``<mask>``.

    ``piece_slots`` fills the pieces region with never-emitted ``madeupwordN`` entries to that
    many, so that the language tokens sit at the indices a real NLLB-200 vocabulary gives them.
    """
    body = _pieces(sp_model)
    body += [f"madeupword{i}" for i in range(max(0, piece_slots - len(body)))]
    return SPECIAL_TOKENS + body + LanguageDatabase.default().codes + ["<mask>"]


def marian_vocabulary(sp_model: bytes) -> list[str]:
    """A CTranslate2 conversion of an OPUS-MT model's order: ``</s> <unk>`` then the pieces
    (Transformers' added ``<pad>`` is dropped by the converter); no language token."""
    return ["</s>", "<unk>", *_pieces(sp_model)]


def _position_encodings(frequencies: np.ndarray) -> np.ndarray:
    positions = np.arange(MAX_POSITIONS, dtype=np.float64)[:, None] * frequencies[None, :]
    cos, sin = np.cos(positions), np.sin(positions)
    # The negated copies keep every encoding zero-mean, so LayerNorm only rescales.
    return np.concatenate([cos, sin, -cos, -sin], axis=1)


def _min_attention_gap(encodings: np.ndarray) -> float:
    """Smallest margin between attending to the aligned position and to any other."""
    gram = encodings @ encodings.T
    diagonal = np.diag(gram)
    off = gram - np.diag(np.full(len(gram), np.inf))
    return float(np.min(diagonal - off.max(axis=1)))


@dataclass(frozen=True)
class ModelSize:
    """Shape of the copy model. Extra layers compute (zero blocks) but do not change outputs."""

    layers: int = 1
    token_dims: int = 128
    ffn_dims: int = 8
    # Pad the vocabulary with ``madeupwordN`` tokens (as NLLB conversions do) to this size, so
    # the output projection costs what a real vocabulary's would.
    vocab_size: int = 0
    # Fill the pieces region to this many (NLLB_PIECE_SLOTS: NLLB-200's exact size and order).
    piece_slots: int = 0


SIZES = {
    "tiny": ModelSize(),
    # About the compute of a Marian-base model: 6+6 layers, width 512, FFN 2048.
    "base": ModelSize(layers=6, token_dims=512 - 4 * FREQUENCIES, ffn_dims=2048, vocab_size=32000),
    # NLLB-200's vocabulary exactly (256,206 entries in its order) on a narrow model: for
    # tests of published layouts, whose vocabulary files must look like the real ones.
    "nllb-vocab": ModelSize(token_dims=32, piece_slots=NLLB_PIECE_SLOTS),
}


def build_copy_model_spec(  # type: ignore[no-untyped-def]
    vocabulary: list[str],
    size: ModelSize = SIZES["tiny"],
    swaps: tuple[tuple[str, str], ...] = (),
):
    """The TransformerSpec of the copy model for ``vocabulary`` (shared source/target).

    ``swaps``: pairs of tokens the model writes in each other's place (``("<0x7B>", "(")``
    turns every ``{`` into ``(`` and back): a model whose output is a known transformation
    of its input, for tests that must tell what the model did from what the service did.
    """
    from ctranslate2.specs import transformer_spec

    rng = np.random.default_rng(SEED)
    vocabulary = vocabulary + [
        f"madeupword{i}" for i in range(max(0, size.vocab_size - len(vocabulary)))
    ]
    vocab_size = len(vocabulary)
    frequencies = np.geomspace(2.2, 0.004, FREQUENCIES)
    position_dims = 4 * FREQUENCIES
    token_dims = size.token_dims
    width = token_dims + position_dims

    tokens = rng.standard_normal((vocab_size, token_dims))
    tokens -= tokens.mean(axis=1, keepdims=True)
    tokens *= 4.0 / np.linalg.norm(tokens, axis=1, keepdims=True)
    embeddings = np.zeros((vocab_size, width))
    embeddings[:, :token_dims] = tokens

    encodings = np.zeros((MAX_POSITIONS, width))
    encodings[:, token_dims:] = _position_encodings(frequencies)
    gap = _min_attention_gap(encodings[:, token_dims:])
    if gap <= 0.1:
        raise RuntimeError(f"position encodings are not separable enough (gap {gap:.3f})")

    # Every hidden state is LayerNorm(token + position) = norm_scale * (token + position).
    norm_scale = np.sqrt(width) / np.sqrt(4.0**2 + 2 * FREQUENCIES)
    # Attention logits are scaled by 1/sqrt(width); aim for a margin of ~30 nats.
    query_scale = 30.0 * np.sqrt(width) / (gap * norm_scale**2)
    value_scale = 10.0 / norm_scale

    spec = transformer_spec.TransformerSpec.from_config(
        num_layers=(size.layers, size.layers), num_heads=1, pre_norm=True
    )
    spec.config.decoder_start_token = "</s>"  # noqa: S105 - NLLB starts decoding at </s>

    def zero_linear(linear, rows: int, cols: int) -> None:  # type: ignore[no-untyped-def]
        linear.weight = np.zeros((rows, cols), dtype=np.float32)
        linear.bias = np.zeros(rows, dtype=np.float32)

    def unit_norm(norm) -> None:  # type: ignore[no-untyped-def]
        norm.gamma = np.ones(width, dtype=np.float32)
        norm.beta = np.zeros(width, dtype=np.float32)

    for stack in (spec.encoder, spec.decoder):
        stack.scale_embeddings = False
        stack.position_encodings.encodings = encodings.astype(np.float32)
        unit_norm(stack.layer_norm)
        for layer in stack.layer:
            unit_norm(layer.self_attention.layer_norm)
            zero_linear(layer.self_attention.linear[0], 3 * width, width)
            zero_linear(layer.self_attention.linear[1], width, width)
            unit_norm(layer.ffn.layer_norm)
            zero_linear(layer.ffn.linear_0, size.ffn_dims, width)
            zero_linear(layer.ffn.linear_1, width, size.ffn_dims)
    spec.encoder.embeddings[0].weight = embeddings.astype(np.float32)
    spec.decoder.embeddings.weight = embeddings.astype(np.float32)

    position_block = np.zeros((width, width))
    position_block[token_dims:, token_dims:] = np.eye(position_dims)
    token_block = np.zeros((width, width))
    token_block[:token_dims, :token_dims] = np.eye(token_dims)
    # Only the last decoder layer copies; earlier cross-attention blocks output zero.
    for index, layer in enumerate(spec.decoder.layer):
        cross = layer.attention
        copies = index == len(spec.decoder.layer) - 1
        unit_norm(cross.layer_norm)
        zero_linear(cross.linear[0], width, width)
        cross.linear[0].weight = (query_scale * position_block).astype(np.float32)
        zero_linear(cross.linear[1], 2 * width, width)
        cross.linear[1].weight = np.concatenate([position_block, value_scale * token_block]).astype(
            np.float32
        )
        zero_linear(cross.linear[2], width, width)
        if copies:
            cross.linear[2].weight = np.eye(width, dtype=np.float32)

    # Tied output projection; never emit specials other than </s>, language tokens or <mask>.
    projection = embeddings.copy()
    for first, second in swaps:
        a, b = vocabulary.index(first), vocabulary.index(second)
        projection[[a, b]] = projection[[b, a]]
    spec.decoder.projection.weight = projection.astype(np.float32)
    bias = np.zeros(vocab_size, dtype=np.float32)
    never_emitted = {"<s>", "<pad>", "<unk>", "<mask>", *LanguageDatabase.default().codes}
    for index, token in enumerate(vocabulary):
        if token in never_emitted or token.startswith("madeupword"):
            bias[index] = -1e4
    spec.decoder.projection.bias = bias

    spec.register_source_vocabulary(vocabulary)
    spec.register_target_vocabulary(vocabulary)
    return spec


def build_test_model(
    output_dir: str | Path,
    *,
    size: str = "tiny",
    force: bool = False,
    swaps: tuple[tuple[str, str], ...] = (),
    family: str = "nllb",
    languages: tuple[str, str] = ("eng_Latn", "fra_Latn"),
) -> Path:
    """Writes the copy model (``model.bin``, vocabulary, SentencePiece) to ``output_dir``;
    ``swaps`` as in :func:`build_copy_model_spec`.

    ``family="marian"`` lays it out as a CTranslate2 conversion of an OPUS-MT pair model:
    ``source.spm`` and ``target.spm``, the vocabulary ``</s> <unk>`` + pieces with no language
    token, source ``pieces + </s>``, no target prefix; ``languages`` (the pair it serves) is
    written to ``tafsiri_model.json``, where a real pair model's config names it."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}: expected one of {', '.join(SIZES)}")
    if family not in ("nllb", "marian"):
        raise ValueError(f"unknown family {family!r}: expected nllb or marian")
    output = Path(output_dir)
    if (output / "model.bin").is_file() and not force:
        return output
    sp_model = train_sentencepiece()
    vocabulary = (
        marian_vocabulary(sp_model)
        if family == "marian"
        else nllb_vocabulary(sp_model, SIZES[size].piece_slots)
    )
    spec = build_copy_model_spec(vocabulary, SIZES[size], swaps)
    spec.validate()
    spec.optimize(quantization="float16" if SIZES[size].piece_slots else "float32")
    output.parent.mkdir(parents=True, exist_ok=True)
    # Build next to the target and rename, so a concurrent reader never sees half a model.
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=output.parent))
    try:
        spec.save(str(staging))
        meta: dict[str, object] = {
            "kind": "tafsiri-copy-model",
            "family": family,
            "size": size,
            "seed": SEED,
            "vocab_size": len(vocabulary),
            "swaps": [list(pair) for pair in swaps],
        }
        if family == "marian":
            (staging / "source.spm").write_bytes(sp_model)
            (staging / "target.spm").write_bytes(sp_model)
            meta["languages"] = list(languages)
        else:
            (staging / SP_MODEL_NAME).write_bytes(sp_model)
        (staging / "tafsiri_model.json").write_text(json.dumps(meta))
        if output.exists():
            shutil.rmtree(output)
        staging.rename(output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("output", nargs="?", default="models/tiny-nllb", help="output directory")
    parser.add_argument("--size", choices=sorted(SIZES), default="tiny")
    parser.add_argument("--force", action="store_true", help="rebuild even if present")
    parser.add_argument(
        "--family",
        choices=["nllb", "marian"],
        default="nllb",
        help="marian: an OPUS-MT-style pair model (source.spm/target.spm, no language tokens)",
    )
    parser.add_argument(
        "--languages",
        nargs=2,
        default=["eng_Latn", "fra_Latn"],
        metavar=("SOURCE", "TARGET"),
        help="the pair a marian model serves",
    )
    parser.add_argument(
        "--swap",
        nargs=2,
        action="append",
        default=[],
        metavar=("TOKEN", "OTHER"),
        help="write TOKEN and OTHER in each other's place (e.g. --swap '<0x7B>' '(')",
    )
    args = parser.parse_args(argv)
    swaps = tuple((first, second) for first, second in args.swap)
    path = build_test_model(
        args.output,
        size=args.size,
        force=args.force,
        swaps=swaps,
        family=args.family,
        languages=(args.languages[0], args.languages[1]),
    )
    print(f"test model ready at {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
