"""The units of work as plain functions: reading plans, resolving them, the graph, the queries.

Nothing here imports Prefect or reads the clock; the flows in flows/ and the CLI call into it.
"""
