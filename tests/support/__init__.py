"""Test support shared by every suite: the local HTTP server and its pytest fixture."""
