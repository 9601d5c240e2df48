// kairos web: a plain-JavaScript client of the Vercel AI SDK UI message stream protocol v1.
// It posts the useChat body ({id, messages, trigger}) to /api/chat and applies each streamed
// part to the reply, as useChat does: text and reasoning blocks, tool calls, errors, and the
// messageMetadata of `finish` (what kairos measured). No build step, nothing from a CDN.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const log = $("log"), form = $("composer"), prompt = $("prompt");
  const sendButton = $("send"), stopButton = $("stop"), files = $("files");
  const attachmentList = $("attachments");
  const chatId = "chat-" + Math.random().toString(36).slice(2);
  const messages = []; // UI messages sent back with every request, as useChat keeps them
  let attachments = []; // file parts waiting for the next message
  let controller = null; // the AbortController of the reply streaming now

  const el = (tag, props = {}, ...children) => {
    const { dataset = {}, attrs = {}, ...rest } = props;
    const node = Object.assign(document.createElement(tag), rest);
    for (const [key, value] of Object.entries(dataset)) node.dataset[key] = value;
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    node.append(...children);
    return node;
  };
  const scroll = () => { log.scrollTop = log.scrollHeight; };

  fetch("/api/info").then((r) => r.json()).then((info) => {
    $("info").textContent = info.label || "";
  }).catch(() => {});

  // -- attachments: images as data URLs, sent as `file` parts --------------------------------
  files.addEventListener("change", async () => {
    for (const file of files.files) {
      const url = await new Promise((resolve, reject) => {
        const reader = new FileReader();
        reader.onload = () => resolve(reader.result);
        reader.onerror = () => reject(reader.error);
        reader.readAsDataURL(file);
      });
      attachments.push({ type: "file", mediaType: file.type, filename: file.name, url });
    }
    files.value = "";
    showAttachments();
  });

  function showAttachments() {
    attachmentList.replaceChildren(...attachments.map((part, i) => {
      const remove = el("button", { type: "button", textContent: "×",
        attrs: { "aria-label": "Remove " + part.filename } });
      remove.addEventListener("click", () => { attachments.splice(i, 1); showAttachments(); });
      return el("li", {}, el("img", { src: part.url, alt: part.filename }), remove);
    }));
  }

  // -- one reply: the parts of the protocol applied to a message and its element -------------
  class Reply {
    constructor() {
      this.message = { id: "", role: "assistant", parts: [] };
      this.node = el("div", { className: "msg", dataset: { role: "assistant" } });
      this.blocks = new Map(); // text / reasoning id -> {part, node}
      this.tools = new Map(); // toolCallId -> {part, node, raw}
      log.append(this.node);
    }

    apply(chunk) {
      const t = chunk.type;
      if (t === "start") this.message.id = chunk.messageId || this.message.id;
      else if (t === "start-step") this.message.parts.push({ type: "step-start" });
      else if (t === "text-start" || t === "reasoning-start") this.open(t.split("-")[0], chunk.id);
      else if (t === "text-delta" || t === "reasoning-delta") this.grow(chunk.id, chunk.delta);
      else if (t === "text-end" || t === "reasoning-end") this.close(chunk.id);
      else if (t.startsWith("tool-input-")) this.tool(t.slice(11), chunk);
      else if (t === "source-url") this.source(chunk);
      else if (t === "error") this.fail(chunk.errorText);
      else if (t === "finish") this.finish(chunk.messageMetadata);
      scroll();
    }

    open(kind, id) {
      const part = { type: kind, text: "", state: "streaming" };
      let node, text;
      if (kind === "reasoning") {
        text = el("div", { dataset: { part: "reasoning-text" } });
        node = el("details", { className: "reasoning", open: true, dataset: { part: "reasoning" } },
          el("summary", { textContent: "Reasoning" }), text);
      } else {
        node = text = el("div", { className: "text", dataset: { part: "text" } });
      }
      this.message.parts.push(part);
      this.blocks.set(id, { part, text });
      this.node.append(node);
    }

    grow(id, delta) {
      const block = this.blocks.get(id);
      if (!block) return;
      block.part.text += delta;
      block.text.textContent = block.part.text;
    }

    close(id) {
      const block = this.blocks.get(id);
      if (block) block.part.state = "done";
    }

    tool(step, chunk) {
      let call = this.tools.get(chunk.toolCallId);
      if (step === "start") {
        const part = { type: "tool-" + chunk.toolName, toolCallId: chunk.toolCallId,
          state: "input-streaming", input: undefined };
        const pre = el("pre");
        const node = el("div", { className: "tool", dataset: { part: "tool" } },
          el("span", { className: "tool-name", textContent: "tool call: " + chunk.toolName }), pre);
        call = { part, pre, raw: "" };
        this.tools.set(chunk.toolCallId, call);
        this.message.parts.push(part);
        this.node.append(node);
      } else if (!call) {
        return;
      } else if (step === "delta") {
        call.raw += chunk.inputTextDelta;
        call.pre.textContent = call.raw;
      } else if (step === "available") {
        Object.assign(call.part, { state: "input-available", input: chunk.input });
        call.pre.textContent = JSON.stringify(chunk.input, null, 2);
      } else if (step === "error") {
        Object.assign(call.part, { state: "output-error", input: chunk.input,
          errorText: chunk.errorText });
      }
    }

    source(chunk) {
      this.message.parts.push({ type: "source-url", sourceId: chunk.sourceId, url: chunk.url,
        title: chunk.title });
      const link = el("a", { href: chunk.url, textContent: chunk.title || chunk.url });
      link.rel = "noopener noreferrer";
      this.node.append(el("div", { className: "source", dataset: { part: "source" } },
        el("span", { textContent: "source: " }), link));
    }

    fail(text) {
      this.node.append(el("div", { className: "error", textContent: text,
        attrs: { role: "alert" }, dataset: { part: "error" } }));
    }

    note(text) {
      this.node.append(el("div", { className: "stopped", textContent: text,
        dataset: { part: "stopped" } }));
    }

    finish(meta) {
      this.message.metadata = meta;
      if (meta && meta.refusal) this.node.dataset.refused = "true"; // the model declined
      for (const detail of this.node.querySelectorAll("details.reasoning")) detail.open = false;
      if (!meta) return;
      const bits = [];
      if (meta.ttftMs != null) bits.push(`TTFT ${Math.round(meta.ttftMs)} ms`);
      const usage = meta.usage;
      bits.push(usage ? `${usage.totalTokens} tokens (${usage.inputTokens} in, `
        + `${usage.outputTokens} out)` : "tokens n/a");
      if (meta.chunks != null) bits.push(`${meta.chunks} chunks`);
      if (meta.totalMs != null) bits.push(`${(meta.totalMs / 1000).toFixed(2)} s`);
      this.node.append(el("div", { className: "meta", textContent: bits.join(" · "),
        dataset: { part: "meta" } }));
    }
  }

  // -- the server-sent events of one response ------------------------------------------------
  async function readStream(body, reply) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event.split("\n").filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).replace(/^ /, "")).join("\n");
        if (!data) continue;
        if (data === "[DONE]") return;
        reply.apply(JSON.parse(data));
      }
    }
  }

  function busy(on) {
    sendButton.disabled = on;
    stopButton.disabled = !on;
  }

  async function send(text) {
    const parts = [...attachments];
    if (text) parts.unshift({ type: "text", text });
    const user = { id: "user-" + Date.now().toString(36), role: "user", parts };
    messages.push(user);
    attachments = [];
    showAttachments();
    const shown = el("div", { className: "msg", dataset: { role: "user" }, textContent: text });
    for (const part of parts) {
      if (part.type === "file") shown.append(el("img", { src: part.url, alt: part.filename }));
    }
    log.append(shown);

    const reply = new Reply();
    controller = new AbortController();
    busy(true);
    try {
      const response = await fetch("/api/chat", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ id: chatId, messages, trigger: "submit-message" }),
        signal: controller.signal,
      });
      if (!response.ok) {
        messages.pop(); // the server refused it: do not send it again with the next message
        reply.fail((await response.text()) || `HTTP ${response.status}`);
        return;
      }
      await readStream(response.body, reply);
      messages.push(reply.message);
    } catch (err) {
      if (err.name === "AbortError") {
        reply.note("Stopped.");
        messages.push(reply.message);
      } else {
        reply.fail(String(err.message || err));
      }
    } finally {
      controller = null;
      busy(false);
      scroll();
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = prompt.value.trim();
    if (controller || (!text && attachments.length === 0)) return;
    prompt.value = "";
    send(text);
  });
  prompt.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  stopButton.addEventListener("click", () => { if (controller) controller.abort(); });
})();
