"""boto3 sessions, and AWS failures turned into a one-line cause and what to do.

Expected failures (no or expired credentials, an unreachable endpoint,
throttling, access denied) become AwsFailure, which the command line prints
without a traceback (exit 1).
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import botocore.session
from botocore import exceptions as bx
from botocore.config import Config
from botocore.loaders import Loader, create_loader
from botocore.parsers import ResponseParserError

from ..errors import AwsFailure

THROTTLING = {
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
}
EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
REJECTED = {
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "AuthFailure",
}
DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}


def error_code(exc: BaseException) -> str:
    """A botocore ClientError's code ("" for anything else)."""
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", "")) if isinstance(exc, bx.ClientError) else ""


def endpoint_lacks(exc: BaseException) -> bool:
    """The endpoint does not implement the operation: the local moto server answers an HTTP 500 page,
    which botocore reads as code "500" (JSON services) or cannot parse (XML services). AWS itself
    never answers a supported operation so; access denied, throttling and the rest are real failures."""
    if isinstance(exc, ResponseParserError):
        return True
    return error_code(exc) in ("500", "NotImplemented") or "not been implemented" in str(exc)


def stack_missing(exc: BaseException) -> bool:
    """CloudFormation's answer for a stack that does not exist (ValidationError "... does not exist")."""
    return error_code(exc) == "ValidationError" and "does not exist" in str(exc)


def exists(describe: Callable[[], Any], missing_code: str) -> bool:
    """Whether `describe` finds its resource: False on `missing_code`, any other failure raised."""
    try:
        describe()
    except Exception as exc:  # botocore ClientError; its code says whether the resource is gone
        if error_code(exc) == missing_code:
            return False
        raise
    return True


# Throttling and transient errors are retried with backoff, not reported as failures: botocore's retry
# mode (boto3 guide, "Retries"; standard unless configured) with more attempts than its default 3, as a
# staged deploy polls for hours. The user's own max_attempts (config file, AWS_MAX_ATTEMPTS) still wins.
# Not on the local endpoint: there an HTTP 500 means a call moto does not implement, never transient.
MAX_ATTEMPTS = 10


@functools.cache
def shared_data_loader(data_path: str | None) -> Loader:
    """botocore's data files (the endpoints, each service's model), parsed once per process and shared
    by every session, as one session already shares them between its clients. A session of its own
    parses them again: ~120 ms of a session that makes three clients. Keyed by AWS_DATA_PATH, as
    botocore's own loader is (Session._register_data_loader)."""
    return create_loader(data_path)


def session() -> Any:
    with aws_errors("AWS session"):
        core = botocore.session.get_session()
        core.register_component("data_loader", shared_data_loader(core.get_config_variable("data_path")))
        if core.get_config_variable("max_attempts") is None and local_endpoint() is None:
            mode = core.get_config_variable("retry_mode") or "standard"
            core.set_default_client_config(Config(retries={"mode": mode, "total_max_attempts": MAX_ATTEMPTS}))
        return boto3.session.Session(botocore_session=core)


LOOPBACK_HOSTS = ("127.", "localhost", "[::1]")


def local_endpoint() -> str | None:
    """AWS_ENDPOINT_URL when it points at this machine (the local moto server), else None."""
    url = os.environ.get("AWS_ENDPOINT_URL", "")
    host = url.split("://", 1)[-1]
    return url if url and host.startswith(LOOPBACK_HOSTS) else None


def endpoint_hint() -> str:
    url = os.environ.get("AWS_ENDPOINT_URL")
    return f"AWS_ENDPOINT_URL={url}" if url else "the AWS endpoint"


@contextlib.contextmanager
def aws_errors(what: str) -> Iterator[None]:
    """Translate botocore's exceptions raised inside the block into AwsFailure."""
    try:
        yield
    except bx.NoCredentialsError:
        raise AwsFailure(
            f"{what}: no AWS credentials found; set AWS_PROFILE (or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY), or sign in with `aws sso login`"
        ) from None
    except bx.PartialCredentialsError as exc:
        raise AwsFailure(f"{what}: incomplete AWS credentials ({exc}); set both the key id and the secret") from None
    except bx.ProfileNotFound as exc:
        raise AwsFailure(f"{what}: {exc}; check AWS_PROFILE against ~/.aws/config") from None
    except bx.NoRegionError:
        raise AwsFailure(f"{what}: no AWS region configured; set AWS_REGION") from None
    except (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ConnectionClosedError) as exc:
        raise AwsFailure(
            f"{what}: cannot reach {endpoint_hint()} ({exc}); check the URL and the network, "
            "or start the local endpoint with `make moto-server`"
        ) from None
    except bx.ReadTimeoutError as exc:
        raise AwsFailure(f"{what}: {endpoint_hint()} did not answer in time ({exc}); run it again") from None
    except bx.ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = str(error.get("Code", "")), error.get("Message", str(exc))
        if code in THROTTLING:
            hint = "throttled by AWS; wait a minute and run it again"
        elif code in EXPIRED:
            hint = "the credentials have expired; refresh them (e.g. `aws sso login`)"
        elif code in REJECTED:
            hint = "the credentials were rejected; check AWS_PROFILE or the access keys"
        elif code in DENIED:
            hint = (
                "access denied; the caller needs the CloudFormation, IAM and DynamoDB permissions listed in "
                "docs/pull-requests.md: The deploy role"
            )
        else:
            hint = f"AWS error {code or 'unknown'}"
        raise AwsFailure(f"{what}: {hint}: {message}") from None
    except bx.BotoCoreError as exc:
        raise AwsFailure(f"{what}: {exc}") from None
    except ResponseParserError:
        raise AwsFailure(
            f"{what}: {endpoint_hint()} answered with something that is not an AWS response (an HTTP 500 page?); "
            "check the endpoint, or the local server's log"
        ) from None
