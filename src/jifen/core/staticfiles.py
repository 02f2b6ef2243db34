"""Static files as production serves them: fingerprinted, pre-compressed, collected when
they changed.

Outside DEBUG the pages link fingerprinted file names read from STATIC_ROOT's manifest
(settings.STORAGES). `jifen serve` calls ``collect_if_changed`` before it starts, so
`make run`, a fresh clone and an upgrade all serve what the source folders hold, while a
restart with nothing changed skips the compression."""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.files.storage import storages
from django.core.management import call_command
from whitenoise.storage import CompressedManifestStaticFilesStorage  # type: ignore[import-untyped]

STAMP = ".jifen-sources"


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's compressed manifest storage, compressing only what pages link: the
    fingerprinted names (served for a year as immutable), not their unhashed twins, and no
    source maps (only a developer's tools fetch those). Brotli at its best ratio is slow:
    this halves `collectstatic` (the API docs' 3 MB source maps alone took 30 s)."""

    def compress_files(self, paths: Iterable[str]) -> Iterator[tuple[str, str]]:
        linked = set(self.hashed_files.values())
        return super().compress_files(
            [path for path in paths if path in linked and not path.endswith(".map")])


def _storage() -> object:
    return storages["staticfiles"]


def sources_digest() -> str:
    """A digest of every static file the finders see: name, size and modification time."""
    digest = hashlib.sha256()
    for finder in finders.get_finders():
        for path, storage in sorted(finder.list(None), key=lambda found: found[0]):
            stat = os.stat(storage.path(path))
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def collect_if_changed(*, verbosity: int = 0,
                       announce: Callable[[str], object] | None = None) -> bool:
    """Run collectstatic when the sources differ from the last collection (or none was
    made). True when it ran; ``announce`` hears of it before the wait. Several servers
    starting at once take turns (a file lock); the later ones find the work done."""
    if not isinstance(_storage(), ManifestFilesMixin):
        return False
    root = Path(settings.STATIC_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    stamp = root / STAMP
    with open(root / ".collect.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        digest = sources_digest()
        manifest = root / getattr(_storage(), "manifest_name", "staticfiles.json")
        if manifest.exists() and stamp.exists() and stamp.read_text() == digest:
            return False
        if announce is not None:
            announce(f"collecting static files into {root} (once after each change) …")
        call_command("collectstatic", interactive=False, verbosity=verbosity)
        stamp.write_text(digest)
    return True
