"""Message catalogs (English and Arabic) and localized-name lookup."""

from taboor.i18n.catalog import (
    DEFAULT_LOCALE,
    SUPPORTED_LOCALES,
    Locale,
    localized_name,
    resolve_locale,
    translate,
)

__all__ = [
    "DEFAULT_LOCALE",
    "SUPPORTED_LOCALES",
    "Locale",
    "localized_name",
    "resolve_locale",
    "translate",
]
