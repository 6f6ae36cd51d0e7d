"""Published NLLB layouts rebuilt from the test model, and a Hugging Face cache holding them.

The file names, vocabulary formats and cache structure are those of the public repos:
JustFrederik's conversions (``shared_vocabulary.txt``, ``sentencepiece.bpe.model`` and
``tokenizer.json``), the ``ct2fast`` ones (``tokenizer.json`` only), plain
``ct2-transformers-converter`` output (no tokenizer at all), and ``sematech/sema-utils``
(``spm.model`` and ``lid218e.bin`` at the root, the model in a subfolder).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from serve_app.engines.languages import LanguageDatabase

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]


def tokenizer_json(spm_path: Path, vocabulary: list[str]) -> str:
    """NLLB's "fast" tokenizer for a SentencePiece BPE model, as ``tokenizers`` writes it:
    BPE with merges extracted from the SentencePiece pieces (the conversion transformers
    applies), byte fallback, Metaspace, and the language codes as added special tokens."""
    import sentencepiece as spm
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

    processor = spm.SentencePieceProcessor(model_file=str(spm_path))
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    ids = {token: index for index, token in enumerate(vocabulary)}
    bpe_vocab = {piece: ids[piece] for piece in pieces if piece in ids}
    merges: list[tuple[str, str]] = []
    for piece in pieces:  # SentencePiece ranks merges by the merged piece's order
        splits = [
            (piece[:i], piece[i:])
            for i in range(1, len(piece))
            if piece[:i] in bpe_vocab and piece[i:] in bpe_vocab
        ]
        merges += sorted(splits, key=lambda pair: (bpe_vocab[pair[0]], bpe_vocab[pair[1]]))
    tokenizer = Tokenizer(
        models.BPE(
            vocab=bpe_vocab, merges=merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True
        )
    )
    tokenizer.normalizer = normalizers.Replace(Regex(" {2,}"), " ")
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Sequence(
        [
            decoders.Replace("▁", " "),
            decoders.ByteFallback(),
            decoders.Fuse(),
            decoders.Strip(" ", 1, 0),
        ]
    )
    languages = set(LanguageDatabase.default().codes)
    added = [token for token in vocabulary if token in SPECIALS or token in languages]
    tokenizer.add_special_tokens([*added, "<mask>"])
    text: str = tokenizer.to_str(pretty=True)
    return text


def model_files(model_dir: Path, *, vocabulary: str, tokenizer: set[str]) -> dict[str, bytes]:
    """The files of a published conversion of the model in ``model_dir``: its vocabulary as
    ``shared_vocabulary.txt`` or ``.json``, and the tokenizer files named in ``tokenizer``."""
    tokens: list[str] = json.loads((model_dir / "shared_vocabulary.json").read_text("utf-8"))
    files = {
        "model.bin": (model_dir / "model.bin").read_bytes(),
        "config.json": (model_dir / "config.json").read_bytes(),
    }
    if vocabulary == "txt":
        files["shared_vocabulary.txt"] = ("\n".join(tokens) + "\n").encode()
    else:
        files["shared_vocabulary.json"] = json.dumps(tokens).encode()
    spm_file = model_dir / "sentencepiece.bpe.model"
    if "sentencepiece.bpe.model" in tokenizer:
        files["sentencepiece.bpe.model"] = spm_file.read_bytes()
    if "spm.model" in tokenizer:
        files["spm.model"] = spm_file.read_bytes()
    if "tokenizer.json" in tokenizer:
        files["tokenizer.json"] = tokenizer_json(spm_file, tokens).encode()
        files["tokenizer_config.json"] = json.dumps(
            {"tokenizer_class": "NllbTokenizer", "src_lang": "eng_Latn"}
        ).encode()
        files["special_tokens_map.json"] = json.dumps({"eos_token": "</s>"}).encode()
    return files


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return root


def cache_repo(hf_home: Path, repo_id: str, files: dict[str, bytes], commit: str) -> Path:
    """``repo_id`` at ``commit`` in the Hugging Face cache under ``hf_home``, laid out as
    huggingface_hub writes it: content-addressed blobs, a snapshot of relative symlinks to
    them, and ``refs/main``. Returns the snapshot folder."""
    repo = hf_home / "hub" / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / commit
    for name, content in files.items():
        blob = repo / "blobs" / hashlib.sha256(content).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        if not blob.exists():
            blob.write_bytes(content)
        link = snapshot / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    return snapshot


def sema_files(model_dir: Path, lid_model: Path) -> dict[str, bytes]:
    """``sematech/sema-utils``: tokenizer and LID at the root, the model in a subfolder."""
    model = model_files(model_dir, vocabulary="txt", tokenizer=set())
    files = {f"translation_models/sematrans-3.3B/{name}": data for name, data in model.items()}
    files["spm.model"] = (model_dir / "sentencepiece.bpe.model").read_bytes()
    files["lid218e.bin"] = lid_model.read_bytes()
    files["README.md"] = b"# sema-utils\n"
    return files


def copy_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=False)
    return target
