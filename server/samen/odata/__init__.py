"""OData for Power BI, Excel and pyodk's `get_table`: pure parts, no Flask and no database.

- `filters`: `$filter` → expression tree → Python predicate, or SQL for what the database holds.
- `entities`: submission entities and repeat rows from instance XML (`FormEntities`).
- `metadata`: the service document and EDMX 4.0 `$metadata`.
- `query`: query options, `$select`, paging.

The HTTP layer is `samen.api.odata`.
"""
