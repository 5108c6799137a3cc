"""The wallet core (Qt-free): keys, accounts, balances, transfers, escrow, history."""
