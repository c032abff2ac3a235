"""HTTP for API_CALL nodes: the pooled client, request building, responses, retries, redaction.

`HttpClient` is the engine's shared client (one per WorkflowExecutor); docs/http.md explains the
choices (transport, retries, body cap, redaction).
"""

from __future__ import annotations

from .client import HttpClient
from .errors import ConnectionFailedError, HttpCallError, HttpStatusError, RequestTimedOutError
from .redaction import Redactor
from .request import HttpRequest, build_request
from .response import DEFAULT_BODY_LIMIT, HttpResponse
from .retry import RETRY_STATUSES, RetryPolicy, parse_retry_after, send_with_retries

__all__ = [
    "DEFAULT_BODY_LIMIT",
    "RETRY_STATUSES",
    "ConnectionFailedError",
    "HttpCallError",
    "HttpClient",
    "HttpRequest",
    "HttpResponse",
    "HttpStatusError",
    "Redactor",
    "RequestTimedOutError",
    "RetryPolicy",
    "build_request",
    "parse_retry_after",
    "send_with_retries",
]
