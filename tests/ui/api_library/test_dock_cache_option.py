"""The API library editor's Cache field: a definition's response cache option typed as JSON, saved
with the definition, shown again, and a bad one refused in one sentence naming the field."""

from __future__ import annotations

from flowdesk.services import ApiService


def test_the_editor_saves_shows_and_checks_the_cache_option(qtbot, db, panel):
    panel.new_api()
    form = panel.form
    qtbot.keyClicks(form.name, "users")
    qtbot.keyClicks(form.url, "https://api.example.com/users")
    qtbot.keyClicks(form.cache, '{"ttl": 120, "persist": true}')
    api = panel.save()
    assert api is not None
    assert ApiService(db).get_api(api.id).cache == {"ttl": 120, "persist": True}
    form.load(None)
    assert form.cache.toPlainText() == ""
    form.load(ApiService(db).get_api(api.id))
    assert '"ttl": 120' in form.cache.toPlainText()
    form.cache.selectAll()
    qtbot.keyClicks(form.cache, '{"ttl": 0}')
    assert panel.save() is None  # refused: the stored option stays
    assert panel.message.text() == (
        "Cache: ttl: expected a number above 0 and at most 31,536,000, found the number 0."
    )
    assert ApiService(db).get_api(api.id).cache == {"ttl": 120, "persist": True}
    form.cache.selectAll()
    form.cache.insertPlainText("")  # emptied: not cached
    assert panel.save() is not None and ApiService(db).get_api(api.id).cache is None
