"""AWS Signature Version 4 for API calls whose auth is `{"type": "aws_sigv4", ...}`, by botocore's signer.

A signature covers the method, URL, query, headers and the body's hash, so it is made from the request's
final bytes (engine/http/client.py calls `sigv4_headers` where it prepares them), once per attempt.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowdesk.domain.errors import InvalidInputError

# Headers the transport may change or add after signing; they are left out of the signature.
_UNSIGNED = frozenset({"user-agent", "accept-encoding", "connection", "content-length", "expect"})


def sigv4_headers(
    auth: Mapping[str, Any], method: str, url: str, headers: Mapping[str, str], body: bytes | None
) -> dict[str, str]:
    """The headers that sign this request: Authorization, X-Amz-Date, X-Amz-Content-Sha256 (and
    X-Amz-Security-Token with temporary credentials)."""
    # botocore ships no type information (boto3-stubs would be a large dev dependency for three names)
    from botocore.auth import SigV4Auth  # type: ignore[import-untyped]
    from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
    from botocore.credentials import Credentials  # type: ignore[import-untyped]

    access_key = _required(auth, "access_key")
    secret_key = _required(auth, "secret_key")
    region = _required(auth, "region")
    service = _required(auth, "service")
    token = str(auth.get("session_token") or "") or None
    signed = {k: v for k, v in headers.items() if k.lower() not in _UNSIGNED}
    request = AWSRequest(method=method, url=url, data=body or b"", headers=signed)
    signer = SigV4Auth(Credentials(access_key, secret_key, token), service, region)
    # the body's hash is always sent (and signed), as S3 requires and every other service accepts
    request.headers["X-Amz-Content-SHA256"] = signer.payload(request)
    signer.add_auth(request)
    out = {
        "Authorization": request.headers["Authorization"],
        "X-Amz-Date": request.headers["X-Amz-Date"],
        "X-Amz-Content-SHA256": request.headers["X-Amz-Content-SHA256"],
    }
    if token:
        out["X-Amz-Security-Token"] = request.headers["X-Amz-Security-Token"]
    return out


def _required(auth: Mapping[str, Any], key: str) -> str:
    value = auth.get(key)
    if value is None or value == "":
        raise InvalidInputError(f"aws_sigv4 auth needs a non-empty '{key}'")
    return str(value)
