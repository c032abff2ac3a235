"""The app's audit viewer: File > Audit log… lists who changed what, filtered by workflow, actor and time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QDateTime, Qt

from flowdesk.store.audit_trail import acting_as, current_actor
from flowdesk.ui.audit_dialog import AuditDialog
from tests.support.canvas_driving import open_sample_tab


def _column(dialog, column: int) -> list[str]:
    return [dialog.table.item(r, column).text() for r in range(dialog.table.rowCount())]


def test_the_audit_log_shows_actors_and_filters(window, backend, qtbot):
    tab = open_sample_tab(window)
    other = backend.workflows.create_workflow("someone else's")
    with acting_as("alice"):  # as the REST server records a request by its token's user
        backend.workflows.update_workflow(tab.workflow_id, description="changed by alice")

    window.action_audit.trigger()  # File > Audit log…
    dialog = window.findChild(AuditDialog, "auditDialog")
    assert dialog.workflow.currentData() == tab.workflow_id  # opened on the current workflow
    actors = _column(dialog, 1)
    assert "alice" in actors and current_actor() in actors
    assert all("someone else's" not in s for s in _column(dialog, 4))

    qtbot.keyClicks(dialog.actor, "alice")
    qtbot.keyClick(dialog.actor, Qt.Key.Key_Return)
    assert set(_column(dialog, 1)) == {"alice"}

    dialog.actor.clear()
    dialog.workflow.setCurrentIndex(dialog.workflow.findData(None))
    assert any(str(other.id) in s for s in _column(dialog, 3))

    dialog.use_since.setChecked(True)
    dialog.since.setDateTime(
        QDateTime.fromSecsSinceEpoch(int((datetime.now(UTC) + timedelta(hours=1)).timestamp()))
    )
    assert dialog.table.rowCount() == 0 and dialog.count.text().startswith("0 entries")
