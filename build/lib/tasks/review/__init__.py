"""Reviews: the state of a plan and its phases as of a day, as frozen data for the renderers.

May import ``calendars``, ``schemas``, ``tasks.plans`` and ``tasks.work``; nothing above ``tasks``.
"""
