"""The demo endpoints the template library (resources/templates/, docs/templates.md) calls, mixed into
`DemoApp`. Each one behaves like a small real service, keeps its records in the app's `ServerState`
and is cleared by ``/reset``:

- ``/items?page=N&per_page=K&total=T``: a paged list (T items, default 23; K per page, default 10);
  ``next`` is the absolute URL of the following page (also a ``Link: <...>; rel="next"`` header),
  null on the last page.
- ``POST /jobs`` with ``{"polls": N, "input": ...}``: 202 and a job id; ``GET /jobs/{id}`` answers
  ``"status": "running"`` until it has been asked N times (default 3), then ``"done"`` with a result.
- ``/backup/{key}``: the backup service a failing primary falls back to (counted under ``backup``).
- ``/api/v1/users/{id}`` and ``/api/v2/users/{id}``: one user in two API versions (v2 renames
  ``name`` to ``display_name`` and nests ``email`` under ``contact``); for ids divisible by 7 v2's
  email differs (a migration bug to find).
- ``/notes``: a CRUD resource. POST creates (201; the title is cut at 40 characters, as some real
  services do), GET lists or reads one, PUT replaces, PATCH merges, DELETE answers 204, an unknown
  id 404.
- ``/health/{service}``: 200 ``{"status": "up"}``, or 503 after ``POST /health/{service}/down``
  (``POST /health/{service}/up`` brings it back).
- ``/alerts``: POST records an alert (a webhook's stand-in), GET lists them.
- ``/products/{id}?delay=S``: a product, answered after S seconds (at most 5); the most requests
  in flight at once is ``/count/products_inflight_max``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .app import Request, Response, ServerState, json_log

MAX_PRODUCT_DELAY = 5.0
NOTE_TITLE_LIMIT = 40


class TemplateRoutes:
    """The template library's endpoints (see the module docstring), over the app's state."""

    def __init__(self, state: ServerState) -> None:
        self.state = state

    @staticmethod
    def _not_found(req: Request) -> Response:
        return Response({"error": f"no route for {req.path}"}, status=404)

    @staticmethod
    def _int(text: str, what: str) -> int:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{what} {text!r} is not a whole number") from None

    async def r_items(self, req: Request, rest: list[str]) -> Response:
        page = max(self._int(req.query.get("page", "1"), "page"), 1)
        per_page = min(max(self._int(req.query.get("per_page", "10"), "per_page"), 1), 100)
        total = min(max(self._int(req.query.get("total", "23"), "total"), 0), 10_000)
        first = (page - 1) * per_page + 1
        items = [{"id": i, "name": f"Item {i}"} for i in range(first, min(first + per_page, total + 1))]
        headers = {}
        next_url = None
        if first + per_page <= total:
            host = req.headers.get("host", "127.0.0.1")
            next_url = f"http://{host}/items?page={page + 1}&per_page={per_page}&total={total}"
            headers["Link"] = f'<{next_url}>; rel="next"'
        body = {"items": items, "page": page, "per_page": per_page, "total": total, "next": next_url}
        return Response(body, headers=headers)

    async def r_jobs(self, req: Request, rest: list[str]) -> Response:
        jobs = self.state.jobs
        if not rest:
            if req.method != "POST":
                return Response(list(jobs.values()))
            data = req.json() if isinstance(req.json(), dict) else {}
            polls = min(max(self._int(str(data.get("polls", 3)), "polls"), 1), 1000)
            with self.state.lock:
                job_id = len(jobs) + 1
                jobs[job_id] = {
                    "id": job_id,
                    "status": "queued",
                    "polls_needed": polls,
                    "polls": 0,
                    "input": data.get("input"),
                }
            return Response({"id": job_id, "status": "queued", "location": f"/jobs/{job_id}"}, status=202)
        job = jobs.get(self._int(rest[0], "job id"))
        if job is None:
            return self._not_found(req)
        with self.state.lock:
            job["polls"] += 1
            if job["polls"] >= job["polls_needed"]:
                job["status"] = "done"
                job["result"] = {"input": job["input"], "answer": 42}
            else:
                job["status"] = "running"
            return Response(dict(job))

    async def r_backup(self, req: Request, rest: list[str]) -> Response:
        key = rest[0] if rest else "default"
        return Response({"key": key, "source": "backup", "attempt": self.state.hit("backup"), "ok": True})

    async def r_api(self, req: Request, rest: list[str]) -> Response:
        if len(rest) != 3 or rest[0] not in ("v1", "v2") or rest[1] != "users":
            return self._not_found(req)
        user_id = self._int(rest[2], "user id")
        if not 1 <= user_id <= 100:
            return Response({"error": "user not found", "id": user_id}, status=404)
        name, email = f"User {user_id}", f"user{user_id}@example.com"
        if rest[0] == "v1":
            return Response({"id": user_id, "name": name, "email": email})
        if user_id % 7 == 0:
            email = f"user{user_id}@example.org"
        return Response({"id": user_id, "display_name": name, "contact": {"email": email}, "version": 2})

    async def r_notes(self, req: Request, rest: list[str]) -> Response:
        notes = self.state.notes
        if not rest:
            if req.method == "POST":
                data = req.json()
                if not isinstance(data, dict) or not isinstance(data.get("title"), str):
                    return Response({"error": 'send a JSON object with a "title"'}, status=422)
                with self.state.lock:
                    note_id = next(self.state.note_ids)
                    notes[note_id] = self._note(note_id, data)
                return Response(notes[note_id], status=201, headers={"Location": f"/notes/{note_id}"})
            return Response(list(notes.values()))
        note_id = self._int(rest[0], "note id")
        if note_id not in notes or rest[1:]:
            return Response({"error": "note not found", "id": note_id}, status=404)
        if req.method == "DELETE":
            with self.state.lock:
                notes.pop(note_id, None)
            return Response(status=204)
        if req.method in ("PUT", "PATCH"):
            data = req.json()
            if not isinstance(data, dict):
                return Response({"error": "send a JSON object"}, status=422)
            base = notes[note_id] if req.method == "PATCH" else {}
            with self.state.lock:
                notes[note_id] = self._note(note_id, {**base, **data})
        return Response(notes[note_id])

    @staticmethod
    def _note(note_id: int, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": note_id,
            "title": str(data.get("title", ""))[:NOTE_TITLE_LIMIT],
            "body": data.get("body", ""),
        }

    async def r_health(self, req: Request, rest: list[str]) -> Response:
        if not rest:
            return Response({"down": sorted(self.state.down)})
        service = rest[0]
        if rest[1:] in (["down"], ["up"]) and req.method == "POST":
            with self.state.lock:
                (self.state.down.add if rest[1] == "down" else self.state.down.discard)(service)
            return Response({"service": service, "status": rest[1]})
        if rest[1:]:
            return self._not_found(req)
        if service in self.state.down:
            return Response({"service": service, "status": "down"}, status=503)
        return Response({"service": service, "status": "up"})

    async def r_alerts(self, req: Request, rest: list[str]) -> Response:
        return json_log(self.state, self.state.alerts, "alert", req)

    async def r_products(self, req: Request, rest: list[str]) -> Response:
        product_id = self._int(rest[0], "product id") if rest else 0
        if not 1 <= product_id <= 1000:
            return Response({"error": "product not found", "id": product_id}, status=404)
        delay = min(max(float(req.query.get("delay", "0")), 0.0), MAX_PRODUCT_DELAY)
        counts = self.state.counts
        with self.state.lock:
            counts["products_inflight"] += 1
            counts["products_inflight_max"] = max(
                counts["products_inflight_max"], counts["products_inflight"]
            )
        try:
            await asyncio.sleep(delay)
        finally:
            with self.state.lock:
                counts["products_inflight"] -= 1
        return Response({"id": product_id, "name": f"Product {product_id}", "price": 1.25 * product_id})
