"""The message-parts contract (``kairos.llm``): builders, media types, how text-only code keeps
working, and ``ChatResponse.to_message()`` for answers built by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

import kairos
from round_trip import JPEG, MP3, PDF, PNG, WAV

M = kairos.Message


@pytest.mark.parametrize(
    ("data", "name", "kind", "media_type"),
    [
        (PNG, "x.bin", kairos.Image, "image/png"),
        (JPEG, "x", kairos.Image, "image/jpeg"),
        (b"GIF89a" + b"\0" * 8, "x", kairos.Image, "image/gif"),
        (b"RIFF\0\0\0\0WEBPVP8 ", "x", kairos.Image, "image/webp"),
        (b"\0" * 8, "photo.webp", kairos.Image, "image/webp"),  # no magic: the extension
        (PDF, "x.txt", kairos.Document, "application/pdf"),  # magic bytes win
        (b"notes", "notes.txt", kairos.Document, "text/plain"),
        (b"# T", "readme.md", kairos.Document, "text/markdown"),
        (WAV, "x", kairos.Audio, "audio/wav"),
        (MP3, "x", kairos.Audio, "audio/mpeg"),
        (b"\xff\xfb\x90\x00" + b"\0" * 8, "x", kairos.Audio, "audio/mpeg"),
    ],
)
def test_from_file_reads_the_media_type_from_magic_bytes_else_the_name(
    tmp_path: Path, data: bytes, name: str, kind: type, media_type: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    part = kind.from_file(path)
    assert part.media_type == media_type and part.data == data and part.url is None


def test_builders_fail_with_one_line_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(kairos.ConfigurationError, match="cannot read"):
        kairos.Image.from_file(tmp_path / "missing.png")
    (tmp_path / "blob").write_bytes(b"\0\1\2")
    with pytest.raises(kairos.ConfigurationError, match="cannot tell the media type"):
        kairos.Image.from_file(tmp_path / "blob")
    with pytest.raises(kairos.ConfigurationError, match="not a image media type"):
        kairos.Image.from_bytes(PDF)
    with pytest.raises(kairos.ConfigurationError, match="absolute URL"):
        kairos.Image.from_url("cat.png")
    with pytest.raises(kairos.ConfigurationError, match="message part"):
        M.user("x", 42)  # type: ignore[arg-type]


def test_text_only_code_is_unchanged() -> None:
    m = kairos.Message(kairos.Role.USER, "hi")
    assert m.content == "hi" and m.parts == () and M.user("hi") == m
    assert m.ordered_parts() == (kairos.TextPart("hi"),)


def test_parts_give_the_text_and_the_calls() -> None:
    call = kairos.ToolCall("c1", "f", "{}")
    m = M(kairos.Role.ASSISTANT, parts=("a", kairos.ReasoningBlock("r"), "b", call))
    assert m.content == "ab" and m.tool_calls == (call,)
    assert isinstance(m.parts[0], kairos.TextPart)  # strings become text parts
    with pytest.raises(kairos.ConfigurationError, match="content or parts"):
        M(kairos.Role.USER, "other", parts=("a",))
    image = M.user("look", kairos.Image.from_bytes(PNG))
    assert image.content == "look" and len(image.parts) == 2


def test_tool_results_with_parts_and_errors() -> None:
    result = M.tool(["out", kairos.Image.from_bytes(PNG)], "c1", is_error=True)
    assert result.role is kairos.Role.TOOL and result.content == "out" and result.is_error


def test_to_message_of_a_response_built_by_hand() -> None:
    call = kairos.ToolCall("c1", "f", "{}")
    resp = kairos.ChatResponse(content="hello", tool_calls=(call,))
    assert resp.to_message() == M(kairos.Role.ASSISTANT, parts=("hello", call))
    assert resp.to_message().content == "hello"
    refusal = kairos.ChatResponse(refusal="no").to_message()
    assert refusal.parts == (kairos.Refusal("no"),) and refusal.content == ""
    assert kairos.ChatResponse().to_message() == M(kairos.Role.ASSISTANT, "")


def test_media_keeps_bytes_out_of_repr() -> None:
    assert "\\x89" not in repr(kairos.Image.from_bytes(PNG))
    assert kairos.Image.from_bytes(PNG).describe() == f"image (image/png, {len(PNG)} bytes)"
