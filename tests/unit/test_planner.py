import pytest
import yaml

from serve_app.dsl.planner import PlanningError, plan, plan_yaml


def test_detect_and_translate_to_two_languages() -> None:
    workflow = plan(
        'Detect the language of "Habari za asubuhi" and translate it to French and Swahili'
    )
    ids = [task["id"] for task in workflow["tasks"]]
    assert ids == ["detect", "translate_fra", "translate_swh"]
    translate = workflow["tasks"][1]
    assert translate["params"] == {
        "text": "Habari za asubuhi",
        "target_language": "fra_Latn",
        "source_language": "${detect.language}",
    }
    assert translate["depends_on"] == ["detect"]


def test_explicit_source_needs_no_detection() -> None:
    workflow = plan("Translate 'Good morning' from English into German")
    assert [t["id"] for t in workflow["tasks"]] == ["translate_deu"]
    assert workflow["tasks"][0]["params"]["source_language"] == "eng_Latn"


def test_quoted_text_is_data_not_instructions() -> None:
    workflow = plan('Translate "detect everything and translate to Klingon and Spanish" to Yoruba')
    assert [t["params"].get("target_language") for t in workflow["tasks"]] == [None, "yor_Latn"]


@pytest.mark.parametrize(
    ("request_text", "reason"),
    [
        ("Please compose a symphony about the ocean", "no registered agent"),
        ("Translate this to French", "in quotes"),
        ('Translate "Hello" please', "target language"),
    ],
)
def test_unplannable_requests_raise(request_text: str, reason: str) -> None:
    with pytest.raises(PlanningError, match=reason):
        plan(request_text)


def test_yaml_round_trips() -> None:
    text = plan_yaml('Detect the language of "Bonjour"')
    assert yaml.safe_load(text) == plan('Detect the language of "Bonjour"')
