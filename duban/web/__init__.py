"""The workplace: the web pages where units, the office and leadership act (FastAPI).

`duban.web.app.create_app` builds the application; the route modules are one per role
(auth, links, unit, office, leadership). Importing this package loads nothing heavy, so the
sweep command can use `duban.web.keys` without FastAPI.
"""
