"""Why one HTTP call failed, classified the way steps report it (error_type)."""

from __future__ import annotations

import asyncio
import socket
import ssl
import sys
from typing import TYPE_CHECKING, Any

import httpx

from flowdesk.domain.errors import FlowdeskError

from .body import BodyError
from .http1 import PoolClosedError, ProtocolError, ServerDisconnectedError

if TYPE_CHECKING:
    from .response import HttpResponse


class HttpCallError(FlowdeskError):
    """An HTTP call that did not give a usable answer; `error_type` as in engine.errors.ERROR_TYPES.

    `response` is the last response when the server answered (an unaccepted status), `attempts`
    how many attempts were made.
    """

    error_type = "other"

    def __init__(
        self,
        message: str,
        *,
        error_type: str | None = None,
        response: HttpResponse | None = None,
        attempts: int = 1,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        if error_type is not None:
            self.error_type = error_type
        self.response = response
        self.attempts = attempts
        self.status = status if status is not None else (response.status if response is not None else None)


class ConnectionFailedError(HttpCallError):
    """No connection could be made or kept: refused, unknown host, TLS failure, connection reset."""

    error_type = "connection"


class RequestTimedOutError(HttpCallError):
    """The attempt did not finish within its timeout (or the execution's deadline)."""

    error_type = "timeout"


class HttpStatusError(HttpCallError):
    """The server answered with a status outside 2xx that the node does not accept."""

    def __init__(self, message: str, *, response: HttpResponse, attempts: int = 1) -> None:
        kind = "http_5xx" if response.status >= 500 else "http_4xx" if response.status >= 400 else "other"
        super().__init__(message, error_type=kind, response=response, attempts=attempts)


class NonHttpRedirectError(ValueError):
    """A redirect pointed at a URL that is not http(s) (file://, gopher://...): never followed."""

    def __init__(self, scheme: str) -> None:
        super().__init__(scheme)
        self.scheme = scheme


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


class _NotRaised(Exception):
    """Stands in for an aiohttp exception class while aiohttp is not loaded: none can exist then."""


def aiohttp_error(name: str) -> type[BaseException]:
    """aiohttp's exception class `name` if aiohttp is loaded, else a class nothing raises.

    aiohttp is imported only by the transports that use it (it costs some 0.4 s at start-up), so the
    default transport's errors are classified without loading it."""
    module = sys.modules.get("aiohttp")
    return getattr(module, name) if module is not None else _NotRaised


def _aiohttp_processing_error() -> type[BaseException]:
    """aiohttp's HttpProcessingError when aiohttp is loaded (it lives in a submodule)."""
    module = sys.modules.get("aiohttp.http_exceptions")
    return getattr(module, "HttpProcessingError", _NotRaised) if module is not None else _NotRaised


def classify_transport_error(exc: BaseException, method: str, url: str) -> HttpCallError:
    """One plain sentence for a transport exception, classified as connection or timeout.

    The cause chain is read rather than the httpx class alone: the aiohttp transport maps every
    aiohttp connection error to httpx.ConnectTimeout, so a refused connection would look like a
    timeout.
    """
    chain = _chain(exc)

    def has(*types: type[BaseException]) -> bool:
        return any(isinstance(e, types) for e in chain)

    where = f"{method} {url}"
    refused = next((e for e in chain if isinstance(e, NonHttpRedirectError)), None)
    if refused is not None:
        return HttpCallError(f"{where} failed: redirect to a non-HTTP URL ({refused.scheme}:) refused")
    aiohttp_refused = next(
        (e for e in chain if isinstance(e, aiohttp_error("NonHttpUrlRedirectClientError"))), None
    )
    if aiohttp_refused is not None:  # the aiohttp transport follows redirects itself
        scheme = str(aiohttp_refused.args[0] if aiohttp_refused.args else "").split(":", 1)[0]
        return HttpCallError(f"{where} failed: redirect to a non-HTTP URL ({scheme}:) refused")
    proxy_error = next((e for e in chain if isinstance(e, httpx.ProxyError)), None)
    if proxy_error is not None:
        detail = f" ({proxy_error})" if str(proxy_error) else ""
        return ConnectionFailedError(f"{where} failed: the proxy refused the request{detail}")
    if has(ConnectionRefusedError):
        return ConnectionFailedError(f"{where} failed: the connection was refused (is the server running?)")
    if has(socket.gaierror) or has(aiohttp_error("ClientConnectorDNSError")):
        return ConnectionFailedError(f"{where} failed: the host name could not be resolved")
    if has(ssl.SSLError, aiohttp_error("ClientSSLError")):
        reason = next((str(e) for e in chain if isinstance(e, ssl.SSLError)), "")
        detail = f" ({reason})" if reason else ""
        return ConnectionFailedError(f"{where} failed: the TLS handshake failed{detail}")
    body_error = next((e for e in chain if isinstance(e, BodyError)), None)
    if body_error is not None:  # not a connection problem: sending again would not help
        return HttpCallError(f"{where} failed: {body_error}")
    protocol = next((e for e in chain if isinstance(e, ProtocolError)), None)
    if protocol is not None:  # before httpx's RemoteProtocolError, which the httpx transport wraps it in
        return ConnectionFailedError(f"{where} failed: {protocol}")
    if has(httpx.DecodingError):
        reason = next((str(e) for e in chain if isinstance(e, httpx.DecodingError)), "")
        return ConnectionFailedError(f"{where} failed: the body could not be decoded ({reason})")
    malformed = next((e for e in chain if isinstance(e, _aiohttp_processing_error())), None)
    if malformed is not None:  # aiohttp's parser refused the answer
        detail = (
            " ".join(str(getattr(malformed, "message", malformed)).split()).split(":", 1)[0]
            or type(malformed).__name__
        )
        return ConnectionFailedError(f"{where} failed: the server's answer was not valid HTTP ({detail})")
    if has(PoolClosedError):
        return HttpCallError(f"{where} was not sent: the engine is shutting down")
    disconnected = next((e for e in chain if isinstance(e, ServerDisconnectedError)), None)
    if disconnected is not None and disconnected.answered:
        return ConnectionFailedError(
            f"{where} failed: the server closed the connection before its answer was complete"
        )
    if disconnected is not None or has(aiohttp_error("ServerDisconnectedError"), httpx.RemoteProtocolError):
        return ConnectionFailedError(f"{where} failed: the server closed the connection without answering")
    if has(aiohttp_error("ClientConnectorError"), httpx.ConnectError):
        return ConnectionFailedError(f"{where} failed: could not connect to the server")
    if has(aiohttp_error("ServerTimeoutError"), asyncio.TimeoutError, httpx.TimeoutException):
        return RequestTimedOutError(f"{where} timed out")
    if has(httpx.InvalidURL, httpx.UnsupportedProtocol, aiohttp_error("InvalidURL")):
        return HttpCallError(f"{where} failed: the URL is not a valid http(s) URL")
    if has(httpx.TransportError, aiohttp_error("ClientError"), OSError):
        return ConnectionFailedError(f"{where} failed: the connection broke ({type(chain[-1]).__name__})")
    return HttpCallError(f"{where} failed: {type(exc).__name__}")


def describe_value(value: Any) -> str:
    """A short text for a value in an error message."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
