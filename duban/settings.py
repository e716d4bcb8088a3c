"""Settings, read once from the environment (DUBAN_*) and an optional duban.toml."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict, TomlConfigSettingsSource


class Settings(BaseSettings):
    """Where duban keeps its data and who is using it.

    The defaults need no setup: a SQLite file and an .eml outbox under `.duban/` in the
    current directory. A deployment sets DUBAN_DATABASE_URL to PostgreSQL.
    """

    model_config = SettingsConfigDict(env_prefix="DUBAN_", toml_file="duban.toml")

    home: Path = Path(".duban")
    database_url: str | None = None
    calendar_dir: Path | None = None
    actor: str | None = None  # who `--as` defaults to: office, leadership or a unit
    smtp_host: str | None = None  # unset: mail goes to .eml files in the outbox folder
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None  # from the environment only, never a file in git
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    mail_from: str | None = None  # overrides the plan office's own address as sender
    public_url: str | None = None  # where people reach `duban web`; links in mails use it
    secret_key: str | None = None  # signs sessions and links; unset: a key file under home
    behind_proxy: bool = False  # HTTPS ends at a reverse proxy: cookies are marked Secure
    link_days: int = 30  # how long a link in a notice can be used
    session_hours: int = 8  # a login lasts this long
    upload_mb: int = 20  # the largest evidence file the web accepts

    @property
    def outbox_dir(self) -> Path:
        return self.home / "outbox"

    @property
    def evidence_dir(self) -> Path:
        return self.home / "evidence"

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'duban.db'}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls,
        init_settings,
        env_settings,  # type: ignore[no-untyped-def, override]
        dotenv_settings,
        file_secret_settings,
    ):
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))
