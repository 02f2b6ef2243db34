"""System checks that stop a dangerous configuration at start."""

from __future__ import annotations

from django.core import checks


def test_private_files_inside_the_served_media_folder_are_an_error(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_ROOT = tmp_path / "media" / "private"
    errors = [m for m in checks.run_checks() if m.id == "jifen.E001"]
    assert len(errors) == 1 and "JIFEN_PRIVATE_ROOT" in errors[0].msg

    settings.PRIVATE_ROOT = tmp_path / "private"
    assert not [m for m in checks.run_checks() if m.id == "jifen.E001"]
