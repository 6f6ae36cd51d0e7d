"""The copy models' shapes (no heavy import: the CLI lists them)."""

from __future__ import annotations

from dataclasses import dataclass

# Sinusoid frequencies of the small models' position subspace (4 dims each).
FREQUENCIES = 24
# NLLB-200's pieces region: its vocabulary is 4 specials + 255,999 pieces + 202 language
# tokens + <mask> = 256,206 entries.
NLLB_PIECE_SLOTS = 255_999


@dataclass(frozen=True)
class ModelSize:
    """Shape of the copy model. Extra layers compute but do not change outputs."""

    layers: int = 1
    token_dims: int = 128
    ffn_dims: int = 8
    # Pad the vocabulary with ``madeupwordN`` tokens (as NLLB conversions do) to this size, so
    # the output projection costs what a real vocabulary's would.
    vocab_size: int = 0
    # Fill the pieces region to this many (NLLB_PIECE_SLOTS: NLLB-200's exact size and order).
    piece_slots: int = 0
    heads: int = 1
    # Sinusoid frequencies of the position subspace (4 dims each); with several heads the
    # position subspace is exactly one head wide.
    frequencies: int = FREQUENCIES
    # True-size stand-ins: the blocks that do not copy get distinct random weights (written
    # into the token subspace only, and small), not zeros. Zero blocks are all equal, and
    # CTranslate2 stores equal variables once, so a zero-block model holds one layer's weights
    # however many layers it has: its memory would not be the real model's.
    distinct_weights: bool = False
    # Weights as stored in model.bin (published NLLB conversions are float16).
    storage: str = "float32"

    @property
    def width(self) -> int:
        return self.token_dims + 4 * self.frequencies


def nllb_shape(layers: int, width: int, ffn: int, heads: int) -> ModelSize:
    """NLLB-200's published shape: ``layers`` encoder and decoder layers, its vocabulary in its
    order, float16 weights; the position subspace is one attention head wide."""
    head_dims = width // heads
    return ModelSize(
        layers=layers,
        token_dims=width - head_dims,
        ffn_dims=ffn,
        piece_slots=NLLB_PIECE_SLOTS,
        heads=heads,
        frequencies=head_dims // 4,
        distinct_weights=True,
        storage="float16",
    )


SIZES = {
    "tiny": ModelSize(),
    # About the compute of a Marian-base model: 6+6 layers, width 512, FFN 2048.
    "base": ModelSize(layers=6, token_dims=512 - 4 * FREQUENCIES, ffn_dims=2048, vocab_size=32000),
    # NLLB-200's vocabulary exactly (256,206 entries in its order) on a narrow model: for
    # tests of published layouts, whose vocabulary files must look like the real ones.
    "nllb-vocab": ModelSize(token_dims=32, piece_slots=NLLB_PIECE_SLOTS, storage="float16"),
    # The published shapes (config.json of facebook/nllb-200-distilled-600M, -1.3B and
    # nllb-200-3.3B): compute and memory per token are the real models'.
    "nllb-600m": nllb_shape(layers=12, width=1024, ffn=4096, heads=16),
    "nllb-1.3b": nllb_shape(layers=24, width=1024, ffn=8192, heads=16),
    "nllb-3.3b": nllb_shape(layers=24, width=2048, ffn=8192, heads=16),
}
# Sizes `tafsiri build-test-model` offers (nllb-vocab is for tests of published layouts).
CLI_SIZES = ("tiny", "base", "nllb-600m", "nllb-1.3b", "nllb-3.3b")

NLLB_VOCABULARY = 256_206


def parameter_count(size: ModelSize, vocab_size: int = NLLB_VOCABULARY) -> int:
    """Weights a model of ``size`` holds: one shared embedding (NLLB ties the encoder's, the
    decoder's and the output projection), then per layer attention, feed-forward and norms."""
    width, ffn = size.width, size.ffn_dims
    attention = 4 * width * width + 4 * width
    feed_forward = 2 * width * ffn + ffn + width
    norm = 2 * width
    encoder_layer = attention + feed_forward + 2 * norm
    decoder_layer = 2 * attention + feed_forward + 3 * norm
    return (
        vocab_size * width
        + vocab_size  # the output projection's bias
        + size.layers * (encoder_layer + decoder_layer)
        + 2 * norm  # the stacks' final norms
    )
