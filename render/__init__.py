"""What people read: review pages, 督办单 and 通报, spreadsheets, charts and mail letters.

Turns the frozen values of ``tasks.review`` and ``tasks.sweep.notices`` into HTML, Markdown, XLSX
and text through the Jinja2 templates in ``render/templates``. May import ``calendars``,
``schemas`` and ``tasks``; never ``flows`` or ``duban``.
"""
