"""duban (督办): the application shell around the plain-Python layers: CLI and settings."""
