"""What people read: review pages, 督办单 and 通报, spreadsheets, charts and mail letters.

Turns the frozen values of ``tasks.review`` and ``tasks.sweep.notices`` into HTML, Markdown, XLSX
and text through the Jinja2 templates in ``render/templates`` and the one environment of
``render/environment.py`` (the modules choose and word what is shown; the templates hold every
piece of markup). May import ``calendars``, ``schemas`` and ``tasks``; never ``flows`` or
``duban``.
"""
