"""The tables as the read-only commands see them (schemas.columns) are the tables: every column
they name exists in schemas.tables with the same type."""

from __future__ import annotations

from sqlmodel import SQLModel

from schemas import columns
from schemas import tables as _tables  # noqa: F401  (registers the tables)


def test_every_column_a_plain_read_names_is_a_column_of_its_table():
    for light in columns.ALL:
        real = SQLModel.metadata.tables[light.name]
        for column in light.columns:
            assert column.name in real.c, f"{light.name}.{column.name} is not a column"
            found = real.c[column.name].type
            found = getattr(found, "impl", found)  # SQLModel's AutoString decorates a String
            assert isinstance(found, type(column.type)), (
                f"{light.name}.{column.name}: {found!r} in schemas.tables, {column.type!r} here"
            )
