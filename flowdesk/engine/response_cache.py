"""The response cache of API_CALL nodes: its key, what may be kept, and the memory part of it.

One `ResponseCache` per WorkflowExecutor (its memory, bounded by entries and bytes, least recently
used first out); answers of calls whose option says `"persist": true` are also kept in the database
(services/ and store/response_cache.py, through the engine's writer thread) and found there by
later runs and other engines. The key is the SHA-256
of the workflow, the method, the URL and query, the headers the option names (`vary`) and the body;
a request that carries a secret (a secret value, an auth, credentials in the URL, a masked header,
the run's cookies) is cached only with `"secrets": true`, and then its whole headers, auth and
cookies are part of the key, which is all the database keeps of them. docs/semantics.md §2.12.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from flowdesk.domain.response_cache import HIT_METRIC, CacheOption

if TYPE_CHECKING:  # pragma: no cover
    from .context import NodeContext
    from .http import HttpRequest, HttpResponse, Redactor

DEFAULT_MAX_ENTRIES = 1_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
_ENTRY_OVERHEAD = 512  # bytes counted per entry beside its body and headers
# What a kept answer copies from a response and gives back to one (besides its headers).
_SHARED = ("status", "reason", "body", "url", "method", "http_version", "elapsed_ms")


@dataclass(slots=True)
class CachedAnswer:
    """A kept answer: what a hit hands the node instead of a response from the server."""

    status: int
    reason: str
    headers: dict[str, str]
    body: bytes
    url: str
    method: str
    http_version: str
    elapsed_ms: float
    stored_at: float  # time.time() of the call that got it
    expires_at: float
    workflow_id: int | None = None

    @property
    def size(self) -> int:
        """Bytes it is counted as in the memory bound."""
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers.items()) + _ENTRY_OVERHEAD

    def response(self) -> HttpResponse:
        """A response object built from the kept answer (as the node's output shows it)."""
        from .http import HttpResponse

        return HttpResponse(headers=dict(self.headers), **{name: getattr(self, name) for name in _SHARED})

    def row(self, key: str, node_name: str, shown_url: str) -> dict[str, Any]:
        """Column values of the database row (store/response_cache.py)."""
        return {
            "key": key,
            "workflow_id": self.workflow_id,
            "node_name": node_name,
            "method": self.method,
            "url": shown_url,
            "status": self.status,
            "reason": self.reason,
            "headers": self.headers,
            "body": self.body,
            "http_version": self.http_version,
            "elapsed_ms": self.elapsed_ms,
            "stored_at": datetime.fromtimestamp(self.stored_at, UTC),
            "expires_at": datetime.fromtimestamp(self.expires_at, UTC),
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> CachedAnswer:
        """The answer of a database row (its URL as the row keeps it: masked)."""
        return cls(
            status=int(row["status"]),
            reason=row["reason"] or "",
            headers=dict(row["headers"] or {}),
            body=bytes(row["body"]),
            url=row["url"],
            method=row["method"],
            http_version=row["http_version"],
            elapsed_ms=float(row["elapsed_ms"]),
            stored_at=row["stored_at"].timestamp(),
            expires_at=row["expires_at"].timestamp(),
            workflow_id=row["workflow_id"],
        )


class ResponseCache:
    """The memory part: answers by key, least recently used dropped first past `max_entries` or
    `max_bytes`. `clock` (seconds since the epoch) decides expiry; one object per engine."""

    def __init__(
        self,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.clock = clock
        self._entries: OrderedDict[str, CachedAnswer] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        """Bytes the kept answers count for."""
        return self._bytes

    def get(self, key: str) -> CachedAnswer | None:
        """The unexpired answer of `key` (now the most recently used), or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at <= self.clock():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: str, entry: CachedAnswer) -> bool:
        """Keep `entry`; False when it alone is larger than the byte bound (not kept)."""
        if entry.size > self.max_bytes:
            return False
        if key in self._entries:
            self._drop(key)
        self._entries[key] = entry
        self._bytes += entry.size
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))
        return True

    def clear(self, workflow_id: int | None = None) -> int:
        """Forget the answers (of one workflow, or all); how many went."""
        keys = [k for k, e in self._entries.items() if workflow_id is None or e.workflow_id == workflow_id]
        for key in keys:
            self._drop(key)
        return len(keys)

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key)
        self._bytes -= entry.size


@dataclass(frozen=True, slots=True)
class CacheLookup:
    """A request the cache may answer: its key, and whether it carries a secret."""

    key: str
    secret: bool


def _body_part(request: HttpRequest) -> Any:
    if request.content is not None:
        return {"bytes": hashlib.sha256(request.content).hexdigest()}
    if request.form is not None:
        return {"form": request.form}
    return request.json


def carries_secret(request: HttpRequest, shown: Mapping[str, Any], cookie_header: str | None) -> bool:
    """Whether the request carries a secret: an auth, credentials in its URL, the run's cookies, or
    anything its shown form (`request.describe(redactor)`) masks in the URL, headers, query or body."""
    if request.auth or request.url_auth or cookie_header:
        return True
    raw = request.describe()
    return any(raw[part] != shown[part] for part in ("url", "headers", "query", "body"))


def lookup_for(
    request: HttpRequest,
    option: CacheOption,
    shown: Mapping[str, Any],
    workflow_id: int | None,
    cookie_header: str | None,
) -> CacheLookup | str:
    """The cache key of `request` under `option`, or why it is not cached (the end of a sentence)."""
    if request.method not in option.methods:
        return f"{request.method} is not among the cached methods"
    if request.save_to is not None or request.multipart is not None:
        return "a call with save_to or a multipart body is never cached"
    secret = carries_secret(request, shown, cookie_header)
    if secret and not option.secrets:
        return "the request carries a secret (set cache.secrets to cache it)"
    headers = {k.lower(): v for k, v in request.headers.items()}
    material: dict[str, Any] = {
        "workflow": workflow_id,
        "method": request.method,
        "url": request.url,
        "query": request.query,
        "vary": {name: headers.get(name) for name in option.vary},
        "body": _body_part(request),
    }
    if secret:
        material["secret"] = {
            "headers": headers,
            "auth": request.auth,
            "url_auth": request.url_auth,
            "cookie": cookie_header,
        }
    text = orjson.dumps(material, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)
    return CacheLookup(hashlib.sha256(text).hexdigest(), secret)


def cache_control_ttl(headers: Mapping[str, str], ttl: float) -> float:
    """The seconds an answer may be kept: the option's `ttl`, lowered by the answer's
    `Cache-Control: max-age`; 0 (not kept) for `no-store`, `no-cache` or `max-age=0`."""
    value = headers.get("cache-control", "").lower()
    for part in value.split(","):
        name, _, argument = part.strip().partition("=")
        if name in ("no-store", "no-cache"):
            return 0.0
        if name in ("max-age", "s-maxage"):
            try:
                ttl = min(ttl, max(0.0, float(argument.strip().strip('"'))))
            except ValueError:
                continue
    return ttl


def keepable(response: HttpResponse, body_limit: int | None) -> str | None:
    """Why a received answer is not kept (the end of a sentence), or None when it may be."""
    if not 200 <= response.status < 300:
        return f"the answer's status {response.status} is not a success (only 2xx answers are cached)"
    if response.truncated or (body_limit is not None and len(response.body) > body_limit):
        return "the answer's body is over the step's body limit"
    if response.cookies:
        return "the answer sets cookies"
    if response.body_file is not None:
        return "the answer went to a file"
    return None


def answer_of(response: HttpResponse, ttl: float, now: float, workflow_id: int | None) -> CachedAnswer:
    """The entry to keep for a received answer."""
    shared = {name: getattr(response, name) for name in _SHARED}
    return CachedAnswer(
        headers=dict(response.headers), stored_at=now, expires_at=now + ttl, workflow_id=workflow_id, **shared
    )


def persistable(entry: CachedAnswer, redactor: Redactor) -> bool:
    """Whether an answer may go to the database: not when a secret of the run occurs in it (a server
    echoing a token back), since the database keeps the answer as it came."""
    if redactor.occurs_in(entry.body):
        return False
    return redactor.scrub_value(entry.headers) == entry.headers


def _age_text(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"


class CacheUse:
    """One API_CALL step's use of the cache: look the request up, else keep the answer it gets."""

    __slots__ = ("ctx", "executor", "lookup", "option", "redactor", "shown_url")

    def __init__(
        self, ctx: NodeContext, executor: Any, option: CacheOption, lookup: CacheLookup, redactor: Redactor
    ) -> None:
        self.ctx = ctx
        self.executor = executor
        self.option = option
        self.lookup = lookup
        self.redactor = redactor
        self.shown_url = ""

    @classmethod
    def start(
        cls,
        ctx: NodeContext,
        option: CacheOption | None,
        request: HttpRequest,
        shown: Mapping[str, Any],
        redactor: Redactor,
        cookie_header: str | None,
    ) -> CacheUse | None:
        """The cache use of this step, or None when its call is not cached (said in a debug line)."""
        executor = getattr(ctx.runtime, "executor", None)
        if option is None or executor is None:
            return None
        found = lookup_for(request, option, shown, ctx.execution.workflow_id, cookie_header)
        if isinstance(found, str):
            ctx.log("debug", f"not cached: {found}")
            return None
        use = cls(ctx, executor, option, found, redactor)
        use.shown_url = str(shown["url"])
        return use

    async def answer(self) -> HttpResponse | None:
        """The kept answer of the request (memory, then the database with `persist`), or None."""
        memory: ResponseCache = self.executor.response_cache
        entry = memory.get(self.lookup.key)
        if entry is None and self.option.persist:
            from flowdesk.services.response_cache import ResponseCacheService

            now, key = datetime.fromtimestamp(memory.clock(), UTC), self.lookup.key
            row = await self._in_database("read", lambda db: ResponseCacheService(db).find(key, now))
            if row is not None:
                entry = CachedAnswer.from_row(row)
                memory.put(self.lookup.key, entry)
        ctx = self.ctx
        ctx.record_metric("cached", entry is not None)
        ctx.record_metric(HIT_METRIC, 1 if entry is not None else 0)
        if entry is None:
            return None
        age = max(0.0, memory.clock() - entry.stored_at)
        ctx.record_metric("cache_age_s", round(age, 3))
        ctx.log("info", f"{entry.method} {self.shown_url}: served from cache (age {_age_text(age)})")
        return entry.response()

    async def keep(self, response: HttpResponse, body_limit: int | None) -> None:
        """Keep a received answer when it may be kept (a debug line says why not)."""
        why = keepable(response, body_limit)
        ttl = cache_control_ttl(response.headers, self.option.ttl)
        if why is None and ttl <= 0:
            why = "the answer's Cache-Control forbids it"
        if why is not None:
            self.ctx.log("debug", f"not cached: {why}")
            return
        memory: ResponseCache = self.executor.response_cache
        entry = answer_of(response, ttl, memory.clock(), self.ctx.execution.workflow_id)
        memory.put(self.lookup.key, entry)
        if not self.option.persist:
            return
        if not persistable(entry, self.redactor):
            self.ctx.log("debug", "not kept in the database: a secret of the run occurs in the answer")
            return
        from flowdesk.services.response_cache import ResponseCacheService

        row = entry.row(self.lookup.key, self.ctx.node.name, self.redactor.url(entry.url))
        await self._in_database("written", lambda db: ResponseCacheService(db).keep(row))

    async def _in_database(self, what: str, fn: Callable[[Any], Any]) -> Any:
        """`fn(database)` on the engine's writer thread; a database that fails it costs the step
        nothing but a warning (the cache only saves calls): None then."""
        from flowdesk.domain.errors import FlowdeskError

        try:
            return await self.executor.on_writer(fn)
        except Exception as exc:  # noqa: BLE001 - any failure of the database: the call goes on
            # a FlowdeskError's sentence, else only the kind: a driver's text may quote row values
            why = exc.message if isinstance(exc, FlowdeskError) else type(exc).__name__
            self.ctx.log("warning", f"the response cache in the database could not be {what} ({why})")
            return None
