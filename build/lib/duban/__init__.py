"""duban (督办): the application shell around the plain-Python layers: CLI and settings.

The top layer. May import everything: ``prefect``, ``calendars``, ``schemas``, ``tasks``,
``render`` and ``flows``.
"""
