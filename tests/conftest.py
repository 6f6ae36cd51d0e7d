"""Fixtures shared by every test: the built copy model and the real fastText detector."""

from __future__ import annotations

from pathlib import Path

import pytest

from serve_app.engines.detector import LanguageDetector
from serve_app.engines.translator import Translator
from serve_app.testmodel.build import build_test_model


@pytest.fixture(scope="session")
def test_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_test_model(tmp_path_factory.mktemp("models") / "tiny-nllb")


@pytest.fixture(scope="session")
def translator(test_model_dir: Path) -> Translator:
    return Translator(test_model_dir, intra_threads=1)


@pytest.fixture(scope="session")
def detector() -> LanguageDetector:
    return LanguageDetector.from_config("lid.176")
