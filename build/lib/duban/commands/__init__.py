"""The command groups; each module registers its commands on duban.app.app."""
