"""Throttling is retried with backoff: every client of the tool's session retries 10 times unless the
user's configuration says otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.loaders import JSONFileLoader

from templates_src.deploy.aws import session


def _attempts() -> tuple[str, int]:
    client = session().client("dynamodb", region_name="us-east-1")
    retries = client.meta.config.retries
    # botocore's default: 3 attempts in all (a retries mapping without total_max_attempts).
    return retries["mode"], retries.get("total_max_attempts", 3)


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


def test_on_the_local_endpoint_botocores_default_stands(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto answers HTTP 500 for a call it lacks: retrying it ten times only waits."""
    for key in ("AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    assert _attempts() == ("standard", 3)


def test_sessions_share_botocores_parsed_data_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A second session's clients are made without reading a data file again; another AWS_DATA_PATH
    gets a loader of its own, which reads that path."""
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.delenv("AWS_DATA_PATH", raising=False)
    session().client("dynamodb", region_name="us-east-1")
    read: list[str] = []
    real_load = JSONFileLoader.load_file

    def counting_load(self: JSONFileLoader, file_path: str) -> Any:
        read.append(file_path)
        return real_load(self, file_path)

    monkeypatch.setattr(JSONFileLoader, "load_file", counting_load)
    again = session()
    again.client("dynamodb", region_name="us-east-1")
    assert read == []
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    elsewhere = session()
    elsewhere.client("dynamodb", region_name="us-east-1")
    assert elsewhere._session.get_component("data_loader").search_paths[0] == str(tmp_path)
    assert read, "a loader of its own reads the data files"
