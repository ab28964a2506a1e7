"""No view takes files: the one upload handler refuses the first file part before reading it."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadhandler import FileUploadHandler


class FilePartRefused(Exception):
    """A multipart body carried a file part."""


class RefuseFilesUploadHandler(FileUploadHandler):
    """Stop parsing at the first file part, so its content is never read or stored.

    Form fields are still parsed (and counted against ``DATA_UPLOAD_MAX_MEMORY_SIZE``);
    ``RefuseUploadsMiddleware`` turns the refusal into a clear answer.
    """

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        raise FilePartRefused
