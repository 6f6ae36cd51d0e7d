"""The routing table: a request's model by name, else by pair, most specific first."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from serve_app.config import TranslatorConfig
from serve_app.engines.languages import LanguageDatabase
from serve_app.routing import ModelRouter, UnknownModelError, model_name, multiplexed_id


def config(**values: object) -> TranslatorConfig:
    return TranslatorConfig.model_validate(
        {
            "models": {
                "opus-en-fr": {"model": "m/en-fr", "languages": ["en", "fr"]},
                "big": {"model": "m/big"},
                "swahili": {"model": "m/sw"},
            },
            **values,
        }
    )


def test_most_specific_first_then_pair_models_then_the_default() -> None:
    router = ModelRouter(
        config(
            routes=[
                {"source": "swh_Latn", "target": "eng_Latn", "model": "big"},
                {"source": "sw", "model": "swahili"},  # any accepted code
                {"target": "zul_Latn", "model": "big"},
            ]
        ),
        LanguageDatabase.default(),
    )
    assert router.multiple
    assert router.choose("swh_Latn", "eng_Latn") == "big"  # the exact pair
    assert router.choose("swh_Latn", "fra_Latn") == "swahili"  # the source
    assert router.choose("eng_Latn", "zul_Latn") == "big"  # the target
    assert router.choose("swh_Latn", "zul_Latn") == "swahili"  # source before target
    assert router.choose("eng_Latn", "fra_Latn") == "opus-en-fr"  # a pair model's own pair
    assert router.choose("fra_Latn", "eng_Latn") == "default"
    assert router.choose("eng_Latn", "fra_Latn", requested="big") == "big"
    with pytest.raises(UnknownModelError, match="no model 'nope'"):
        router.choose("eng_Latn", "fra_Latn", requested="nope")


def test_a_catch_all_route_and_default_model() -> None:
    languages = LanguageDatabase.default()
    assert ModelRouter(config(default_model="big"), languages).choose("a", "b") == "big"
    catch_all = ModelRouter(config(routes=[{"model": "swahili"}]), languages)
    assert catch_all.choose("fra_Latn", "deu_Latn") == "swahili"
    assert catch_all.choose("eng_Latn", "fra_Latn") == "opus-en-fr"  # more specific
    one = ModelRouter(TranslatorConfig(), languages)
    assert not one.multiple
    assert one.choose("eng_Latn", "fra_Latn") == "default"


def test_bad_registries_are_refused() -> None:
    with pytest.raises(ValidationError, match="no model 'missing'"):
        config(routes=[{"source": "en", "model": "missing"}])
    with pytest.raises(ValidationError, match="default_model"):
        config(default_model="missing")
    with pytest.raises(ValidationError, match="not 'default'"):
        TranslatorConfig.model_validate({"models": {"default": {"model": "x"}}})
    with pytest.raises(ValidationError, match="lowercase"):
        TranslatorConfig.model_validate({"models": {"Big Model": {"model": "x"}}})


def test_a_replaced_model_gets_a_new_multiplexed_id() -> None:
    before = config()
    after = config(models={"big": {"model": "m/big-v2"}, "opus-en-fr": {"model": "m/en-fr"}})
    assert multiplexed_id("default", before) == ""
    assert multiplexed_id("big", before) != multiplexed_id("big", after)
    assert multiplexed_id("opus-en-fr", before) != multiplexed_id("opus-en-fr", after)
    assert multiplexed_id("swahili", before) == multiplexed_id("swahili", config())
    assert model_name(multiplexed_id("big", after)) == "big"
    assert model_name("") == "default"
