"""The web layer: HTTP routes, pages, i18n and the app factory."""
