"""The web UI: server-rendered pages, their scripts and styles."""
