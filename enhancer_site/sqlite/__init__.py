"""Django's SQLite backend, making its database file private (0600) when it first opens it."""
