"""Who is using tongxin: an identity that something authenticated, never a typed name.

- On SQLite the login is the operating-system account running the program (from the
  process's effective user id, not from ``$USER``, which anyone can set): on a shared
  server reached over SSH every person has their own.
- On PostgreSQL the login is the database role the connection authenticated as
  (``SELECT current_user``): each person connects with their own role (password,
  ``.pgpass``, peer or certificate authentication).

The login is mapped to the account (``account.username``) of the same name. Who owns
the database (the file's owner on SQLite; a superuser, or a member of the role owning
the tables on PostgreSQL) can do anything with it outside the program, so the program
treats that login as an administrator even without an account.

On SQLite the owner is the owner of the file SQLite actually opened (``PRAGMA
database_list``, symbolic links resolved), whatever the URL said. Write access is not
ownership: a file owned by someone else gives no administrator rights even when it, or
its folder, is writable by everyone. Such a file protects nothing (anyone who can write
it can change any row with the sqlite3 shell), which is why tongxin creates its files
0600 in 0700 folders and why a shared office uses PostgreSQL (docs/security.md).

See :meth:`crm_core.app.Tongxin.authenticate` for the rules a front end applies.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass

from sqlalchemy import Connection, Engine


def sqlite_main_file(conn: Connection) -> str | None:
    """The file SQLite actually opened as the ``main`` database of ``conn`` (SQLite's
    own answer, ``PRAGMA database_list``: absolute, symbolic links resolved), or None
    for an in-memory or temporary database."""
    for _seq, name, file in conn.exec_driver_sql("PRAGMA database_list"):
        if name == "main":
            return str(file) or None
    return None


def os_login() -> str:
    """The operating-system login of this process (its effective user)."""
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError, AttributeError):  # Windows, or a uid without a name
        return getpass.getuser()


def _file_owner(path: str) -> str | None:
    try:
        import pwd

        # os.stat follows symbolic links: the owner of the file itself, not of a link.
        return pwd.getpwuid(os.stat(os.path.realpath(path)).st_uid).pw_name
    except (ImportError, KeyError, OSError, AttributeError):
        return None


def database_login(conn: Connection) -> str:
    """The login the database knows this connection by: the PostgreSQL role, or on
    SQLite the operating-system login."""
    if conn.dialect.name == "postgresql":
        return str(conn.exec_driver_sql("SELECT current_user").scalar())
    return os_login()


def owns_database(conn: Connection, login: str) -> bool:
    """Whether ``login`` controls the whole database outside the program: the owner of
    the SQLite file, or on PostgreSQL a superuser or a member of the role that owns the
    ``account`` table (who bypasses row-level security anyway)."""
    if conn.dialect.name == "postgresql":
        return bool(
            conn.exec_driver_sql(
                "SELECT r.rolsuper OR pg_has_role(current_user, c.relowner, 'MEMBER') "
                "FROM pg_roles r, pg_class c "
                "WHERE r.rolname = current_user AND c.oid = to_regclass('account')"
            ).scalar()
        )
    # Decided on the file SQLite opened (its own answer: absolute, links resolved),
    # never on the URL, which a `file:` URI, `..` or a symbolic link can make say
    # something else.
    opened = sqlite_main_file(conn)
    if opened is None:
        return True  # a private in-memory database belongs to whoever made it
    return _file_owner(opened) == login


def role_can_connect(conn: Connection, username: str) -> bool | None:
    """On PostgreSQL: whether a LOGIN role ``username`` exists in ``tongxin_user`` (so
    the account of that name can be used). None on SQLite, where logins are OS users."""
    if conn.dialect.name != "postgresql":
        return None
    found = conn.exec_driver_sql(
        "SELECT r.rolcanlogin AND pg_has_role(r.oid, 'tongxin_user', 'MEMBER') "
        "FROM pg_roles r WHERE r.rolname = %(name)s",
        {"name": username},
    ).first()
    return bool(found and found[0])


@dataclass(frozen=True)
class Login:
    """The authenticated login of an engine and whether it owns the database."""

    name: str
    owner: bool


def login_of(engine: Engine) -> Login:
    """The login and ownership for ``engine`` (one short query on PostgreSQL)."""
    with engine.connect() as conn:
        name = database_login(conn)
        return Login(name, owns_database(conn, name))
