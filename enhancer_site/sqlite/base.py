"""sqlite3 would create the database file 0644 (and its -wal/-shm files copy that mode): the file
is created 0600 first, in a 0700 folder, so other local users cannot read accounts, tokens or
face embeddings. Done on the first connection, not when settings are imported: a command that
never touches the database (``--help``, ``check``) creates nothing."""

from __future__ import annotations

import os
from pathlib import Path

from django.db.backends.sqlite3 import base

from enhancer_site import private_folders


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        name = str(conn_params.get("database") or "")
        if name and name != ":memory:" and not name.startswith("file:"):
            private_folders.make(Path(name).parent)
            if not os.path.exists(name):
                os.close(os.open(name, os.O_CREAT | os.O_WRONLY, 0o600))
        return super().get_new_connection(conn_params)
