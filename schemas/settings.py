"""What this installation is: where its data lives, which mail server it uses, who is using it.

Read once from the environment (DUBAN_*) and an optional `duban.toml`. The file is looked for
in the folder DUBAN_HOME names and the folders above it, or, without DUBAN_HOME, in the current
folder and the folders above it (as git finds its repository): a command run in a subfolder of
an installation uses that installation, not a new empty one. Relative paths in the file are
read against the file's folder, and the default home is `.duban` beside it.

The SMTP password is a secret: it is read from the environment only (a `smtp_password` in the
file is ignored, and `duban doctor` says so), held as a `SecretStr` that no `repr()` or log
shows, and never handed to a Prefect task or flow as a parameter. So is the secret key that
signs the web's sessions and the links in notices (`DUBAN_SECRET_KEY`; unset, `secret_key`
makes a key file under the home, readable by its owner only), and so is the key that seals the
audit trail's head (`DUBAN_AUDIT_KEY`, else the home's `audit_key` file): kept out of the
database, so whoever can only write the database cannot rewrite the trail unseen.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path

from pydantic import SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from schemas.location import ENVIRONMENT_ONLY, checked_url, config_values, default_url
from schemas.location import config_file as config_file  # part of this module's API


class Settings(BaseSettings):
    """Where duban keeps its data and who is using it.

    The defaults need no setup: a SQLite file and an .eml outbox under `.duban/` (beside the
    `duban.toml` when there is one, else in the current folder). A deployment sets
    DUBAN_DATABASE_URL to PostgreSQL.
    """

    model_config = SettingsConfigDict(env_prefix="DUBAN_")

    home: Path = Path(".duban")
    database_url: str | None = None
    calendar_dir: Path | None = None
    actor: str | None = None  # who `--as` defaults to: office, leadership or a unit
    smtp_host: str | None = None  # unset: mail goes to .eml files in the outbox folder
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None  # from the environment only, never a file in git
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    mail_from: str | None = None  # overrides the plan office's own address as sender
    public_url: str | None = None  # where people reach `duban web`; links in mails use it
    secret_key: SecretStr | None = None  # signs sessions and links; unset: a key file in home
    audit_key: SecretStr | None = None  # seals the audit trail's head; unset: a key file in home
    behind_proxy: bool = False  # HTTPS ends at a reverse proxy: cookies are marked Secure
    link_days: int = 30  # how long a link in a notice can be used
    session_hours: int = 8  # a login lasts this long
    evidence_limit_mb: int = 20  # the largest evidence file taken, from the CLI or the web
    evidence_folder: Path | None = None  # where evidence is kept; unset: `evidence` in home
    evidence_from: list[Path] = []  # the CLI takes evidence only from these; empty: anywhere
    # When `duban serve` runs its jobs (crontab lines, Asia/Shanghai); prefect.yaml's
    # deployments use the same defaults.
    sweep_cron: str = "30 8 * * *"
    review_cron: str = "0 18 * * *"
    digest_cron: str = "0 9 * * mon"

    @field_validator("sweep_cron", "review_cron", "digest_cron")
    @classmethod
    def _crontab(cls, line: str) -> str:
        """Refused here, at the first read of the settings, not at the job's first run."""
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(line)
        except ValueError as exc:
            raise ValueError(f"not a crontab line (minute hour day month weekday): {exc}") from exc
        return line

    @field_validator("home")
    @classmethod
    def _absolute(cls, home: Path) -> Path:
        """The home as an absolute path: the same folder whatever the current one is later."""
        return home.expanduser().resolve()

    @field_validator("database_url")
    @classmethod
    def _a_database_url(cls, url: str | None) -> str | None:
        """A URL SQLAlchemy can read (`sqlite:///…`, `postgresql+psycopg://…`), or refused."""
        return url if url is None else checked_url(url)

    @property
    def outbox_dir(self) -> Path:
        return self.home / "outbox"

    @property
    def evidence_dir(self) -> Path:
        return (self.evidence_folder or self.home / "evidence").expanduser().resolve()

    @property
    def url(self) -> str:
        return self.database_url or default_url(self.home)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments first, then DUBAN_* variables, then duban.toml (no .env, no secrets dir)."""
        return (init_settings, env_settings, InitSettingsSource(settings_cls, config_values()))


def secrets_in_file(path: Path) -> list[str]:
    """The settings in `path` that are read from the environment only (and so ignored)."""
    with path.open("rb") as handle:
        return sorted(ENVIRONMENT_ONLY & set(tomllib.load(handle)))


def secret_key(settings: Settings) -> str:
    """The key that signs sessions and links: DUBAN_SECRET_KEY, else the home's key file (made
    once). A sweep on a worker must use the web server's key, or its links are refused."""
    return _key(settings.secret_key, settings.home / "secret_key")


def audit_key(settings: Settings) -> str:
    """The key that seals the audit trail's head: DUBAN_AUDIT_KEY, else the home's key file
    (made once). Every process that writes the trail must use the same one."""
    return _key(settings.audit_key, settings.home / "audit_key")


def _key(given: SecretStr | None, path: Path) -> str:
    """The key given, else the one in `path`, made once: written whole beside it, then linked
    into place, so two processes starting at once agree on one key and never read half of it."""
    if given is not None:
        return given.get_secret_value()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
        except FileExistsError:  # another process made it first: use theirs
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()
