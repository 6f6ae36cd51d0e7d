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

XLIFF_12 = b"""<?xml version="1.0" encoding="UTF-8"?>
<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">
  <file source-language="en" datatype="plaintext" original="app.properties">
    <header><note>Header note</note></header>
    <body>
      <!-- the welcome screen -->
      <trans-unit id="welcome">
        <source>Welcome, <g id="1">%1$s</g>! You have <x id="2"/> new messages.</source>
        <note from="developer">Shown once</note>
      </trans-unit>
      <group id="g1" translate="no">
        <trans-unit id="brand"><source>Tafsiri Cloud</source></trans-unit>
      </group>
      <trans-unit id="save" resname="save.button">
        <source>Save {name} now</source>
        <target state="new"></target>
      </trans-unit>
      <trans-unit id="code"><source>%s</source></trans-unit>
      <trans-unit id="bold"><source>Press <bpt id="3">&lt;b&gt;</bpt>Start<ept
        id="3">&lt;/b&gt;</ept> please</source></trans-unit>
    </body>
  </file>
</xliff>
"""

XLIFF_20 = b"""<?xml version="1.0" encoding="UTF-8"?>
<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="en">
  <file id="f1">
    <notes><note>File note</note></notes>
    <unit id="u1">
      <originalData><data id="d1">&lt;b&gt;</data><data id="d2">&lt;/b&gt;</data></originalData>
      <segment>
        <source>Click <pc id="1" dataRefStart="d1"
          dataRefEnd="d2">Save</pc> to keep <ph id="2"/> files.</source>
      </segment>
      <ignorable><source> </source></ignorable>
      <segment state="initial">
        <source>Then close the {app} window.</source>
      </segment>
    </unit>
    <unit id="u2" translate="no">
      <segment><source>Do not translate me</source></segment>
    </unit>
  </file>
</xliff>
"""

ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<ROOT><string name="a">&lol2;</string></ROOT>
"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<ROOT><string name="a">&x;</string></ROOT>
"""


def hostile_xml(root: bytes, payload: bytes) -> bytes:
    """``payload`` (an entity bomb or XXE) with ``root`` as its root element."""
    return payload.replace(b"ROOT", root)


ANDROID = b"""<?xml version="1.0" encoding="utf-8"?>
<resources xmlns:tools="http://schemas.android.com/tools"
    xmlns:xliff="urn:oasis:names:tc:xliff:document:1.2">
    <!-- Shown in the launcher -->
    <string name="app_name" translatable="false">Tafsiri</string>
    <string name="welcome">Welcome, %1$s! You have <b>%2$d</b> new messages.</string>
    <string name="quote">Don\\'t say \\"no\\"\\nSee you</string>
    <string name="brand">Powered by <xliff:g id="brand" example="T">%s</xliff:g> today</string>
    <plurals name="files">
        <item quantity="one">%d file was deleted</item>
        <item quantity="other">%d files were deleted</item>
    </plurals>
    <string-array name="planets">
        <item>Mercury</item>
        <item>42</item>
    </string-array>
    <string name="at">\\@home is where we are</string>
    <dimen name="margin">16dp</dimen>
</resources>
"""

I18NEXT = b"""{
  "en": {
    "nav": {
      "home": "Home page",
      "greeting": "Hello {{name}}, welcome back",
      "count": 3,
      "enabled": true
    },
    "item_one": "{{count}} item in your cart",
    "item_other": "{{count}} items in your cart",
    "icu": "You have {count, plural, =0 {none} one {# message} other {# messages}} from {sender}.",
    "who": "{gender, select, male {He replied} female {She replied} other {They replied}}",
    "list": ["First step", "42", "Second step"]
  }
}
"""

RAILS = b"""# Rails locale file
en:
  greeting: "Hello %{name}!"
  plain: Welcome to the site
  quoted: 'It is ready'
  shared: &shared Shared text here
  again: *shared
  number: 42
  block: |
    A longer text
    over two lines.
  inbox:
    # plural forms
    one: "%{count} new message"
    other: "%{count} new messages"
  date:
    formats:
      default: "%Y-%m-%d"
"""

ARB = b"""{
  "@@locale": "en",
  "title": "My application",
  "@title": {"description": "The app's title"},
  "files": "{count, plural, one {{count} file} other {{count} files}}",
  "@files": {"placeholders": {"count": {"type": "int"}}}
}
"""

YAML_ALIAS_BOMB = b"""a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
"""

STRINGS = """/* The title of the main screen */
"main.title" = "Welcome back";

// A bare key and an escaped value
greeting = "Hello, %@!\\nYou have \\"%lld\\" items.";
"numbers" = "%1$@ / %2$@";
""".encode("utf-16")

XCSTRINGS = b"""{
  "sourceLanguage" : "en",
  "strings" : {
    "Delete" : {
      "comment" : "A button"
    },
    "greeting" : {
      "comment" : "Shown on launch",
      "localizations" : {
        "en" : {
          "stringUnit" : {
            "state" : "translated",
            "value" : "Hello, %@!"
          }
        }
      }
    },
    "files" : {
      "localizations" : {
        "en" : {
          "variations" : {
            "plural" : {
              "one" : { "stringUnit" : { "state" : "translated", "value" : "%lld file" } },
              "other" : { "stringUnit" : { "state" : "translated", "value" : "%lld files" } }
            }
          }
        }
      }
    },
    "Tafsiri" : {
      "shouldTranslate" : false
    }
  },
  "version" : "1.0"
}
"""
