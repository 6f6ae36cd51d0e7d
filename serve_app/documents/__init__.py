"""Whole files in, the same files translated out: txt, md, html, srt, vtt, docx, pptx, xlsx,
odt, epub, and pdf in (text or docx out); and the localization files software is translated
in (po, xliff, Android strings.xml, JSON, YAML, ARB, Apple strings), written for their
target language (:mod:`serve_app.documents.messages`).

Plain Python, no Ray. Each format is read and written by its own library (python-docx,
python-pptx, openpyxl, pypdf, srt, webvtt-py, markdown-it-py, lxml); what this package adds is
one walk per format that hands every translatable piece of the file to a callback as an HTML
snippet (inline formatting and run boundaries as spans, so the markup-preserving translation
path keeps them) and writes the callback's answer back in place. Reading a file's segments and
writing its translation are the same walk, so they cannot disagree about what a segment is.

Uploads are hostile until checked (:mod:`serve_app.documents.safety`): zip containers are
measured before anything is unpacked, XML with entity declarations is refused, a file must be
what its name says, and every limit (:class:`~serve_app.documents.formats.DocumentLimits`)
answers a 4xx. The operations are in :mod:`serve_app.documents.formats`.
"""
