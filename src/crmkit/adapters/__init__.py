"""Repository adapters for real databases, behind extras.

* :mod:`crmkit.adapters.sqlalchemy`: SQLAlchemy 2 Core, tested on SQLite and
  PostgreSQL with crmkit's contract suite (``pip install "crmkit[sql]"``; for
  PostgreSQL add a driver such as ``psycopg[binary]``).

Importing this package loads nothing; importing an adapter without its extra
raises :class:`~crmkit.errors.MissingDependency` naming the extra.
"""

__all__: list[str] = []
