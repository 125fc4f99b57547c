// sdk-openai-gemini.mjs: the official OpenAI (Chat Completions, then
// Responses streamed) and Google Gen AI SDKs through greyproxy (undici's
// ProxyAgent) to a local origin speaking their APIs.
// Usage: node sdk-openai-gemini.mjs BASE_URL PROXY_URL
import OpenAI from 'openai';
import { GoogleGenAI } from '@google/genai';
import { ProxyAgent, fetch, setGlobalDispatcher } from 'undici';

const [base, proxy] = process.argv.slice(2);
const agent = new ProxyAgent(proxy);
const out = {};

const openai = new OpenAI({
  apiKey: 'sk-openai-test-not-a-secret', baseURL: `${base}/v1`,
  maxRetries: 0, timeout: 10000, fetch,
  fetchOptions: { dispatcher: agent },
});
const first = { role: 'user', content: 'name a colour' };
const c1 = await openai.chat.completions.create({
  model: 'gpt-4.1', messages: [{ role: 'system', content: 'Be brief.' }, first],
});
const c2 = await openai.chat.completions.create({
  model: 'gpt-4.1',
  messages: [{ role: 'system', content: 'Be brief.' }, first,
    c1.choices[0].message, { role: 'user', content: 'another one' }],
});
out.chat = [c1.choices[0].message.content, c2.choices[0].message.content];

const stream = await openai.responses.create({
  model: 'gpt-5', instructions: 'Answer in one word.', input: 'capital of Italy',
  stream: true,
});
let text = '';
for await (const ev of stream) {
  if (ev.type === 'response.output_text.delta') text += ev.delta;
}
out.responses = text;

setGlobalDispatcher(agent);
globalThis.fetch = fetch;
const ai = new GoogleGenAI({
  apiKey: 'gemini-test-not-a-secret', httpOptions: { baseUrl: base },
});
const g = await ai.models.generateContentStream({
  model: 'gemini-2.5-flash', contents: 'count to three',
  config: { systemInstruction: 'Be exact.' },
});
let gtext = '';
for await (const chunk of g) gtext += chunk.text ?? '';
out.gemini = gtext;
console.log(JSON.stringify(out));
