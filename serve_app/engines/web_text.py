"""The web-text stage of detection: CLD2, learnt from web pages.

The breadth stage learnt each language from one declaration; news and web text read unlike
it. CLD2 (Google's Compact Language Detector 2 through ``pycld2``, Apache-2.0, its tables
compiled into the wheel) was trained on web text, and among the languages it has tables for
are many African ones: Kinyarwanda, Kirundi, Lingala, Tswana, Hausa, Igbo, Akan, Ganda,
Wolof, Tigrinya, ... It is not given the say over any language. It is one more opinion,
weighed with the others' (:func:`serve_app.engines.detector.weigh_web_text`) over the
languages it knows only, so a text in a language it cannot name (Bambara, Ewe, Fon, Luo) is
not pulled to the neighbour it answers instead.

Its answer per text: the three languages it found with the share of the text's bytes in
each, here as a distribution over FLORES-200 codes (the share it could not attribute, or
attributes to languages NLLB-200 does not have, is left out).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence

from serve_app.engines.languages import LanguageDatabase, dominant_script

# CLD2's codes that are not the ISO 639 code the language database knows.
CLD2_CODES = {"iw": "he", "jw": "jv", "zh-Hant": "zho_Hant"}
# CLD2's Akan was learnt from Akan as written on the web, which is Twi; NLLB-200 has both.
ALSO = {"aka_Latn": ("twi_Latn",)}
# CLD2 gains nothing from more than a few hundred characters.
MAX_STAGE_CHARS = 1000
# Characters CLD2 refuses as "invalid UTF-8", all of them of no language: control characters
# (C1 controls come with text decoded from Windows-1252 as Latin-1) and Unicode's
# noncharacters (U+FDD0-U+FDEF and the last two code points of every plane). Dropped before
# it reads the text.
CONTROLS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef"
    + "".join(
        f"{chr(plane + 0xFFFE)}{chr(plane + 0xFFFF)}" for plane in range(0, 0x110000, 0x10000)
    )
    + "]"
)


class WebTextStage:
    """CLD2's reading of each text, mapped to FLORES-200."""

    name = "cld2"

    def __init__(self, languages: LanguageDatabase | None = None) -> None:
        import pycld2

        started = time.perf_counter()
        self._cld2 = pycld2
        # pycld2 lets go of the GIL while CLD2 reads, and CLD2 does not say it is safe to
        # call from several threads at once (CLD2Owners/cld2#64, unanswered): one at a time.
        self._lock = threading.Lock()
        self._db = languages or LanguageDatabase.default()
        named: set[str] = set()
        detected = set(pycld2.DETECTED_LANGUAGES)
        for name, code in pycld2.LANGUAGES:
            if name not in detected:  # listed for its code, not in CLD2's tables
                continue
            for script in (None, "Latn", "Cyrl", "Arab", "Deva", "Hant"):
                found = self._code(code, script)
                named.update(found)
        self.languages = frozenset(named)
        self.load_seconds = time.perf_counter() - started

    def _code(self, code: str, script: str | None) -> tuple[str, ...]:
        flores = self._db.from_lid_label(CLD2_CODES.get(code, code), script=script)
        return (flores, *ALSO.get(flores, ())) if flores else ()

    def probabilities(
        self, texts: Sequence[str], scripts: Sequence[str | None] | None = None
    ) -> list[dict[str, float]]:
        """For each text, the share of it CLD2 attributes to each language it names.
        ``scripts``: each text's most frequent script, where the caller has it already (the
        detector does); else it is read here."""
        out: list[dict[str, float]] = []
        for n, text in enumerate(texts):
            # Lone surrogates cannot be UTF-8, which is all CLD2 reads: they are dropped.
            line = CONTROLS.sub("", text[:MAX_STAGE_CHARS])
            line = line.encode("utf-8", "ignore").decode("utf-8")
            try:
                with self._lock:
                    _, _, found = self._cld2.detect(line, bestEffort=True)
            except self._cld2.error:  # input CLD2 refuses: no opinion
                out.append({})
                continue
            script = scripts[n] if scripts is not None else dominant_script(text)
            distribution: dict[str, float] = {}
            for _, code, percent, _ in found:
                if code == "un" or percent <= 0:
                    continue
                for flores in self._code(code, script):
                    distribution[flores] = distribution.get(flores, 0.0) + percent / 100.0
            out.append(distribution)
        return out
