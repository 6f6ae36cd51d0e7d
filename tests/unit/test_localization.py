"""Software localization files: keys, comments, context and order kept, only translatable
values translated (by the real tiny copy model), placeholders verified, plurals written for
the target (Russian, Arabic), low quality marked for review, hostile files refused."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import polib
import pytest
import yaml
from lxml import etree

from serve_app.documents.errors import DocumentError
from serve_app.documents.formats import DocumentLimits, render, segments, sniff_format
from serve_app.documents.messages import Target
from serve_app.engines.languages import LanguageDatabase
from serve_app.engines.plurals import plural_forms
from serve_app.engines.translator import TranslationRequest, Translator
from tests import l10n_files as files

RUS, ARB = "rus_Cyrl", "arb_Arab"


def translated(
    data: bytes,
    name: str,
    target: str,
    translator: Translator,
    review: Sequence[bool] = (),
) -> tuple[list[str], bytes]:
    """The file's segments and the file written from the copy model's translations of them
    (through the real engine's markup path, as a document job translates them)."""
    found = segments(data, name, target=Target(target))
    requests = [TranslationRequest(s, "eng_Latn", target, "html") for s in found]
    answers = [r.text for r in translator.translate(requests).results]
    return found, render(data, name, answers, target=Target(target, review))


def rewritten(data: bytes, name: str, target: str, change: Callable[[str], str]) -> bytes:
    found = segments(data, name, target=Target(target))
    return render(data, name, [change(s) for s in found], target=Target(target))


def drop_codes(snippet: str) -> str:
    """A translation that lost its placeholders and inline codes."""
    return re.sub(r"<[^>]*>", "", snippet)


def refused(data: bytes, filename: str, limits: DocumentLimits | None = None) -> DocumentError:
    with pytest.raises(DocumentError) as caught:
        segments(data, sniff_format(data, filename), limits, Target(RUS))
    return caught.value


# --- gettext PO / POT


def test_po_keeps_comments_context_order_and_fills_msgstr(translator: Translator) -> None:
    found, out = translated(files.PO, "po", RUS, translator)
    assert 'Hello <wbr data-k="0">, you have <span data-k="1">new</span> mail' in found
    catalog = polib.pofile(out.decode())
    assert catalog.metadata["Language"] == "ru"
    assert catalog.metadata["X-Custom-Header"] == "kept"
    assert catalog.metadata["Plural-Forms"].startswith("nplurals=3;")
    assert [e.msgid for e in catalog] == [
        "Hello %(name)s, you have <b>new</b> mail",
        "One file was deleted",
        "Save changes",
        "%s: %d",
        "%d comment",
        "Open {0} in {app_name}",
        "Removed long ago",
    ]
    greeting = catalog[0]
    assert greeting.msgctxt == "greeting"
    assert greeting.comment == "Shown on the start screen"
    assert greeting.occurrences == [("app/views.py", "10")]
    assert greeting.flags == ["python-format"]
    # The copy model gives the source back: the translation is the msgid, codes and all.
    assert greeting.msgstr == greeting.msgid
    assert catalog[3].msgstr == "%s: %d"  # nothing to translate: the source stands
    assert catalog[5].msgstr == "Open {0} in {app_name}"
    # A fuzzy entry translated again is no longer fuzzy, and loses its previous msgid.
    assert catalog[2].tcomment == "A translator's note"
    assert not catalog[2].fuzzy
    assert catalog[2].previous_msgid is None
    assert catalog[2].msgstr == "Save changes"
    assert catalog[6].obsolete
    assert catalog[6].msgstr == "Entfernt"
    assert "#~ msgid" in out.decode()


@pytest.mark.parametrize(
    ("target", "forms", "one_at"),
    # Russian msgstr[0] covers 21 too, French's 0 too: not "One file" but "%d files". French
    # has 3 forms since CLDR 46 (Babel 2.19): one (0, 1), many (1,000,000), other.
    [(RUS, 3, None), (ARB, 6, 1), ("zho_Hans", 1, None), ("fra_Latn", 3, None), ("eng_Latn", 2, 0)],
)
def test_po_plurals_are_the_targets(
    target: str, forms: int, one_at: int | None, translator: Translator
) -> None:
    _, out = translated(files.PO, "po", target, translator)
    catalog = polib.pofile(out.decode())
    assert catalog.metadata["Plural-Forms"].startswith(f"nplurals={forms};")
    plural = catalog[1]
    assert sorted(plural.msgstr_plural) == list(range(forms))
    for index, text in plural.msgstr_plural.items():
        # The form that covers 1 alone comes from msgid, every other from msgid_plural.
        expected = plural.msgid if index == one_at else plural.msgid_plural
        assert text == expected, (index, text)
    # "%d comment" carries the number: it is the form for 1 (Russian 21, 31, French 0 too).
    numbered = catalog[4].msgstr_plural
    one = 1 if target == ARB else 0
    assert [numbered[i] == "%d comment" for i in range(forms)] == [i == one for i in range(forms)]


def test_po_marks_a_lost_placeholder_and_low_quality_fuzzy(translator: Translator) -> None:
    lost = polib.pofile(rewritten(files.PO, "po", RUS, drop_codes).decode())
    assert lost[0].fuzzy
    assert lost[0].msgstr == lost[0].msgid  # the source, for a human to translate
    assert lost[5].fuzzy  # "{0}" and "{app_name}" went missing
    assert not lost[2].fuzzy  # no placeholder to lose
    found = segments(files.PO, "po", target=Target(RUS))
    low = [segment == "Save changes" for segment in found]
    _, out = translated(files.PO, "po", RUS, translator, review=low)
    catalog = polib.pofile(out.decode())
    assert [entry.msgid for entry in catalog if entry.fuzzy] == ["Save changes"]
    assert catalog[2].msgstr == "Save changes"  # marked for review, not withheld


def test_po_already_in_the_target_keeps_its_finished_translations() -> None:
    done = files.PO.replace(b'"X-Custom', b'"Language: ru\\n"\n"X-Custom').replace(
        b'msgid "%s: %d"\nmsgstr ""', b'msgid "%s: %d"\nmsgstr "%s -- %d"'
    )
    out = polib.pofile(rewritten(done, "po", RUS, str.upper).decode())
    assert out[3].msgstr == "%s -- %d"
    assert out[2].msgstr == "SAVE CHANGES"  # fuzzy: translated again


def test_a_pot_is_written_as_a_po() -> None:
    assert sniff_format(files.PO, "messages.pot") == "pot"
    out = render(files.PO, "pot", segments(files.PO, "pot", target=Target(RUS)), target=Target(RUS))
    assert polib.pofile(out.decode()).metadata["Language"] == "ru"


def test_po_hostile_and_damaged_files(tmp_path: Path) -> None:
    error = refused(b'msgid "a"\nmsgstr "b"\nnonsense here\n', "broken.po")
    assert (error.status, error.code) == (400, "INVALID_DOCUMENT")
    # polib reads a string naming an existing file as that file: an upload naming a PO file
    # on the server is that text, not the file.
    secret = tmp_path / "secret.po"
    secret.write_bytes(b'msgid "Server secret"\nmsgstr ""\n')
    assert refused(str(secret).encode(), "path.po").status == 400
    many = b"".join(b'msgid "Entry %d"\nmsgstr ""\n\n' % i for i in range(50))
    error = refused(many, "many.po", DocumentLimits(max_segments=10))
    assert (error.status, error.code) == (413, "DOCUMENT_TOO_LARGE")
    error = refused(many, "many.po", DocumentLimits(max_bytes=100))
    assert error.status == 413
    assert refused(b"\xff\xfe\x00garbage", "binary.po").status == 400


# --- XLIFF 1.2 and 2.x

X12 = "{urn:oasis:names:tc:xliff:document:1.2}"
X20 = "{urn:oasis:names:tc:xliff:document:2.0}"


def xml(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def test_xliff_12_targets_beside_sources_codes_and_notes_kept(translator: Translator) -> None:
    found, out = translated(files.XLIFF_12, "xlf", RUS, translator)
    assert found[0] == (
        'Welcome, <span data-k="0"><wbr data-k="1"></span>! You have <wbr data-k="3"> new messages.'
    )
    root = xml(out)
    assert root.find(f"{X12}file").get("target-language") == "ru"
    units = {u.get("id"): u for u in root.iter(f"{X12}trans-unit")}
    assert list(units) == ["welcome", "brand", "save", "code", "bold"]
    for unit_id in ("welcome", "save", "code", "bold"):
        unit = units[unit_id]
        source, target = unit.find(f"{X12}source"), unit.find(f"{X12}target")
        # The copy model's translation is the source: codes, attributes and all.
        assert (
            etree.tostring(target).split(b">", 1)[1].rsplit(b"<", 1)[0]
            == etree.tostring(source, with_tail=False).split(b">", 1)[1].rsplit(b"<", 1)[0]
        )
        assert target.get("state") == "translated"
        assert unit.index(target) == unit.index(source) + 1
    assert units["welcome"].find(f"{X12}note").text == "Shown once"
    assert units["brand"].find(f"{X12}target") is None  # in a translate="no" group
    assert b"<!-- the welcome screen -->" in out
    assert root.find(f"{X12}file/{X12}header/{X12}note").text == "Header note"


def test_xliff_2_targets_states_and_untranslatable_units(translator: Translator) -> None:
    _, out = translated(files.XLIFF_20, "xlf", ARB, translator, review=[False, True])
    root = xml(out)
    assert root.get("trgLang") == "ar"
    assert root.get("srcLang") == "en"
    first, second, _ = root.iter(f"{X20}segment")
    target = first.find(f"{X20}target")
    assert [child.tag.split("}")[1] for child in target] == ["pc", "ph"]
    assert target.find(f"{X20}pc").attrib == {"id": "1", "dataRefStart": "d1", "dataRefEnd": "d2"}
    assert "".join(target.itertext()) == "Click Save to keep  files."
    assert first.get("state") == "translated"
    assert (second.get("state"), second.get("subState")) == ("initial", "tafsiri:needs-review")
    assert second.find(f"{X20}target").text == "Then close the {app} window."
    untouched = root.find(f".//{X20}unit[@id='u2']")
    assert untouched.find(f".//{X20}target") is None
    assert root.find(f".//{X20}ignorable/{X20}target") is None


def test_xliff_a_lost_code_keeps_the_source_for_review() -> None:
    root = xml(rewritten(files.XLIFF_12, "xlf", RUS, drop_codes))
    units = {u.get("id"): u for u in root.iter(f"{X12}trans-unit")}
    welcome = units["welcome"].find(f"{X12}target")
    assert welcome.get("state") == "needs-review-translation"
    assert [child.tag for child in welcome] == [f"{X12}g", f"{X12}x"]  # the source's codes
    assert units["code"].find(f"{X12}target").get("state") == "translated"  # nothing to lose
    # A translation that moved a code is fine: the set is what is checked.
    moved = rewritten(
        files.XLIFF_20, "xlf", RUS, lambda s: re.sub(r"(<wbr[^>]*>)(.*)", r"\2 \1", s)
    )
    segment = next(xml(moved).iter(f"{X20}segment"))
    assert segment.get("state") == "translated"


def test_xliff_in_the_target_language_keeps_its_translations() -> None:
    done = files.XLIFF_12.replace(
        b'source-language="en"', b'source-language="en" target-language="ru"'
    )
    done = done.replace(b'<target state="new"></target>', b'<target state="final">Kept</target>')
    root = xml(rewritten(done, "xlf", RUS, str.upper))
    units = {u.get("id"): u for u in root.iter(f"{X12}trans-unit")}
    assert units["save"].find(f"{X12}target").text == "Kept"
    assert units["welcome"].find(f"{X12}target").text.startswith("WELCOME")


@pytest.mark.parametrize("payload", [files.ENTITY_BOMB, files.XXE])
def test_xliff_entity_bombs_and_xxe_are_refused(payload: bytes) -> None:
    error = refused(files.hostile_xml(b"xliff", payload), "bomb.xlf")
    assert (error.status, error.code) == (400, "INVALID_DOCUMENT")
    assert "entities" in error.message


def test_xliff_that_is_not_xliff_is_refused() -> None:
    assert refused(b"<html><body>x</body></html>", "page.xliff").status == 415
    assert refused(b"<xliff><file>", "cut.xlf").status == 400


# --- Android strings.xml


def android(data: bytes) -> dict[str, etree._Element]:
    return {e.get("name"): e for e in xml(data) if isinstance(e.tag, str)}


def test_android_strings_arrays_markup_and_escapes(translator: Translator) -> None:
    found, out = translated(files.ANDROID, "xml", RUS, translator)
    assert found[1] == 'Don\'t say "no"<wbr data-k="0">See you'  # escapes read as text
    assert b"<!-- Shown in the launcher -->" in out
    before, after = android(files.ANDROID), android(out)
    assert list(after) == list(before)
    for name in ("app_name", "welcome", "quote", "brand", "at", "margin", "planets"):
        # The copy model's translation is the source: every escape and code written back.
        assert etree.tostring(after[name]) == etree.tostring(before[name]), name
    assert 'translatable="false"' in etree.tostring(after["app_name"]).decode()


def test_android_escapes_are_written_again() -> None:
    out = android(rewritten(files.ANDROID, "xml", RUS, lambda s: s.replace("say", "'say'")))
    assert out["quote"].text == "Don\\'t \\'say\\' \\\"no\\\"\\nSee you"
    at = android(rewritten(files.ANDROID, "xml", RUS, str.upper))["at"]
    assert at.text == "\\@HOME IS WHERE WE ARE"  # still text, not a resource reference


@pytest.mark.parametrize(
    ("target", "quantities"),
    [
        (RUS, ["one", "few", "many", "other"]),
        (ARB, ["zero", "one", "two", "few", "many", "other"]),
        ("zho_Hans", ["other"]),
    ],
)
def test_android_plurals_are_the_targets_quantities(
    target: str, quantities: list[str], translator: Translator
) -> None:
    _, out = translated(files.ANDROID, "xml", target, translator)
    items = android(out)["files"].findall("item")
    assert [item.get("quantity") for item in items] == quantities
    for item in items:
        # "%d file was deleted" carries the number: Russian one (1, 21, ...) and Arabic one.
        single = item.get("quantity") == "one"
        assert item.text == ("%d file was deleted" if single else "%d files were deleted")


def test_android_a_lost_argument_keeps_the_source() -> None:
    out = android(rewritten(files.ANDROID, "xml", RUS, lambda s: drop_codes(s).upper()))
    assert out["welcome"].text == "Welcome, %1$s! You have "  # the source, not broken
    assert out["planets"][0].text == "MERCURY"  # no code to lose


@pytest.mark.parametrize("payload", [files.ENTITY_BOMB, files.XXE])
def test_android_entity_bombs_and_xxe_are_refused(payload: bytes) -> None:
    error = refused(files.hostile_xml(b"resources", payload), "strings.xml")
    assert (error.status, error.code) == (400, "INVALID_DOCUMENT")


def test_xml_that_is_not_android_resources_is_refused() -> None:
    error = refused(b"<svg><text>Hello</text></svg>", "image.xml")
    assert (error.status, error.code) == (415, "DOCUMENT_TYPE_MISMATCH")


# --- i18next / ICU JSON, Rails YAML, Flutter ARB


def test_json_nested_keys_i18next_plurals_and_icu(translator: Translator) -> None:
    found, out = translated(files.I18NEXT, "json", RUS, translator)
    assert 'You have <wbr data-k="0"> from <wbr data-k="1">.' in found  # around the plural
    tree = json.loads(out)
    assert list(tree) == ["ru"]  # the root language key names the target
    before, after = json.loads(files.I18NEXT)["en"], tree["ru"]
    assert after["nav"] == before["nav"]  # copy model; numbers and booleans as they were
    assert list(after) == [
        "nav", "item_one", "item_few", "item_many", "item_other", "icu", "who", "list"
    ]  # fmt: skip
    assert after["item_one"] == "{{count}} item in your cart"
    assert after["item_few"] == after["item_many"] == "{{count}} items in your cart"
    assert after["icu"] == (
        "You have {count, plural, =0 {none} one {# message} few {# messages} "
        "many {# messages} other {# messages}} from {sender}."
    )
    assert after["who"] == before["who"]  # select keeps its keys
    assert after["list"] == before["list"]
    assert out.startswith(b'{\n  "ru": {\n    "nav"')  # the file's indentation


def test_icu_plural_for_arabic_and_branches_only_translated() -> None:
    out = json.loads(rewritten(files.I18NEXT, "json", ARB, str.upper))["ar"]
    assert out["icu"] == (
        "YOU HAVE {count, plural, =0 {NONE} zero {# MESSAGES} one {# MESSAGE} "
        "two {# MESSAGES} few {# MESSAGES} many {# MESSAGES} other {# MESSAGES}} FROM {sender}."
    )
    assert out["who"] == (
        "{gender, select, male {HE REPLIED} female {SHE REPLIED} other {THEY REPLIED}}"
    )
    assert [key for key in out if key.startswith("item_")] == [
        f"item_{c}" for c in ("zero", "one", "two", "few", "many", "other")
    ]
    lost = json.loads(rewritten(files.I18NEXT, "json", RUS, drop_codes))["ru"]
    assert lost["nav"]["greeting"] == "Hello {{name}}, welcome back"  # the source, kept


def test_yaml_edited_in_place_comments_anchors_and_plurals(translator: Translator) -> None:
    _, out = translated(files.RAILS, "yaml", RUS, translator)
    # The copy model changes nothing but the language: the file is the same but for it.
    text = out.decode()
    assert text.startswith('# Rails locale file\nru:\n  greeting: "Hello %{name}!"\n')
    assert "  shared: &shared Shared text here\n  again: *shared\n" in text
    assert "    # plural forms\n" in text
    tree = yaml.safe_load(out)["ru"]
    assert list(tree["inbox"]) == ["one", "few", "many", "other"]
    assert tree["inbox"]["one"] == "%{count} new message"
    assert tree["inbox"]["many"] == "%{count} new messages"
    assert tree["block"] == "A longer text\nover two lines.\n"
    assert tree["date"]["formats"]["default"] == "%Y-%m-%d"
    assert tree["number"] == 42


def test_yaml_translated_values_are_rewritten_safely() -> None:
    out = rewritten(files.RAILS, "yaml", RUS, lambda s: s.upper().replace("TEXT", 'te"x: t'))
    tree = yaml.safe_load(out)["ru"]
    assert tree["shared"] == tree["again"] == 'SHARED te"x: t HERE'  # once, through the alias
    assert tree["quoted"] == "IT IS READY"
    assert tree["greeting"] == "HELLO %{name}!"
    assert tree["block"] == 'A LONGER te"x: t\nOVER TWO LINES.\n'
    assert b"# Rails locale file" in out


def test_arb_names_the_target_and_keeps_metadata(translator: Translator) -> None:
    _, out = translated(files.ARB, "arb", ARB, translator)
    tree = json.loads(out)
    assert tree["@@locale"] == "ar"
    assert tree["@title"] == {"description": "The app's title"}
    assert tree["files"] == (
        "{count, plural, zero {{count} files} one {{count} file} two {{count} files} "
        "few {{count} files} many {{count} files} other {{count} files}}"
    )


@pytest.mark.parametrize(
    ("data", "filename", "status", "what"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "deep.json", 400, "nested deeper"),
        (b'{"a":' * 100 + b'"x"' + b"}" * 100, "deep.json", 400, "nested deeper"),
        (b"a:\n" + b"".join(b"  " * i + b"- \n" for i in range(1, 100)), "deep.yaml", 400, ""),
        (b"a: " + b"[" * 100 + b"]" * 100, "deep.yml", 400, "nested deeper"),
        (b"a: !!python/object:os.system {}\n", "evil.yaml", 400, "tag"),
        (b"a: !ruby/object {}\n", "evil.yaml", 400, "tag"),
        (b"a: [1, 2\n", "cut.yaml", 400, "not valid YAML"),
        (b'{"a": "b",}', "bad.json", 400, "not valid JSON"),
        (b'["a"]', "list.arb", 400, "JSON object"),
    ],
)
def test_hostile_json_and_yaml_are_refused(
    data: bytes, filename: str, status: int, what: str
) -> None:
    error = refused(data, filename)
    assert (error.status, error.code) == (status, "INVALID_DOCUMENT")
    assert what in error.message


def test_a_yaml_alias_bomb_costs_its_size_not_its_expansion() -> None:
    found = segments(files.YAML_ALIAS_BOMB, "yaml", target=Target(RUS))
    assert found == ["lol"] * 9  # each shared node once, not 9**7 times
    many = b"a: &a x\n" + b"".join(b"k%d: *a\n" % i for i in range(1_001))
    assert "aliases" in refused(many, "many.yaml").message


# --- Apple .strings and .xcstrings


def test_strings_values_rewritten_in_place(translator: Translator) -> None:
    found, out = translated(files.STRINGS, "strings", RUS, translator)
    assert found == [
        "Welcome back",
        'Hello, <wbr data-k="0">!<wbr data-k="1">You have "<wbr data-k="2">" items.',
    ]
    assert out == files.STRINGS  # the copy model: the file as it was, UTF-16 and all
    loud = rewritten(files.STRINGS, "strings", RUS, str.upper).decode("utf-16")
    assert '"main.title" = "WELCOME BACK";' in loud
    assert 'greeting = "HELLO, %@!\\nYOU HAVE \\"%lld\\" ITEMS.";' in loud
    assert "/* The title of the main screen */" in loud
    lost = rewritten(files.STRINGS, "strings", RUS, drop_codes).decode("utf-16")
    assert 'greeting = "Hello, %@!\\nYou have \\"%lld\\" items.";' in lost  # the source
    assert refused(b'"a" = "b"\n"c" "d";', "bad.strings").status == 400


def test_xcstrings_localization_for_the_target(translator: Translator) -> None:
    _, out = translated(files.XCSTRINGS, "xcstrings", ARB, translator, review=[False, True])
    catalog = json.loads(out)
    strings = catalog["strings"]
    assert list(strings) == ["Delete", "greeting", "files", "Tafsiri"]
    assert strings["Delete"]["comment"] == "A button"
    assert strings["Delete"]["localizations"]["ar"]["stringUnit"] == {
        "state": "translated",
        "value": "Delete",  # the key is the source
    }
    greeting = strings["greeting"]["localizations"]
    assert greeting["ar"]["stringUnit"] == {"state": "needs_review", "value": "Hello, %@!"}
    assert greeting["en"]["stringUnit"]["value"] == "Hello, %@!"
    plural = strings["files"]["localizations"]["ar"]["variations"]["plural"]
    assert list(plural) == ["zero", "one", "two", "few", "many", "other"]
    assert plural["one"]["stringUnit"]["value"] == "%lld file"
    assert plural["few"]["stringUnit"]["value"] == "%lld files"
    assert strings["Tafsiri"] == {"shouldTranslate": False}
    assert b'"sourceLanguage" : "en"' in out  # Xcode's own layout


def test_flores_codes_map_to_cldr_locales_and_plural_forms() -> None:
    languages = LanguageDatabase.default()
    assert [languages.locale(c) for c in (RUS, ARB, "zho_Hant", "eng_Latn")] == [
        "ru",
        "ar",
        "zh-Hant",
        "en",
    ]
    assert languages.locale("zho_Hans", "_") == "zh_Hans"
    assert plural_forms(RUS).categories == ("one", "few", "many", "other")
    assert plural_forms(ARB).gettext_count == 6
    assert plural_forms("ace_Latn").categories == ("one", "other")  # no CLDR data: one/other


@pytest.mark.parametrize(("target", "one"), [(RUS, "{{count}} files"), (ARB, "One file")])
def test_a_plural_form_without_the_number_is_only_for_one(target: str, one: str) -> None:
    """Russian "one" covers 21 and 31: not "One file" but the form with the number; Arabic
    "one" covers 1 alone."""
    data = b'{"file_one": "One file", "file_other": "{{count}} files"}'
    out = json.loads(rewritten(data, "json", target, lambda s: s))
    assert out["file_one"] == one
    assert out["file_many"] == "{{count}} files"
