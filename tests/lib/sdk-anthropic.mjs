// sdk-anthropic.mjs: two turns of a conversation with the official
// Anthropic SDK, through greyproxy (HTTP CONNECT, undici's ProxyAgent),
// to a local origin speaking the Messages API: the first streamed
// (SSE), the second a JSON reply, both offering a tool.
// Usage: node sdk-anthropic.mjs BASE_URL PROXY_URL
import Anthropic from '@anthropic-ai/sdk';
import { ProxyAgent, fetch } from 'undici';

const [base, proxy] = process.argv.slice(2);
const client = new Anthropic({
  apiKey: 'sk-ant-test-not-a-secret',
  baseURL: base,
  maxRetries: 0,
  timeout: 10000,
  fetch,
  fetchOptions: { dispatcher: new ProxyAgent(proxy) },
});
const tools = [{
  name: 'get_weather',
  description: 'The weather in a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } } },
}];
const system = [{ type: 'text', text: 'You are a terse assistant.' }];
const first = { role: 'user', content: 'what is the weather in Paris' };

const stream = client.messages.stream({
  model: 'claude-sonnet-4-5', max_tokens: 64, system, tools,
  messages: [first],
});
const one = await stream.finalMessage();
const text1 = one.content.map((b) => b.text || '').join('');

const two = await client.messages.create({
  model: 'claude-sonnet-4-5', max_tokens: 64, system, tools,
  messages: [first, { role: 'assistant', content: text1 },
    { role: 'user', content: 'and in Lyon' }],
});
const text2 = two.content.map((b) => b.text || '').join('');
console.log(JSON.stringify({ text1, text2, usage: two.usage }));
