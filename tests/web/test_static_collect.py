"""`jifen serve` collects the static files before it starts, only when they changed."""

from __future__ import annotations

import os

from django.test import override_settings

from jifen.core.staticfiles import collect_if_changed
from tests.conftest import TEST_STATIC_STORAGE


def test_serve_collects_once_and_again_only_after_a_change(tmp_path, settings):
    source = tmp_path / "source"
    (source / "extra").mkdir(parents=True)
    extra = source / "extra" / "note.css"
    extra.write_text("body{color:#111}")
    root = tmp_path / "static"
    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": TEST_STATIC_STORAGE}}
    heard: list[str] = []
    with override_settings(STATIC_ROOT=root, STORAGES=storages,
                           STATICFILES_DIRS=[*settings.STATICFILES_DIRS, source]):
        from django.contrib.staticfiles.storage import staticfiles_storage

        assert collect_if_changed(announce=heard.append)  # nothing collected yet
        assert heard and str(root) in heard[0]
        assert (root / "staticfiles.json").exists()
        assert staticfiles_storage.url("extra/note.css").startswith("/static/extra/note.")

        assert not collect_if_changed()  # a restart with nothing changed

        extra.write_text("body{color:#222}")
        os.utime(extra, ns=(extra.stat().st_atime_ns, extra.stat().st_mtime_ns + 10**9))
        assert collect_if_changed()  # an upgrade or an edit
        hashed = staticfiles_storage.stored_name("extra/note.css")
        assert (root / hashed).read_text() == "body{color:#222}"


def test_debug_storage_needs_no_collection(tmp_path, settings):
    storages = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        assert not collect_if_changed()
    assert not any(tmp_path.iterdir())
