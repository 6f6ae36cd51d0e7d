"""A language's plural forms, from CLDR (through Babel): which categories a message needs in
it, and gettext's ``Plural-Forms`` for it.

A message with plurals is written for the *target* language: Russian needs ``one``, ``few``
and ``many`` (and ``other`` for fractions), Arabic all six categories, Chinese only
``other``. Each form the target needs is translated from the source form that covers the
same number (:func:`source_form`): Russian ``few`` (2, 3, 4) from English ``other``.
"""

from __future__ import annotations

import gettext
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.messages.plurals import get_plural
from babel.plural import PluralRule

from serve_app.engines.languages import LanguageDatabase

# CLDR's categories, in CLDR's (and gettext's) order.
CATEGORIES = ("zero", "one", "two", "few", "many", "other")
# Numbers tried, in order, for an example of each category (decimals last: Russian "other"
# holds fractions only).
_SAMPLES: tuple[int | Decimal, ...] = (
    *range(0, 1001),
    *(Decimal(n) / 10 for n in range(1, 100)),
)
# A language Babel has no rules for counts as one/other (n == 1).
_DEFAULT_RULE = PluralRule({"one": "n is 1"})


@dataclass(frozen=True)
class PluralForms:
    """What a language needs of a message with plurals."""

    locale: str
    # CLDR categories in CLDR order, each with a number it covers.
    samples: dict[str, int | Decimal]
    # The categories that cover the number 1 and no other integer (English "one", not
    # Russian "one", which covers 21 too).
    only_one: frozenset[str]
    # gettext: how many msgstr[i], the header's expression, which msgstr[i] covers 1, and
    # whether it covers no other integer.
    gettext_count: int
    gettext_expression: str
    gettext_one: int
    gettext_only_one: bool

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(self.samples)

    @property
    def gettext_header(self) -> str:
        return f"nplurals={self.gettext_count}; plural={self.gettext_expression};"


def rule_of(locale: str) -> PluralRule:
    try:
        rule: PluralRule = Locale.parse(locale.replace("-", "_")).plural_form
    except (UnknownLocaleError, ValueError):
        return _DEFAULT_RULE
    return rule


@lru_cache(maxsize=256)
def plural_forms(code: str) -> PluralForms:
    """The plural forms of the FLORES-200 language ``code``."""
    locale = LanguageDatabase.default().locale(code, "_")
    rule = rule_of(locale)
    samples: dict[str, int | Decimal] = {}
    for number in _SAMPLES:
        samples.setdefault(rule(number), number)
    ordered = {category: samples[category] for category in CATEGORIES if category in samples}
    integers = range(0, 1001)
    shared = {rule(n) for n in integers if n != 1}
    only_one = frozenset({rule(1)} - shared)
    count, expression = _gettext_rule(locale)
    choose = gettext.c2py(expression)
    one = choose(1)
    only = all(choose(n) != one for n in integers if n != 1)
    return PluralForms(locale, ordered, only_one, count, expression, one, only)


def _gettext_rule(locale: str) -> tuple[int, str]:
    try:
        found = get_plural(locale)
    except (UnknownLocaleError, ValueError):
        return 2, "(n != 1)"
    expression = str(found.plural_expr).strip()
    return int(found.num_plurals), expression


def source_form(
    category: str,
    number: int | Decimal,
    available: Collection[str],
    source_rule: PluralRule | None = None,
) -> str:
    """Which of the source's forms (``available`` categories) a target form of ``category``
    covering ``number`` is translated from: the same category where the source has it, else
    the source's category for that number (an English-like rule when the source's own is
    not known), else ``other``."""
    if category in available:
        return category
    rule = source_rule or _DEFAULT_RULE
    covering = rule(number)
    if covering in available:
        return covering
    return "other" if "other" in available else next(iter(available))
