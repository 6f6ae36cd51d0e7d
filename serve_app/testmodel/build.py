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
from importlib import resources
from pathlib import Path

import numpy as np

from serve_app.engines.languages import LanguageDatabase
from serve_app.testmodel.sizes import SIZES, ModelSize

SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>"]
SP_MODEL_NAME = "sentencepiece.bpe.model"
MAX_POSITIONS = 1024
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
    # True-size stand-ins are built in float32 throughout (3.3B parameters: 13 GB, not 26).
    dtype = np.float32 if size.distinct_weights else np.float64
    vocabulary = vocabulary + [
        f"madeupword{i}" for i in range(max(0, size.vocab_size - len(vocabulary)))
    ]
    vocab_size = len(vocabulary)
    frequencies = np.geomspace(2.2, 0.004, size.frequencies)
    position_dims = 4 * size.frequencies
    token_dims = size.token_dims
    width = size.width
    head_dims = width // size.heads
    if size.heads > 1 and head_dims != position_dims:
        raise ValueError("with several heads the position subspace must be one head wide")

    tokens = rng.standard_normal((vocab_size, token_dims), dtype=dtype)
    tokens -= tokens.mean(axis=1, keepdims=True)
    tokens *= 4.0 / np.linalg.norm(tokens, axis=1, keepdims=True)
    embeddings = np.zeros((vocab_size, width), dtype=dtype)
    embeddings[:, :token_dims] = tokens
    del tokens

    encodings = np.zeros((MAX_POSITIONS, width))
    encodings[:, token_dims:] = _position_encodings(frequencies)
    gap = _min_attention_gap(encodings[:, token_dims:])
    if gap <= 0.1:
        raise RuntimeError(f"position encodings are not separable enough (gap {gap:.3f})")

    # Every hidden state is LayerNorm(token + position) = norm_scale * (token + position).
    norm_scale = np.sqrt(width) / np.sqrt(4.0**2 + 2 * size.frequencies)
    # Attention logits are scaled by 1/sqrt(head width); aim for a margin of ~30 nats.
    query_scale = 30.0 * np.sqrt(head_dims) / (gap * norm_scale**2)
    value_scale = 10.0 / norm_scale

    spec = transformer_spec.TransformerSpec.from_config(
        num_layers=(size.layers, size.layers), num_heads=size.heads, pre_norm=True
    )
    spec.config.decoder_start_token = "</s>"  # noqa: S105 - NLLB starts decoding at </s>

    def random(rows: int, cols: int, scale: float):  # type: ignore[no-untyped-def]
        return (rng.standard_normal((rows, cols), dtype=np.float32) * scale).astype(np.float32)

    def block_in(linear, rows: int) -> None:  # type: ignore[no-untyped-def]
        """A block's input projection: zero, or random and distinct (it reads anything)."""
        if size.distinct_weights:
            linear.weight = random(rows, width, 1.0 / np.sqrt(width))
        else:
            linear.weight = np.zeros((rows, width), dtype=np.float32)
        linear.bias = np.zeros(rows, dtype=np.float32)

    def block_out(linear, cols: int) -> None:  # type: ignore[no-untyped-def]
        """A block's output projection: zero, or small random writes to the token subspace
        only (positions stay exact, so attention stays aligned; the copied token dominates)."""
        weight = np.zeros((width, cols), dtype=np.float32)
        if size.distinct_weights:
            weight[:token_dims] = random(token_dims, cols, 1e-3 / np.sqrt(cols))
        linear.weight = weight
        linear.bias = np.zeros(width, dtype=np.float32)

    def unit_norm(norm) -> None:  # type: ignore[no-untyped-def]
        norm.gamma = np.ones(width, dtype=np.float32)
        norm.beta = np.zeros(width, dtype=np.float32)

    for stack in (spec.encoder, spec.decoder):
        stack.scale_embeddings = False
        stack.position_encodings.encodings = encodings.astype(np.float32)
        unit_norm(stack.layer_norm)
        for layer in stack.layer:
            unit_norm(layer.self_attention.layer_norm)
            block_in(layer.self_attention.linear[0], 3 * width)
            block_out(layer.self_attention.linear[1], width)
            unit_norm(layer.ffn.layer_norm)
            block_in(layer.ffn.linear_0, size.ffn_dims)
            block_out(layer.ffn.linear_1, size.ffn_dims)
    embeddings = embeddings.astype(np.float32, copy=False)
    spec.encoder.embeddings[0].weight = embeddings
    spec.decoder.embeddings.weight = embeddings

    # Every head compares positions: its query and key slices read the position subspace.
    position_block = np.zeros((width, width), dtype=np.float32)
    for head in range(size.heads):
        # Head slices from the left; with one head, the position dims themselves.
        row = width - position_dims * (size.heads - head)
        position_block[row : row + position_dims, token_dims:] = np.eye(position_dims)
    # Values carry the token subspace (all heads but the last, which is the position head).
    token_block = np.zeros((width, width), dtype=np.float32)
    token_block[:token_dims, :token_dims] = np.eye(token_dims)
    # Only the last decoder layer copies; earlier cross-attention blocks are ordinary ones.
    for index, layer in enumerate(spec.decoder.layer):
        cross = layer.attention
        copies = index == len(spec.decoder.layer) - 1
        unit_norm(cross.layer_norm)
        if copies or not size.distinct_weights:
            block_in(cross.linear[0], width)
            cross.linear[0].weight = query_scale * position_block
            block_in(cross.linear[1], 2 * width)
            cross.linear[1].weight = np.concatenate([position_block, value_scale * token_block])
        else:
            block_in(cross.linear[0], width)
            block_in(cross.linear[1], 2 * width)
        block_out(cross.linear[2], width)
        if copies:
            cross.linear[2].weight = np.eye(width, dtype=np.float32)

    # Tied output projection; never emit specials other than </s>, language tokens or <mask>.
    projection = embeddings
    if swaps:
        projection = embeddings.copy()
        for first, second in swaps:
            a, b = vocabulary.index(first), vocabulary.index(second)
            projection[[a, b]] = projection[[b, a]]
    spec.decoder.projection.weight = projection
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
    spec.optimize(quantization=SIZES[size].storage)
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
