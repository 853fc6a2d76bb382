"""Persisted background jobs: the queue in the store, the backfill they run, the worker loop."""
