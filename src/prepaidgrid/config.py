"""Validated settings, read once in bootstrap.py (environment prefix PREPAIDGRID_)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./prepaidgrid.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PREPAIDGRID_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
