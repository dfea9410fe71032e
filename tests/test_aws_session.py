"""Throttling is retried with backoff: every client of the tool's session retries 10 times unless the
user's configuration says otherwise."""

from __future__ import annotations

import pytest

from templates_src.deploy.aws import session


def _attempts() -> tuple[str, int]:
    client = session().client("dynamodb", region_name="us-east-1")
    retries = client.meta.config.retries
    return retries["mode"], retries["total_max_attempts"]


def test_clients_retry_ten_times_in_standard_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_CONFIG_FILE", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    assert _attempts() == ("standard", 10)


def test_the_users_own_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "4")
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    assert _attempts() == ("adaptive", 4)
