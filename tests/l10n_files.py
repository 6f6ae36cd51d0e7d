"""Software localization files as their tools write them (gettext, XLIFF, Android, JSON,
YAML, Apple, ARB), and files crafted to attack a service that reads them."""

from __future__ import annotations

PO = b"""# Demo app translations.
# Copyright (C) 2026 Demo
#, fuzzy
msgid ""
msgstr ""
"Project-Id-Version: demo 1.0\\n"
"Report-Msgid-Bugs-To: bugs@example.org\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"X-Custom-Header: kept\\n"

#. Shown on the start screen
#: app/views.py:10
#, python-format
msgctxt "greeting"
msgid "Hello %(name)s, you have <b>new</b> mail"
msgstr ""

#: app/views.py:12
#, c-format
msgid "One file was deleted"
msgid_plural "%d files were deleted"
msgstr[0] ""
msgstr[1] ""

# A translator's note
#: app/views.py:20
#, fuzzy
#| msgid "Save"
msgid "Save changes"
msgstr "Old guess"

msgid "%s: %d"
msgstr ""

msgid "%d comment"
msgid_plural "%d comments"
msgstr[0] ""
msgstr[1] ""

#: app/views.py:30
msgid "Open {0} in {app_name}"
msgstr ""

#~ msgid "Removed long ago"
#~ msgstr "Entfernt"
"""
