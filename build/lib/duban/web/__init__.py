"""The workplace: the web pages where units, the office and leadership act (FastAPI).

`duban.web.app.create_app` builds the application; the route modules are one per role
(auth, links, unit, office, leadership). The links in notices are minted by the sweep's
composer (render.mail.composer_for, tasks.sweep.links), so a sweep never loads FastAPI.
"""
