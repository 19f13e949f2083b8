"""Static files in production: WhiteNoise's compressed, hashed-name storage, whose URLs are
worked out once per name.

``{% static %}`` asks the storage for a file's URL on every render, about 30 µs each (the
manifest lookup, then URL quoting and joining), and a respondent's page has eight. The
manifest is read once when the process starts, so a name's URL cannot change while it runs.
"""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name, force: bool = False) -> str:
        if force:
            return super().url(name, force)
        try:
            return self._urls[name]
        except KeyError:
            url = self._urls[name] = super().url(name)
            return url
