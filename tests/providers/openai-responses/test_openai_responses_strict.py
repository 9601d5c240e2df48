"""Strict mode on the Responses wire: ``kairos serve --strict`` and the doubles' ``strict=True``
reject what the API rejects (a reasoning model's tool turn without its reasoning item, a
reasoning item it would have to look up while nothing is stored, content it does not take) and
accept a correct tool loop; requests sent by kairos, by plain httpx and by the official SDK."""

from __future__ import annotations

import base64
import re
from typing import Any

import httpx
import pytest

import kairos
from kairos.serve import EmulatorServer
from kairos.testing import Call, Reasoning, Reply, ScriptedProvider
from round_trip import PNG
from test_strict import ANSWER, THINKING_CALL, THINKING_CALL_SCRIPT, _loop

FMT = "openai-responses"
M = kairos.Message
LOW = kairos.Reasoning("low")
# ``_loop`` (the shared strict tests' tool loop): ``broken`` rebuilds the assistant turn from its
# text and calls (on this wire the calls keep their item ids), losing the reasoning item


def _double() -> ScriptedProvider:
    return ScriptedProvider([THINKING_CALL, ANSWER], wire=FMT, model="gpt-5", strict=True)


def test_the_loop_built_with_to_message_is_accepted() -> None:
    llm = _double()
    assert _loop(llm, False, reasoning=LOW).content == "It is sunny in Paris."
    first, second = (ex.body for ex in llm.exchanges)
    assert first["reasoning"] == {"effort": "low", "summary": "auto"}
    assert first["include"] == ["reasoning.encrypted_content"] and first["store"] is False
    sent = second["input"]
    assert [i["type"] for i in sent] == [
        "message",
        "reasoning",
        "function_call",
        "function_call_output",
    ]
    assert sent[1]["encrypted_content"] and sent[1]["id"].startswith("rs_")
    assert sent[1]["summary"] == [{"type": "summary_text", "text": "The user wants the weather."}]
    assert sent[2]["id"].startswith("fc_") and sent[2]["status"] == "completed"


def test_a_tool_turn_without_its_reasoning_item_is_rejected() -> None:
    llm = _double()
    with pytest.raises(kairos.BadRequestError) as info:
        _loop(llm, True, reasoning=LOW)
    err = info.value
    assert err.status == 400 and err.error_type == "invalid_request_error"
    call = llm.exchanges[1].body["input"][1]  # the call kept its item id
    assert call["type"] == "function_call"
    found = re.search(
        r"Item '(fc_\w+)' of type 'function_call' was provided without its required "
        r"'reasoning' item: '(rs_\w+)'\. \(HTTP 400\)$",
        str(err),
    )
    assert found is not None and found[1] == call["id"]
    assert found[2][3:27] == call["id"][3:27]  # the reasoning item of the same response
    assert llm.remaining == 1  # a rejected request takes no reply


def test_without_encrypted_reasoning_the_block_stays_home_and_the_loop_passes() -> None:
    """No reasoning setting: no encrypted content, nothing stored, so the reasoning item could
    not go back (the API would answer 404); kairos leaves it out and the API takes the call."""
    llm = _double()
    assert _loop(llm, False).content == "It is sunny in Paris."
    kinds = [i["type"] for i in llm.exchanges[1].body["input"]]
    assert kinds == ["message", "function_call", "function_call_output"]
    stored = _double()
    assert _loop(stored, False, extras={"store": True}).content == "It is sunny in Paris."
    sent = stored.exchanges[1].body["input"]
    assert sent[1]["type"] == "reasoning" and "encrypted_content" not in sent[1]


def test_a_signed_scripted_reasoning_is_the_items_encrypted_content() -> None:
    signed = Reply([Reasoning("Plan.", signature="ZW5j"), Call("get_weather", {})])
    llm = ScriptedProvider([signed, ANSWER], wire=FMT, strict=True)
    _loop(llm, False)
    assert llm.exchanges[1].body["input"][1]["encrypted_content"] == "ZW5j"


