"""Key-value localization files: i18next / ICU JSON (nested keys), Rails-style YAML (the root
key is the language) and Flutter ARB. Keys, order and every value that is not text stay;
only string values are translated, as MessageFormat where they are
(:mod:`serve_app.documents.icu`), else as text with placeholders.

- **JSON**: i18next plural keys (``item_one``, ``item_other``) become the target's
  (``item_one``, ``item_few``, ``item_many``, ``item_other`` for Russian). The file is
  written again with its indentation; a root holding one language key is renamed to the
  target's.
- **YAML**: read by PyYAML's safe composer (no custom tags, nesting and aliases bounded, a
  node shared by aliases translated once) and edited in place, so comments, anchors, quoting
  and layout stay; only translated values are rewritten (as double-quoted scalars). The root
  language key (``en:``) becomes the target's, and a mapping of plural categories (``one:``,
  ``other:``) gets the target's.
- **ARB**: ``@@locale`` names the target; ``@key`` metadata (descriptions, placeholders)
  is kept as it is; values are ICU MessageFormat.

None of these formats has a review mark: a translation that lost a placeholder keeps the
source text.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from serve_app.documents.errors import invalid
from serve_app.documents.icu import translate_value
from serve_app.documents.messages import MAX_DEPTH, Messages, message_of, too_deep
from serve_app.documents.text_formats import decode
from serve_app.engines.languages import LanguageDatabase
from serve_app.engines.plurals import CATEGORIES

_I18NEXT_PLURAL = re.compile(rf"^(.+)_({'|'.join(CATEGORIES)})$")
_LOCALE_KEY = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
# Aliases a YAML file may hold (Rails files use a few for shared defaults).
MAX_ALIASES = 1_000
_STR = "tag:yaml.org,2002:str"
# The tags of plain YAML (1.1's types, as PyYAML's safe loader knows them); any other
# (!!python/object, !ruby/object) is refused.
_PLAIN_TAGS = frozenset(
    {None, "!"}
    | {
        f"tag:yaml.org,2002:{name}"
        for name in "str int float bool null map seq timestamp binary merge omap pairs set".split()
    }
)
_PROPERTIES = re.compile(r"(?:[&!][^\s]*\s+)+")


def _is_language(key: str) -> bool:
    return (
        bool(_LOCALE_KEY.match(key)) and LanguageDatabase.default().try_normalize(key) is not None
    )


# --- JSON and ARB


def load_json(data: bytes, what: str) -> tuple[Any, str, str]:
    text, encoding = decode(data, what)
    try:
        return json.loads(text), text, encoding
    except RecursionError as exc:
        raise too_deep(what) from exc
    except ValueError as exc:
        raise invalid(f"the {what} is not valid JSON ({exc})") from exc


def dump_json(tree: Any, text: str, encoding: str) -> bytes:
    indented = re.search(r"\n([ \t]+)\S", text)
    indent: str | int | None = indented[1] if indented else (None if "\n" not in text else 2)
    # Xcode writes '"key" : value'; the file's own separator is kept.
    separator = " : " if '" : ' in text else ": "
    out = json.dumps(tree, ensure_ascii=False, indent=indent, separators=(",", separator))
    return (out + ("\n" if text.endswith("\n") else "")).encode(encoding)


def _translate_json(node: Any, messages: Messages, depth: int, what: str) -> Any:
    if depth > MAX_DEPTH:
        raise too_deep(what)
    if isinstance(node, str):
        return translate_value(node, messages)[0]
    if isinstance(node, list):
        return [_translate_json(item, messages, depth + 1, what) for item in node]
    if not isinstance(node, dict):
        return node
    groups: dict[str, dict[str, str]] = {}
    for key, value in node.items():
        found = _I18NEXT_PLURAL.match(key)
        if found and isinstance(value, str):
            groups.setdefault(found[1], {})[found[2]] = value
    groups = {base: forms for base, forms in groups.items() if "other" in forms}
    out: dict[str, Any] = {}
    for key, value in node.items():
        found = _I18NEXT_PLURAL.match(key)
        if found and found[1] in groups:
            forms = groups.pop(found[1], None)
            if forms is not None:  # the group's first key: the target's forms in its place
                chosen = messages.plural_sources({k: message_of(v) for k, v in forms.items()})
                for category, source in chosen.items():
                    out[f"{found[1]}_{category}"] = translate_value(forms[source], messages)[0]
            continue
        out[key] = _translate_json(value, messages, depth + 1, what)
    return out


def walk_json(data: bytes, messages: Messages, write: bool) -> bytes:
    tree, text, encoding = load_json(data, "JSON file")
    if isinstance(tree, dict) and len(tree) == 1:
        ((key, value),) = tree.items()
        if isinstance(value, dict) and _is_language(key):
            tree = {messages.locale(): value}
    translated = _translate_json(tree, messages, 0, "JSON file")
    return dump_json(translated, text, encoding) if write else b""


def walk_arb(data: bytes, messages: Messages, write: bool) -> bytes:
    tree, text, encoding = load_json(data, "ARB file")
    if not isinstance(tree, dict):
        raise invalid("an ARB file is a JSON object of messages")
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if key == "@@locale":
            out[key] = messages.locale("_")
        elif key.startswith("@") or not isinstance(value, str):
            out[key] = value
        else:
            out[key] = translate_value(value, messages)[0]
    if "@@locale" not in out:
        out = {"@@locale": messages.locale("_"), **out}
    return dump_json(out, text, encoding) if write else b""


# --- YAML, edited in place


def _compose(text: str) -> yaml.Node | None:
    """The file's node graph, after its events were checked: nesting, aliases and tags."""
    try:
        depth = aliases = 0
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise too_deep("YAML file")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise invalid(f"the YAML file holds more than {MAX_ALIASES} aliases")
            tag = getattr(event, "tag", None)
            if tag not in _PLAIN_TAGS:
                raise invalid(f"the YAML file uses the tag {tag!r}: only plain YAML is read")
        node: yaml.Node | None = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise invalid(f"the YAML file is not valid YAML ({exc})") from exc
    return node


