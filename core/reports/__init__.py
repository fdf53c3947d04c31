"""Reports (daily/monthly), usage graphs, and the numbers behind them."""
