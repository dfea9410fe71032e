"""A moto server on 127.0.0.1 and a free port, stopped on exit, error or Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

from ..errors import AwsFailure

STARTUP_TIMEOUT_S = 20.0
# moto_shim's fix 19: POST a 12-digit account ID here and the server is in that account from then on.
ACCOUNT_PATH = "/moto-api/shim/account"
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_moto_server(account_id: str | None = None) -> Iterator[str]:
    """Yield the endpoint URL; the server is terminated however the block ends.

    account_id: the account moto pretends the caller is in (MOTO_ACCOUNT_ID).
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    if account_id:
        env["MOTO_ACCOUNT_ID"] = account_id
    proc = subprocess.Popen(
        # moto_shim: moto's server plus the change-set outputs/exports fix.
        [sys.executable, "-m", "templates_src.local.moto_shim", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,  # Ctrl-C reaches us, not the server; we stop it ourselves
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise AwsFailure(f"moto_server exited with {proc.returncode} before it was ready")
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AwsFailure(f"moto_server not ready on {url} after {STARTUP_TIMEOUT_S:.0f} s") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def local_aws_environment(endpoint: str, region: str) -> Iterator[None]:
    """Point boto3 at the endpoint with dummy credentials; restore afterwards."""
    wanted = {**DUMMY_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": region}
    saved = {k: os.environ.get(k) for k in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
