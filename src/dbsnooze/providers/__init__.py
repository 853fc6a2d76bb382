"""Cloud providers: one package per cloud, each converting SDK answers into domain types."""
