"""The staff pages, one router module per kind of user (auth: login, logout, the start page)."""
