"""Settings shared by every service, read from the environment with the BAIYING_ prefix."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Profile = Literal["dev", "test", "prod"]

# Values that ship in the repo for local use; a production deployment must replace them.
DEV_JWT_SECRET = "baiying-dev-secret-do-not-use-in-production"
PLACEHOLDER_SECRETS = frozenset({"", "change-me", "dev-secret", DEV_JWT_SECRET})


class CommonSettings(BaseSettings):
    """What every Baiying process needs: where the database and broker are, and who it is."""

    model_config = SettingsConfigDict(env_prefix="BAIYING_", env_file=".env", extra="ignore")

    profile: Profile = "dev"
    database_url: SecretStr = SecretStr("postgresql://baiying:baiying@127.0.0.1:5432/baiying")
    kafka_bootstrap: str = "127.0.0.1:9092"
    # Tests run many isolated systems against one broker; a prefix keeps their topics apart.
    topic_prefix: str = ""
    # Caps every topic's partition count (tests use 3 to keep a single broker light).
    kafka_max_partitions: int | None = None
    # A cluster runs 3 / 2 (deploy/k8s); one local broker can only hold 1 / 1.
    kafka_replication_factor: int = 1
    kafka_min_insync_replicas: int = 1
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwt_issuer: str = "baiying"
    # Staff sign-in (docs/auth.md): "dev" = only `baiying token` HS256 tokens; "keycloak" = the
    # project's local Keycloak (deploy/local/keycloak.sh); "oidc" = any provider set below.
    idp: Literal["dev", "keycloak", "oidc"] = "dev"
    oidc_issuer: str = ""
    oidc_audience: str = "baiying"
    oidc_jwks_url: str = ""
    oidc_client_id: str = "baiying-consoles"
    oidc_role_claim: str = "realm_access.roles"
    oidc_districts_claim: str = "districts"
    oidc_leeway_s: int = 30
    log_level: str = "INFO"
    log_json: bool = True
    housekeeping_interval_s: float = 600.0
    db_pool_min: int = 2
    db_pool_max: int = 10

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> CommonSettings:
        if self.profile == "prod":
            if self.jwt_secret.get_secret_value() in PLACEHOLDER_SECRETS:
                raise ValueError("BAIYING_JWT_SECRET is a placeholder; set a real secret in prod")
            if ":baiying@" in self.database_url.get_secret_value():
                raise ValueError("BAIYING_DATABASE_URL uses the dev password in prod")
        return self

    def topic(self, name: str) -> str:
        """Physical topic name for a catalogue name."""
        return f"{self.topic_prefix}{name}"
