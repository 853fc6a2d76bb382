"""Sleep-window analysis: the idle rule, owner zones, weekly patterns, windows, backtests."""
