"""The Celery worker door (docs/scale-out.md): `flowdesk worker` runs queued executions.

runtime.py holds the process's engine (one asyncio loop, one WorkflowExecutor) and the rules for
taking a message: claim a pending run, leave a live worker's run alone, take over a dead worker's
run by resuming it. celery_app.py is the thin Celery side: the task, the delivery settings.
"""
