"""The desktop editor (PySide6): document model, undo commands, canvas, docks and dialogs."""

from .none_refcount_guard import protect_none_refcount

protect_none_refcount()
