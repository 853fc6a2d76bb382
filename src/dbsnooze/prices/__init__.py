"""On-demand prices of instance classes: a table the user supplies, refreshes or the demo ships."""
