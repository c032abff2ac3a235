"""The async Python API: preview and import APIs, environments, secrets, run values."""

from __future__ import annotations

import asyncio

from flowdesk.services.orchestrator import WorkflowOrchestrator

from .conftest import FIXTURES


def test_orchestrator_imports_and_gives_run_values(db):
    async def go():
        orch = WorkflowOrchestrator(db)
        data = (FIXTURES / "collection-v2.1.json").read_bytes()
        plan = await orch.preview_api_import(data)
        assert plan.counts()["add"] == len(plan.items) and await orch.list_apis() == []
        report = await orch.import_apis(data, selected=[plan.items[0].name], environment="dev")
        assert [a.name for a in report.added] == [plan.items[0].name]
        await orch.set_environment("prod", {"baseUrl": "https://prod"}, activate=True)
        await orch.set_secret("extra", "xyz-secret")
        variables, secrets = await orch.run_values()
        assert variables == {"baseUrl": "https://prod"}
        assert secrets == {"accessToken": "tok-123", "extra": "xyz-secret"}
        assert (await orch.run_values("dev"))[0]["baseUrl"] == "https://tasks.example.test/api"

    asyncio.run(go())
