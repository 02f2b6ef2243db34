"""Uploaded pictures (item images, the site logo): judged by their header before any
pixel is decoded, so a small file that would decode to gigabytes is refused."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from PIL import Image

from jifen.core import errors

MAX_IMAGE_PIXELS = 40_000_000


def picture_too_large() -> errors.ValidationError:
    """The refusal of a picture of more than MAX_IMAGE_PIXELS pixels."""
    return errors.ValidationError(
        _("This picture is too large: a picture may have at most %(limit)s megapixels. "
          "Make it smaller and upload it again.")
        % {"limit": MAX_IMAGE_PIXELS // 1_000_000},
        code=errors.ErrorCode.IMAGE_TOO_LARGE, details={"max_pixels": MAX_IMAGE_PIXELS})


class PictureField(forms.ImageField):
    """An image of at most ``MAX_IMAGE_PIXELS`` pixels."""

    def to_python(self, data: Any) -> Any:
        try:
            upload = super().to_python(data)
        except forms.ValidationError as exc:
            if isinstance(exc.__cause__, (Image.DecompressionBombError,
                                          Image.DecompressionBombWarning)):
                raise self._too_large() from exc
            raise
        image = getattr(upload, "image", None)
        if image is not None and image.width * image.height > MAX_IMAGE_PIXELS:
            raise self._too_large()
        return upload

    @staticmethod
    def _too_large() -> forms.ValidationError:
        error = picture_too_large()
        return forms.ValidationError(error.message, code=error.code)
