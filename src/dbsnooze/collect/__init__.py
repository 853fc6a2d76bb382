"""Collection: window arithmetic, batching and throttling shared by live collection and backfill."""
