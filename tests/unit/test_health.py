"""The replica self-checks behind the deployments' check_health: memory, and the work
that shows an engine working."""

from __future__ import annotations

import pytest

from serve_app.health import WorkEvidence, check_memory, resident_mib


def test_memory_limit_fails_only_past_the_limit() -> None:
    used = resident_mib()
    assert 10 < used < 100_000
    check_memory(None, "Translator")
    check_memory(int(used) + 1024, "Translator")
    with pytest.raises(RuntimeError, match=r"Translator replica resident memory \d+ MiB"):
        check_memory(int(used) // 2, "Translator")


def test_work_shows_the_engine_working_so_no_probe_is_needed() -> None:
    now = [1000.0]
    evidence = WorkEvidence(proven_for_s=30, busy_for_at_most_s=900, clock=lambda: now[0])
    assert evidence.needs_probe("Translator")  # nothing decoded yet: probe
    with evidence.decoding():
        now[0] += 120  # a 3.3B flush: longer than any probe's timeout
        assert not evidence.needs_probe("Translator")  # busy is not dead
    now[0] += 29
    assert not evidence.needs_probe("Translator")  # it just succeeded
    now[0] += 2
    assert evidence.needs_probe("Translator")  # idle for over 30 s: probe again


def test_a_failed_decode_is_no_evidence() -> None:
    now = [0.0]
    evidence = WorkEvidence(clock=lambda: now[0])
    with pytest.raises(ValueError, match="broken"), evidence.decoding():
        raise ValueError("broken")
    assert evidence.needs_probe("Translator")


def test_a_decode_running_too_long_fails_the_check() -> None:
    now = [0.0]
    evidence = WorkEvidence(proven_for_s=30, busy_for_at_most_s=900, clock=lambda: now[0])
    with evidence.decoding():
        now[0] = 500.0
        with evidence.decoding():  # a second one, started later
            now[0] = 901.0
            with pytest.raises(RuntimeError, match="Translator has been decoding for over 900"):
                evidence.needs_probe("Translator")