def test_strict_emulator_and_the_openai_sdk() -> None:
    openai = pytest.importorskip("openai")
    script = {"replies": [THINKING_CALL_SCRIPT, "Sunny."], "cycle": True}
    with EmulatorServer(script, strict=True) as srv:
        client = openai.OpenAI(
            base_url=srv.base_urls["OPENAI_BASE_URL"], api_key="x", max_retries=0
        )
        kw: Any = {
            "model": "gpt-5",
            "tools": [{"type": "function", "name": "get_weather", "parameters": {}}],
            "include": ["reasoning.encrypted_content"],
            "store": False,
        }
        asked: list[Any] = [{"role": "user", "content": "Weather?"}]
        first = client.responses.create(input=asked, **kw)
        items = [o.model_dump(exclude_none=True) for o in first.output]
        assert [i["type"] for i in items] == ["reasoning", "function_call"]
        result = {"type": "function_call_output", "call_id": items[1]["call_id"], "output": "ok"}
        with pytest.raises(openai.BadRequestError) as info:
            client.responses.create(input=[*asked, items[1], result], **kw)
        assert "without its required 'reasoning' item" in info.value.message
        assert info.value.body["type"] == "invalid_request_error"  # type: ignore[index]
        second = client.responses.create(input=[*asked, *items, result], **kw)
        assert second.output_text == "Sunny."


def _post(srv: EmulatorServer, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(srv.base_urls["OPENAI_BASE_URL"] + "/responses", json=body)


USER = {"role": "user", "content": [{"type": "input_text", "text": "Weather?"}]}
CALL = {"type": "function_call", "id": "fc_abc", "call_id": "c1", "name": "f", "arguments": "{}"}
RESULT = {"type": "function_call_output", "call_id": "c1", "output": "ok"}


@pytest.mark.parametrize(
    ("model", "status"), [("o3", 400), ("gpt-5.1-codex", 400), ("gpt-4o", 200)]
)
def test_ids_of_another_server_are_judged_by_the_model(model: str, status: int) -> None:
    body = {"model": model, "input": [USER, CALL, RESULT], "store": True}
    with EmulatorServer(["ok"], strict=True) as srv:
        answer = _post(srv, body)
        assert answer.status_code == status
        if status == 400:
            message = answer.json()["error"]["message"]
            assert message == (
                "Item 'fc_abc' of type 'function_call' was provided without its required "
                "'reasoning' item."
            )
        reasoning = {"type": "reasoning", "id": "rs_abc", "summary": []}
        assert _post(srv, {**body, "input": [USER, reasoning, CALL, RESULT]}).status_code == 200


def test_a_reasoning_item_to_look_up_while_nothing_is_stored_is_404() -> None:
    reasoning = {"type": "reasoning", "id": "rs_abc", "summary": []}
    body = {"model": "o3", "input": [USER, reasoning, CALL, RESULT], "store": False}
    with EmulatorServer(["ok"], strict=True) as srv:
        answer = _post(srv, body)
        assert answer.status_code == 404
        assert answer.json()["error"]["message"].startswith(
            "Item with id 'rs_abc' not found. Items are not persisted when `store` is set to "
            "`false`."
        )
        encrypted = {**reasoning, "encrypted_content": "gAAAA"}
        assert _post(srv, {**body, "input": [USER, encrypted, CALL, RESULT]}).status_code == 200


@pytest.mark.parametrize(
    ("part", "text"),
    [
        (
            {"type": "input_audio", "input_audio": {"data": "AA==", "format": "wav"}},
            "'input_audio'",
        ),
        ({"type": "text", "text": "Chat Completions' part"}, "Supported values are: 'input_text'"),
        (
            {"type": "input_image", "image_url": "data:image/bmp;base64,Qk0=", "detail": "auto"},
            "image_url'. Expected a base64-encoded data URL",
        ),
        (
            {"type": "input_file", "file_data": "data:text/csv;base64,YQ==", "filename": "a.csv"},
            "expected a PDF",
        ),
    ],
)
def test_a_part_the_api_cannot_take_gets_its_error(part: dict[str, Any], text: str) -> None:
    body = {"model": "gpt-5", "input": [{"role": "user", "content": [part]}]}
    with EmulatorServer(["never sent"], strict=True) as srv:
        answer = _post(srv, body)
    assert answer.status_code == 400 and text in answer.json()["error"]["message"]
    assert answer.json()["error"]["type"] == "invalid_request_error"


def test_kairos_sends_a_correct_image_and_document_request() -> None:
    image = kairos.Image.from_bytes(PNG)
    pdf = kairos.Document.from_bytes(b"%PDF-1.7\n", filename="a.pdf")
    with EmulatorServer(["I see a picture."], strict=True) as srv:
        url = srv.base_urls["OPENAI_BASE_URL"]
        with kairos.provider(FMT, base_url=url, api_key="x", max_retries=0) as llm:
            reply = llm.chat(kairos.ChatRequest([M.user("What is this?", image, pdf)]))
        assert reply.content == "I see a picture."
        content = srv.requests[-1].json()["input"][0]["content"]
    assert base64.b64decode(content[1]["image_url"].split(",", 1)[1]) == PNG
