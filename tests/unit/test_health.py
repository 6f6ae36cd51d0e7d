"""The replica memory self-check behind the deployments' check_health."""

from __future__ import annotations

import pytest

from serve_app.health import check_memory, resident_mib


def test_memory_limit_fails_only_past_the_limit() -> None:
    used = resident_mib()
    assert 10 < used < 100_000
    check_memory(None, "Translator")
    check_memory(int(used) + 1024, "Translator")
    with pytest.raises(RuntimeError, match=r"Translator replica resident memory \d+ MiB"):
        check_memory(int(used) // 2, "Translator")
