import pytest

from serve_app.engines.languages import (
    REGIONS,
    LanguageDatabase,
    UnknownLanguageError,
    dominant_script,
)

db = LanguageDatabase.default()


def test_has_all_202_nllb_languages_with_names_and_regions() -> None:
    assert len(db) == 202
    assert len(set(db.codes)) == 202
    for lang in db.all():
        assert lang.name, lang.code
        assert lang.region in REGIONS, lang.code
        assert lang.code == f"{lang.iso639_3}_{lang.script}"
    assert sum(db.regions().values()) == 202


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("swh_Latn", "swh_Latn"),
        ("SWH_LATN", "swh_Latn"),
        ("swh-Latn", "swh_Latn"),
        ("sw", "swh_Latn"),
        ("swa", "swh_Latn"),
        ("swh", "swh_Latn"),
        ("en", "eng_Latn"),
        ("eng", "eng_Latn"),
        ("zh", "zho_Hans"),
        ("fa", "pes_Arab"),
        ("ar", "arb_Arab"),
        ("no", "nob_Latn"),
        ("sq", "als_Latn"),
        (" fr ", "fra_Latn"),
    ],
)
def test_normalize_accepts_flores_iso1_iso3(given: str, expected: str) -> None:
    assert db.normalize(given) == expected


@pytest.mark.parametrize("bad", ["", "xx", "klingon", "eng_Latx", "__label__en"])
def test_unknown_codes_raise_value_error_naming_the_accepted_form(bad: str) -> None:
    with pytest.raises(ValueError, match="FLORES-200 code such as 'swh_Latn'") as info:
        db.normalize(bad)
    assert isinstance(info.value, UnknownLanguageError)


@pytest.mark.parametrize(
    ("label", "text", "expected"),
    [
        ("__label__sw", "", "swh_Latn"),
        ("__label__en", "", "eng_Latn"),
        ("__label__swh_Latn", "", "swh_Latn"),
        ("__label__arb_Arab", "", "arb_Arab"),
        ("__label__ceb", "", "ceb_Latn"),
        ("__label__ks", "कॉशुर", "kas_Deva"),
        ("__label__ks", "كٲشُر", "kas_Arab"),
        ("__label__als", "", None),  # lid.176's Alemannic, not Albanian
        ("__label__la", "", None),  # Latin: not an NLLB-200 language
        ("__label__xyz_Latn", "", None),
    ],
)
def test_lid_labels_map_to_flores(label: str, text: str, expected: str | None) -> None:
    assert db.from_lid_label(label, text) == expected


def test_search_by_english_and_native_name_and_code() -> None:
    assert "swh_Latn" in [lang.code for lang in db.search("swahili")]
    assert "swh_Latn" in [lang.code for lang in db.search("Kiswahili")]
    assert [lang.code for lang in db.search("Deutsch")] == ["deu_Latn"]
    assert {lang.code for lang in db.search("arab")} >= {"arb_Arab", "ary_Arab", "ace_Arab"}
    assert db.search("zzzzz") == []


def test_region_filter() -> None:
    africa = {lang.code for lang in db.by_region("africa")}
    assert {"swh_Latn", "yor_Latn", "zul_Latn", "amh_Ethi"} <= africa
    assert "eng_Latn" not in africa
    with pytest.raises(ValueError, match="unknown region"):
        db.by_region("Atlantis")


def test_dominant_script() -> None:
    assert dominant_script("hello world") == "Latn"
    assert dominant_script("مرحبا بالعالم") == "Arab"
    assert dominant_script("12345 !!") is None


def test_normalize_all_names_every_unknown_code() -> None:
    from serve_app.engines.languages import LanguageDatabase

    known, unknown = LanguageDatabase.default().normalize_all(["fr", "qq", "swh_Latn", "zz"])
    assert known == {"fra_Latn", "swh_Latn"}
    assert unknown == ["qq", "zz"]
