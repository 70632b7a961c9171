// The part of XMLHttpRequest that dicomweb-client (a browser library) uses, over Node's fetch, for e2e tests.

type ResponseType = '' | 'text' | 'json' | 'arraybuffer';

/** Enough of XMLHttpRequest for dicomweb-client: open, headers, send, readyState 4, status, typed response. */
export class FetchXmlHttpRequest {
  readyState = 0;
  status = 0;
  responseType: ResponseType = '';
  response: unknown = null;
  withCredentials = false;
  onreadystatechange: (() => void) | null = null;
  onloadstart: (() => void) | null = null;
  onloadend: (() => void) | null = null;
  onprogress: (() => void) | null = null;
  private method = 'GET';
  private url = '';
  private readonly requestHeaders = new Headers();
  private responseHeaders = new Headers();

  open(method: string, url: string): void {
    this.method = method.toUpperCase();
    this.url = url;
    this.readyState = 1;
  }

  setRequestHeader(name: string, value: string): void {
    this.requestHeaders.set(name, value);
  }

  getResponseHeader(name: string): string | null {
    return this.responseHeaders.get(name);
  }

  getAllResponseHeaders(): string {
    return [...this.responseHeaders].map(([name, value]) => `${name}: ${value}\r\n`).join('');
  }

  send(body?: RequestInit['body']): void {
    this.onloadstart?.();
    void this.run(body ?? null);
  }

  private async run(body: RequestInit['body']): Promise<void> {
    try {
      const response = await fetch(this.url, { method: this.method, headers: this.requestHeaders, body });
      const bytes = await response.arrayBuffer();
      this.status = response.status;
      this.responseHeaders = response.headers;
      const text = () => new TextDecoder().decode(bytes);
      if (this.responseType === 'arraybuffer') this.response = bytes;
      else if (this.responseType === 'json') this.response = bytes.byteLength ? safeJson(text()) : null;
      else this.response = text();
    } catch {
      // A network error: XMLHttpRequest reports status 0.
      this.status = 0;
    }
    this.readyState = 4;
    this.onreadystatechange?.();
    this.onloadend?.();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Installs the shim as the global XMLHttpRequest (Node has none); returns the function that removes it again. */
export function installXmlHttpRequest(): () => void {
  const global = globalThis as { XMLHttpRequest?: unknown };
  const previous = global.XMLHttpRequest;
  global.XMLHttpRequest = FetchXmlHttpRequest;
  return () => {
    global.XMLHttpRequest = previous;
  };
}
