"""The database's half of a backup: a dump of the whole database to one file, and its restore over the database that
the settings name. The other half is the keyring (PORTAL_KEYRING), kept apart from the dump: the dump's secrets are
sealed with it, so the dump alone opens none of them (README, "Backup and restore").

PostgreSQL: `pg_dump --format=custom` and `pg_restore --clean --if-exists --single-transaction` (the client programs
of the server's major version, from Debian's postgresql-client). SQLite: its online backup API, page by page, which
copies a consistent state while the portal keeps running and writes the same way back.
"""

import os
import sqlite3
import subprocess
from pathlib import Path

from django.db import connection


class BackupFailed(Exception):
    pass


def _postgres_environment() -> tuple[list[str], dict[str, str]]:
    """libpq's connection options and environment for the client programs, from the database settings."""
    settings = connection.settings_dict
    environment = os.environ.copy()
    if settings.get("PASSWORD"):
        environment["PGPASSWORD"] = settings["PASSWORD"]  # not on the command line, where `ps` would show it
    options = [f"--dbname={settings['NAME']}"]
    options += [f"--host={settings['HOST']}"] if settings.get("HOST") else []
    options += [f"--port={settings['PORT']}"] if settings.get("PORT") else []
    options += [f"--username={settings['USER']}"] if settings.get("USER") else []
    return options, environment


def _run(command: list[str], environment: dict[str, str]) -> None:
    try:
        finished = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)  # noqa: S603 - a fixed program; its arguments come from the settings
    except FileNotFoundError:
        raise BackupFailed(f"{command[0]} is not installed (Debian's postgresql-client provides it).") from None
    if finished.returncode != 0:
        raise BackupFailed(f"{command[0]} failed: {finished.stderr.strip()}")


def dump_database(path: Path) -> None:
    """The whole database into the file `path`."""
    if connection.vendor == "postgresql":
        options, environment = _postgres_environment()
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={path}", *options], environment)
    elif connection.vendor == "sqlite":
        connection.ensure_connection()
        copy = sqlite3.connect(path)
        try:
            connection.connection.backup(copy)
        finally:
            copy.close()
    else:
        raise BackupFailed(f"No backup for {connection.vendor} databases.")


def restore_database(path: Path) -> None:
    """The database as it was when `path` was dumped: every table's rows replaced by the dump's."""
    if not path.is_file():
        raise BackupFailed(f"{path} is not a file.")
    connection.close()  # the restore replaces what this connection would see
    if connection.vendor == "postgresql":
        options, environment = _postgres_environment()
        _run(
            ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", *options, str(path)],
            environment,
        )
    elif connection.vendor == "sqlite":
        dump = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if dump.execute("PRAGMA quick_check").fetchone() != ("ok",):
                raise BackupFailed(f"{path} is not a sound SQLite database.")
            connection.ensure_connection()
            dump.backup(connection.connection)
        except sqlite3.DatabaseError as error:
            raise BackupFailed(f"{path} is not an SQLite database the portal wrote: {error}.") from None
        finally:
            dump.close()
    else:
        raise BackupFailed(f"No restore for {connection.vendor} databases.")
    connection.close()
