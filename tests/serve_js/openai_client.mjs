// The official openai client against `llmkit serve` (started by
// tests/e2e_serve_openai.sh, which passes LLMKIT_URL and LLMKIT_KEY).
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const baseURL = `${process.env.LLMKIT_URL}/v1`;
const client = new OpenAI({ baseURL, apiKey: process.env.LLMKIT_KEY, maxRetries: 0, timeout: 60000 });
const messages = [
  { role: 'system', content: 'You tell short stories.' },
  { role: 'user', content: 'Tell me about a cat.' },
];
let passed = 0, failed = 0;

async function test(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok: ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAILED: ${name}: ${e.stack || e}`);
  }
}

let whole;
await test('models list', async () => {
  const models = [];
  for await (const m of client.models.list()) models.push(m);
  assert.equal(models.length, 1);
  assert.equal(models[0].id, 'story-model');
  assert.equal(models[0].object, 'model');
});

await test('chat, not streamed', async () => {
  whole = await client.chat.completions.create({ model: 'story-model', messages, temperature: 0, max_tokens: 32 });
  assert.equal(whole.object, 'chat.completion');
  assert.match(whole.id, /^chatcmpl-/);
  assert.equal(whole.choices.length, 1);
  assert.equal(whole.choices[0].message.role, 'assistant');
  assert.ok(whole.choices[0].message.content.length > 0);
  assert.ok(['stop', 'length'].includes(whole.choices[0].finish_reason));
  assert.ok(whole.usage.prompt_tokens > 0 && whole.usage.completion_tokens > 0);
  assert.equal(whole.usage.total_tokens, whole.usage.prompt_tokens + whole.usage.completion_tokens);
});

await test('chat, streamed, with include_usage', async () => {
  const stream = await client.chat.completions.create({
    model: 'story-model', messages, temperature: 0, max_tokens: 32, stream: true,
    stream_options: { include_usage: true },
  });
  let text = '', role = null, finish = null, usage = null, chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.choices.length === 0) { usage = chunk.usage; continue; }
    const c = chunk.choices[0];
    if (c.delta.role) role = c.delta.role;
    if (c.delta.content) text += c.delta.content;
    if (c.finish_reason) finish = c.finish_reason;
  }
  assert.ok(chunks >= 3);
  assert.equal(role, 'assistant');
  assert.equal(finish, whole.choices[0].finish_reason);
  assert.equal(text, whole.choices[0].message.content);
  assert.ok(usage, 'a usage chunk');
  assert.equal(usage.completion_tokens, whole.usage.completion_tokens);
  assert.equal(usage.prompt_tokens, whole.usage.prompt_tokens);
});

await test('chat stream helper (runner) gives the same message', async () => {
  const runner = client.chat.completions.stream({ model: 'story-model', messages, temperature: 0, max_tokens: 32 });
  const done = await runner.finalChatCompletion();
  assert.equal(done.choices[0].message.content, whole.choices[0].message.content);
});

await test('completions, whole and streamed', async () => {
  const c = await client.completions.create({ model: 'story-model', prompt: 'Once upon a time', temperature: 0, max_tokens: 24 });
  assert.equal(c.object, 'text_completion');
  assert.ok(c.choices[0].text.length > 0);
  const stream = await client.completions.create({
    model: 'story-model', prompt: 'Once upon a time', temperature: 0, max_tokens: 24, stream: true,
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
  assert.equal(text, c.choices[0].text);
});

await test('n = 2 with two prompts gives four choices', async () => {
  const c = await client.completions.create({ model: 'story-model', prompt: ['Lily', 'Tom'], n: 2, max_tokens: 8, seed: 3 });
  assert.deepEqual(c.choices.map((x) => x.index), [0, 1, 2, 3]);
});

await test('an error: bad temperature is a 400 naming the field', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'story-model', messages, temperature: 'hot' }),
    (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && e.param === 'temperature' && e.type === 'invalid_request_error',
  );
});

await test('an error: a wrong API key is a 401', async () => {
  const bad = new OpenAI({ baseURL, apiKey: 'not-the-key', maxRetries: 0 });
  await assert.rejects(bad.models.list(), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
