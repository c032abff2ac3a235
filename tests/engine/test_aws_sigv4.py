"""AWS Signature v4 auth: what flowdesk sends to a raw server on 127.0.0.1 carries a signature that an
independent implementation of the AWS algorithm (written here from AWS's documentation) accepts, computed
from the bytes the server received."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from flowdesk.domain.models import ApiDefinition
from flowdesk.engine.http import HttpClient
from flowdesk.ui.api_library.trial_request import send_trial
from tests.support.aws_signature import expected_signature
from tests.support.raw_http_server import RawHttpServer

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.fixture(scope="module")
def raw_server():
    server = RawHttpServer().start()
    yield server
    server.close()


def _send(server, api, secrets):
    async def run():
        async with HttpClient() as client:
            trial = await send_trial(client, api, environment={}, secrets=secrets)
            assert trial.error == "", trial.error
            return server.next_request()

    return asyncio.run(run())


AUTH = {
    "type": "aws_sigv4",
    "access_key": "AKIDEXAMPLE",
    "secret_key": "{{secrets.aws_secret}}",
    "region": "eu-west-1",
    "service": "execute-api",
}


@pytest.mark.parametrize(
    ("method", "query", "body", "extra"),
    [
        ("GET", {"b": "2", "a": "x y", "z": ["1", "0"]}, None, {}),
        ("POST", {}, {"name": "Ann", "n": [1, 2]}, {"X-Trace": "7"}),
        ("PUT", {"k": "ü"}, "plain text body", {}),
    ],
)
def test_the_signature_is_the_one_aws_computes_from_what_was_received(raw_server, method, query, body, extra):
    api = ApiDefinition(
        name="signed",
        method=method,
        url=f"{raw_server.url}/prod/items/42",
        query=query,
        body=body,
        headers=extra,
        auth=AUTH,
    )
    got = _send(raw_server, api, {"aws_secret": SECRET})
    computed, carried = expected_signature(got, SECRET)
    assert carried == computed
    assert "host" in got.header("authorization")
    assert got.header("x-amz-content-sha256") == hashlib.sha256(got.body).hexdigest()
    assert expected_signature(got, "another secret")[0] != carried


def test_temporary_credentials_send_their_session_token_signed(raw_server):
    api = ApiDefinition(
        name="signed",
        url=f"{raw_server.url}/x",
        auth={**AUTH, "session_token": "{{secrets.aws_token}}"},
    )
    got = _send(raw_server, api, {"aws_secret": SECRET, "aws_token": "FQoGZXIvYXdzE"})
    assert got.header("x-amz-security-token") == "FQoGZXIvYXdzE"
    assert "x-amz-security-token" in got.header("authorization")
    computed, carried = expected_signature(got, SECRET)
    assert carried == computed


def test_a_missing_setting_is_one_sentence(raw_server):
    api = ApiDefinition(name="signed", url=f"{raw_server.url}/x", auth={**AUTH, "region": ""})

    async def run():
        async with HttpClient() as client:
            return await send_trial(client, api, environment={}, secrets={"aws_secret": SECRET})

    assert asyncio.run(run()).error.endswith("aws_sigv4 auth needs a non-empty 'region'")
