"""Django's PostgreSQL backend with two hot spots of its SQL compiler changed (bulk INSERTs: see `compiler`).

For every JOIN it compiles, Django's PostgreSQL operations compare the database types of the two joined
columns (to cast when they differ). A foreign key to a `BigAutoField` answers that by constructing a fresh
`BigIntegerField` each time, and field construction normalizes choices, resolves validators and more: on
the chat path it was about 5% of the web process's Python time (py-spy, bench/README.md). The answer only
depends on the two fields and the connection's vendor, both fixed for the life of the process, so it is
computed once per pair of fields. The SQL produced is unchanged (tests/tickets/test_db_backend.py).
"""

from __future__ import annotations

from django.db.backends.postgresql import base, operations
from django.db.models.functions import Cast


class DatabaseOperations(operations.DatabaseOperations):
    compiler_module = "helpdesk.db.postgresql.compiler"
    _types_differ: dict[tuple[int, int], bool] = {}

    def prepare_join_on_clause(self, lhs_table, lhs_field, rhs_table, rhs_field):
        lhs_expr, rhs_expr = super(operations.DatabaseOperations, self).prepare_join_on_clause(lhs_table, lhs_field, rhs_table, rhs_field)
        key = (id(lhs_field), id(rhs_field))
        differ = self._types_differ.get(key)
        if differ is None:
            differ = lhs_field.db_type(self.connection) != rhs_field.db_type(self.connection)
            # Model fields live as long as the process; keeping them referenced keeps their ids unique.
            self._types_differ[key] = differ
            _keep_alive.append((lhs_field, rhs_field))
        if differ:
            rhs_expr = Cast(rhs_expr, lhs_field)
        return lhs_expr, rhs_expr


_keep_alive: list[tuple[object, object]] = []


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
