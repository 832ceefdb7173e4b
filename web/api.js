// Talking to the master: the admin token, REST calls, streamed logs and live WebSockets.
// The contract is docs/http.md.

const TOKEN_KEY = 'cloudai.token';

let unauthorizedHandler = () => {};

export function getToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

export function setToken(token) {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage may be disabled; the token then lives only as long as the page.
  }
}

// Called (once per burst) when the master answers 401: the token is missing or wrong.
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function authHeaders(extra = {}) {
  const headers = { ...extra };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  return headers;
}

async function errorOf(response) {
  let code = `HTTP_${response.status}`;
  let message = response.statusText || `HTTP ${response.status}`;
  try {
    const body = await response.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    }
  } catch {
    // Not JSON; keep the status line.
  }
  return new ApiError(response.status, code, message);
}

// GET (or another method with a JSON body) under /api/v1; resolves to the parsed answer.
export async function api(path, { method = 'GET', body, signal } = {}) {
  const init = { method, signal, headers: authHeaders({ Accept: 'application/json' }) };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}`, init);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'UNAVAILABLE', `cannot reach the master (${err.message})`);
  }
  if (response.status === 401) {
    unauthorizedHandler();
    throw await errorOf(response);
  }
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return {};
  return response.json();
}

// Streams a task's log from byte `offset`; calls onText(text, bytes) for each piece as it
// arrives. With follow, the master keeps the response open until the task ends. Resolves
// to the number of bytes read once the response ends; rejects on a network error.
export async function streamLogs(taskId, { offset = 0, follow = true, signal, onText }) {
  const params = new URLSearchParams();
  if (offset > 0) params.set('offset', String(offset));
  if (follow) params.set('follow', '1');
  const response = await fetch(
    `/api/v1/tasks/${encodeURIComponent(taskId)}/logs?${params}`,
    { headers: authHeaders({ Accept: 'text/plain' }), signal });
  if (response.status === 401) {
    unauthorizedHandler();
    throw await errorOf(response);
  }
  if (!response.ok) throw await errorOf(response);
  let bytes = 0;
  if (!response.body) {
    const buf = new Uint8Array(await response.arrayBuffer());
    bytes = buf.length;
    onText(new TextDecoder().decode(buf), bytes);
    return bytes;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    bytes += value.length;
    const text = decoder.decode(value, { stream: true });
    if (text) onText(text, value.length);
  }
  const tail = decoder.decode();
  if (tail) onText(tail, 0);
  return bytes;
}

// A WebSocket under /ws that reconnects with backoff (0.5 s doubling to 15 s, with jitter).
// onState(state, detail) reports 'connecting', 'open', 'waiting' (detail: ms until retry).
export class LiveSocket {
  constructor(path, { onMessage, onState = () => {}, onOpen = () => {} }) {
    this.path = path;
    this.onMessage = onMessage;
    this.onState = onState;
    this.onOpen = onOpen;
    this.ws = null;
    this.timer = 0;
    this.failures = 0;
    this.stopped = true;
  }

  start() {
    this.stopped = false;
    this.failures = 0;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = ws.onerror = ws.onmessage = ws.onopen = null;
      try { ws.close(1000, 'bye'); } catch { /* already closed */ }
    }
  }

  restart() {
    this.stop();
    this.start();
  }

  connect() {
    if (this.stopped) return;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = `${scheme}//${location.host}${this.path}?token=${encodeURIComponent(getToken())}`;
    this.onState('connecting');
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      this.retry();
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.failures = 0;
      this.onState('open');
      this.onOpen();
    };
    ws.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      this.onMessage(msg);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (!opened) {
        // The handshake failed: perhaps the token. A REST call tells 401 apart.
        api('/cluster').catch(() => {});
      }
      this.retry();
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  retry() {
    if (this.stopped) return;
    const base = Math.min(15000, 500 * 2 ** Math.min(this.failures, 5));
    this.failures++;
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this.onState('waiting', delay);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}
