"""Media types of files and bytes: from their magic bytes, else from the name's extension.

Signatures from each format's specification (PNG, JPEG/JFIF, GIF87a/89a, RIFF WEBP and WAVE,
PDF ``%PDF-``, MPEG audio frame sync and ID3v2, FLAC ``fLaC``, Ogg ``OggS``, ISO base media
``ftyp`` boxes). Pure functions.
"""

from __future__ import annotations

import mimetypes
from urllib.parse import urlsplit

__all__ = ["audio_format", "from_name", "sniff"]

_PREFIXES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"ID3", "audio/mpeg"),
    (b"fLaC", "audio/flac"),
    (b"OggS", "audio/ogg"),
    (b"BM", "image/bmp"),
)
_RIFF = {b"WEBP": "image/webp", b"WAVE": "audio/wav"}
_FTYP = {
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"mif1": "image/heif",
    b"avif": "image/avif",
    b"M4A ": "audio/mp4",
}
# extensions the standard table lacks or maps differently on some systems
_NAMES = {
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
    ".md": "text/markdown",
    ".txt": "text/plain",
    ".pdf": "application/pdf",
}
_AUDIO_FORMATS = {
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
}


def _magic(data: bytes) -> str | None:
    for prefix, media_type in _PREFIXES:
        if data.startswith(prefix):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] in _RIFF:
        return _RIFF[data[8:12]]
    if data[4:8] == b"ftyp":
        return _FTYP.get(data[8:12])
    if len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0 and data[1] & 0x06:
        return "audio/mpeg"  # an MPEG audio frame header without an ID3 tag
    return None


def from_name(name: str) -> str | None:
    """The media type a file name or URL path suggests, or None."""
    path = urlsplit(name).path if "://" in name else name
    dot = path.rfind(".")
    if dot < 0:
        return None
    ext = path[dot:].lower()
    return _NAMES.get(ext) or mimetypes.types_map.get(ext)


def sniff(data: bytes, name: str | None = None) -> str | None:
    """The media type of ``data`` from its magic bytes, else from ``name``'s extension."""
    return _magic(bytes(data[:16])) or (from_name(name) if name else None)


def audio_format(media_type: str) -> str | None:
    """OpenAI's ``input_audio.format`` for a media type (``wav``/``mp3``), else None."""
    return _AUDIO_FORMATS.get(media_type)
