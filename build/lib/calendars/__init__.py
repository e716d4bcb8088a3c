"""Time on the mainland-China working calendar: working-day data and arithmetic (workdays) and
the deadline expressions of work plans (deadlines). No Prefect, no database: plain Python.

The lowest layer. May import ``duban.errors`` and nothing else of ours;
``tests/test_layers.py`` enforces it.
"""
