"""Reviews: the state of a plan and its phases as of a day, as frozen data for the renderers.

May import ``calendars``, ``schemas``, ``tasks.plans``, ``tasks.work`` and ``tasks.bulk``;
nothing above ``tasks``.
"""
