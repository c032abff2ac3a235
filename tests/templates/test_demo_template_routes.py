"""The demo endpoints the templates call (flowdesk/demo/template_routes.py), asked directly."""

from __future__ import annotations

import httpx


def test_items_pages_with_a_next_link(http_server):
    with httpx.Client(base_url=http_server.url) as client:
        first = client.get("/items", params={"per_page": 4, "total": 6})
        assert [i["id"] for i in first.json()["items"]] == [1, 2, 3, 4]
        next_url = first.json()["next"]
        assert first.headers["link"] == f'<{next_url}>; rel="next"'
        last = client.get(next_url)
        assert [i["id"] for i in last.json()["items"]] == [5, 6]
        assert last.json()["next"] is None and "link" not in last.headers
        assert client.get("/items", params={"page": "two"}).status_code == 400


def test_a_job_is_done_after_its_polls(http_server):
    with httpx.Client(base_url=http_server.url) as client:
        job = client.post("/jobs", json={"polls": 2, "input": 7})
        assert job.status_code == 202
        url = job.json()["location"]
        assert client.get(url).json()["status"] == "running"
        done = client.get(url).json()
        assert done["status"] == "done" and done["result"] == {"input": 7, "answer": 42}
        assert client.get("/jobs/99999").status_code == 404


def test_notes_crud(http_server):
    with httpx.Client(base_url=http_server.url) as client:
        created = client.post("/notes", json={"title": "t" * 50, "body": "b"})
        assert created.status_code == 201 and created.json()["title"] == "t" * 40
        url = created.headers["location"]
        assert client.put(url, json={"title": "new"}).json() == {
            "id": created.json()["id"],
            "title": "new",
            "body": "",
        }
        assert client.patch(url, json={"body": "x"}).json()["title"] == "new"
        assert client.delete(url).status_code == 204
        assert client.get(url).status_code == 404
        assert client.post("/notes", json=["no title"]).status_code == 422


def test_health_goes_down_and_up(http_server):
    with httpx.Client(base_url=http_server.url) as client:
        assert client.get("/health/cache").json() == {"service": "cache", "status": "up"}
        client.post("/health/cache/down")
        assert client.get("/health/cache").status_code == 503
        assert client.get("/health").json() == {"down": ["cache"]}
        client.post("/health/cache/up")
        assert client.get("/health/cache").status_code == 200


def test_two_api_versions_and_the_backup(http_server):
    with httpx.Client(base_url=http_server.url) as client:
        assert client.get("/api/v1/users/5").json() == {
            "id": 5,
            "name": "User 5",
            "email": "user5@example.com",
        }
        v2 = client.get("/api/v2/users/5").json()
        assert v2["display_name"] == "User 5" and v2["contact"] == {"email": "user5@example.com"}
        assert client.get("/api/v2/users/21").json()["contact"]["email"] == "user21@example.org"
        assert client.get("/api/v3/users/1").status_code == 404
        assert client.get("/backup/k").json()["source"] == "backup"
