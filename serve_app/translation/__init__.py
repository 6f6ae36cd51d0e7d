"""The one text-translation service: every entry point (the HTTP route, text and document
jobs, streams, the workflow translation agent) builds a :class:`TranslationRequest` and
calls :class:`TranslationService`, so every option works the same way through each."""