def _scalar(text: str, original: str) -> str:
    if original[:1] == "'" and "\n" not in text:
        return "'" + text.replace("'", "''") + "'"
    return json.dumps(text, ensure_ascii=False)


def walk_yaml(data: bytes, messages: Messages, write: bool) -> bytes:
    text, encoding = decode(data, "YAML file")
    root = _compose(text)
    edits: list[tuple[int, int, str]] = []
    seen: set[int] = set()

    def replace(node: yaml.Node, new: str) -> None:
        start, end = node.start_mark.index, node.end_mark.index
        original = text[start:end]
        properties = _PROPERTIES.match(original)  # an anchor or tag before the value stays
        start += properties.end() if properties else 0
        original = text[start:end]
        kept = original[len(original.rstrip()) :]  # a block scalar's line ends
        edits.append((start, end, new + kept))

    def visit(node: yaml.Node) -> None:
        if id(node) in seen:  # shared through an alias: translated once
            return
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _STR:
                value = translate_value(node.value, messages, icu=False)[0]
                if value != node.value:
                    replace(node, _scalar(value, text[node.start_mark.index :]))
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                visit(item)
        elif isinstance(node, yaml.MappingNode):
            if _plural_mapping(node):
                _plurals(node)
            else:
                for _, value in node.value:
                    visit(value)

    def _plurals(node: yaml.MappingNode) -> None:
        forms = {key.value: value.value for key, value in node.value}
        chosen = messages.plural_sources({k: message_of(v) for k, v in forms.items()})
        lines = [
            f"{category}: {_scalar(translate_value(forms[source], messages, icu=False)[0], '')}"
            for category, source in chosen.items()
        ]
        first, last = node.value[0][0], node.value[-1][1]
        if node.flow_style:
            edits.append((node.start_mark.index, node.end_mark.index, "{" + ", ".join(lines) + "}"))
        else:
            joined = ("\n" + " " * first.start_mark.column).join(lines)
            start, end = first.start_mark.index, last.end_mark.index
            original = text[start:end]
            edits.append((start, end, joined + original[len(original.rstrip()) :]))

    if isinstance(root, yaml.MappingNode) and len(root.value) == 1:
        key, _ = root.value[0]
        if isinstance(key, yaml.ScalarNode) and _is_language(str(key.value)):
            replace(key, messages.locale())
    if root is not None:
        visit(root)
    if not write:
        return b""
    out = text
    for start, end, new in sorted(edits, reverse=True):
        out = out[:start] + new + out[end:]
    return out.encode(encoding)


def _plural_mapping(node: yaml.MappingNode) -> bool:
    keys = [key.value for key, _ in node.value if isinstance(key, yaml.ScalarNode)]
    return (
        bool(node.value)
        and len(keys) == len(node.value)
        and "other" in keys
        and all(key in CATEGORIES for key in keys)
        and all(isinstance(v, yaml.ScalarNode) and v.tag == _STR for _, v in node.value)
    )
