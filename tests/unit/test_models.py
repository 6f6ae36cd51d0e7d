from pathlib import Path

import pytest

from serve_app.engines.models import ModelUnavailableError, find_file, is_repo_id, resolve_model


def test_local_directory_resolves_to_itself(test_model_dir: Path) -> None:
    assert resolve_model(str(test_model_dir)) == test_model_dir.resolve()


def test_neither_path_nor_repo_id(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="not an existing path"):
        resolve_model(str(tmp_path / "missing" / "deeper" / "dir"))


def test_repo_id_shape() -> None:
    assert is_repo_id("facebook/nllb-200-distilled-600M")
    assert not is_repo_id("just-a-name")
    assert not is_repo_id("/abs/path")


def test_offline_repo_id_not_in_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ModelUnavailableError) as info:
        resolve_model("facebook/nllb-200-distilled-600M", revision="main")
    message = str(info.value)
    assert "local Hugging Face cache" in message
    assert "tafsiri models pull facebook/nllb-200-distilled-600M" in message


def test_repo_id_served_from_hf_home_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A snapshot already in HF_HOME's cache is found offline, as on an air-gapped server."""
    home = tmp_path / "hf"
    snapshot = home / "hub" / "models--acme--tiny" / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "model.bin").write_bytes(b"x")
    refs = home / "hub" / "models--acme--tiny" / "refs"
    refs.mkdir()
    (refs / "main").write_text("a" * 40)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    assert resolve_model("acme/tiny") == snapshot


def test_find_file(tmp_path: Path) -> None:
    (tmp_path / "spm.model").write_text("x")
    assert find_file(tmp_path, ("sentencepiece.bpe.model", "spm.model")).name == "spm.model"
    with pytest.raises(ModelUnavailableError, match=r"none of a\.bin"):
        find_file(tmp_path, ("a.bin",))
