// Reads kairos.web's UI message streams with the `ai` package's own client code: the
// DefaultChatTransport that useChat uses (it posts the body and validates every part against
// uiMessageChunkSchema) and readUIMessageStream (the state machine that builds the message).
// usage: node ai_sdk_read.mjs <folder holding node_modules/ai> <chat URL> <requests JSON>
// prints one JSON object per request: {message, errors, chunks, headers} or {thrown}
import { createRequire } from "node:module";
import path from "node:path";

const [aiHome, url, requestsJson] = process.argv.slice(2);
const require = createRequire(path.join(aiHome, "package.json"));
const { DefaultChatTransport, readUIMessageStream } = require("ai");

async function run(messages) {
  const headers = {};
  const transport = new DefaultChatTransport({
    api: url,
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      headers.ui = response.headers.get("x-vercel-ai-ui-message-stream");
      headers.type = response.headers.get("content-type");
      return response;
    },
  });
  let stream;
  try {
    stream = await transport.sendMessages({
      chatId: "chat-1", messages, abortSignal: undefined,
      trigger: "submit-message", messageId: undefined,
    });
  } catch (err) {
    return { thrown: String(err.message) };
  }
  const [forState, forTypes] = stream.tee();
  const errors = [];
  let message = null;
  for await (const snapshot of readUIMessageStream({
    stream: forState, onError: (err) => errors.push(String(err.message ?? err)),
  })) {
    message = snapshot;
  }
  const chunks = [];
  for await (const chunk of forTypes) chunks.push(chunk.type);
  return { message, errors, chunks, headers };
}

const results = [];
for (const messages of JSON.parse(requestsJson)) results.push(await run(messages));
console.log(JSON.stringify(results));
