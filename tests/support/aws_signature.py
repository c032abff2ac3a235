"""The AWS Signature v4 a received request should carry, computed independently of flowdesk (written
from AWS's documentation)."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

from tests.support.raw_http_server import RawRequest


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def expected_signature(request: RawRequest, secret: str) -> tuple[str, str]:
    """(the signature AWS would compute for this received request, the one it carries)."""
    authorization = request.header("authorization")
    algorithm, _, rest = authorization.partition(" ")
    assert algorithm == "AWS4-HMAC-SHA256"
    fields = dict(part.strip().split("=", 1) for part in rest.split(","))
    access_key, date, region, service, terminal = fields["Credential"].split("/")
    assert terminal == "aws4_request"
    signed = fields["SignedHeaders"].split(";")
    amz_date = request.header("x-amz-date")
    payload = hashlib.sha256(request.body).hexdigest()
    assert request.header("x-amz-content-sha256") in (None, payload)  # curl leaves it out outside S3
    query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(request.query))
    headers = "".join(f"{name}:{' '.join(request.header(name).split())}\n" for name in signed)
    canonical = "\n".join(
        [request.method, quote(request.path, safe="/-_.~"), query, headers, ";".join(signed), payload]
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), date), region), service), "aws4_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), fields["Signature"]
