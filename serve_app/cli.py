"""The ``tafsiri`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from serve_app.engines.models import ModelUnavailableError

Handler = Callable[[argparse.Namespace], int]


def _pull(args: argparse.Namespace) -> int:
    from serve_app.engines.models import resolve_model

    path = resolve_model(args.repo_id, revision=args.revision, local_files_only=False)
    print(path)
    return 0


def _build_test_model(args: argparse.Namespace) -> int:
    from serve_app.testmodel.build import build_test_model

    print(build_test_model(args.output, size=args.size, force=args.force))
    return 0


def _languages(args: argparse.Namespace) -> int:
    from serve_app.engines.languages import LanguageDatabase

    database = LanguageDatabase.default()
    found = database.search(args.query) if args.query else database.all()
    if args.region:
        found = [lang for lang in found if lang.region.casefold() == args.region.casefold()]
    for lang in found:
        print(
            json.dumps(lang.to_dict(), ensure_ascii=False)
            if args.json
            else f"{lang.code}\t{lang.name}\t{lang.native_name or ''}\t{lang.region}"
        )
    return 0


def _create_key(args: argparse.Namespace) -> int:
    from serve_app.api.security import hash_key, new_api_key

    key = new_api_key()
    print(f"API key (give it to the client, it is not stored): {key}")
    print("Add to serve_config.yaml under args.auth.api_keys:")
    print(f"  - id: {args.id}\n    sha256: {hash_key(key)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tafsiri", description="Tafsiri translation service")
    commands = parser.add_subparsers(dest="command", required=True)

    models = commands.add_parser("models", help="manage models").add_subparsers(
        dest="models_command", required=True
    )
    pull = models.add_parser("pull", help="download a model from the Hugging Face Hub")
    pull.add_argument("repo_id", help="e.g. JustFrederik/nllb-200-distilled-600M-ct2-int8")
    pull.add_argument("--revision", default=None)
    pull.set_defaults(handler=_pull)

    build = commands.add_parser("build-test-model", help="build the offline NLLB-style copy model")
    build.add_argument("output", nargs="?", default="models/tiny-nllb")
    build.add_argument("--size", choices=["tiny", "base"], default="tiny")
    build.add_argument("--force", action="store_true")
    build.set_defaults(handler=_build_test_model)

    keys = commands.add_parser("keys", help="API keys").add_subparsers(
        dest="keys_command", required=True
    )
    create = keys.add_parser("create", help="make a new API key and print its hash for config")
    create.add_argument("--id", required=True, help="client identity the key stands for")
    create.set_defaults(handler=_create_key)

    languages = commands.add_parser("languages", help="list or search supported languages")
    languages.add_argument("query", nargs="?", default="")
    languages.add_argument("--region", default=None)
    languages.add_argument("--json", action="store_true")
    languages.set_defaults(handler=_languages)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except ModelUnavailableError as exc:
        print(f"tafsiri: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
