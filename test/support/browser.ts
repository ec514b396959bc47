import request from 'supertest';

/** A cookie as the browser keeps it: its value, and the path it is sent to. */
interface KeptCookie {
  value: string;
  path: string;
}

/**
 * A browser: follows nothing by itself, keeps the cookies it is given and
 * sends each only to its path (as a real browser does: a cookie set for
 * `/api/v1/oauth` never reaches `/api/v1/me`).
 */
export class Browser {
  private readonly jar = new Map<string, KeptCookie>();
  constructor(private readonly origin: string) {}

  async get(url: string, accept = 'text/html'): Promise<request.Response> {
    const target = new URL(url, this.origin);
    target.hash = '';
    const res = await request(this.origin)
      .get(`${target.pathname}${target.search}`)
      .set('Accept', accept)
      .set('Cookie', this.cookieHeader(target.pathname));
    this.keep(res);
    return res;
  }

  async postForm(url: string, form: Record<string, string>): Promise<request.Response> {
    const target = new URL(url, this.origin);
    const res = await request(this.origin)
      .post(`${target.pathname}${target.search}`)
      .type('form')
      .send(form)
      .set('Cookie', this.cookieHeader(target.pathname));
    this.keep(res);
    return res;
  }

  cookie(name: string): string | undefined {
    return this.jar.get(name)?.value;
  }

  /** The `Cookie` header for a request to `path` (every cookie without one). */
  cookieHeader(path?: string): string {
    return [...this.jar]
      .filter(([, c]) => path === undefined || pathMatches(path, c.path))
      .map(([k, c]) => `${k}=${c.value}`)
      .join('; ');
  }

  /** Keeps the cookies a response sets (also one the browser did not request itself, e.g. an API call's). */
  keep(res: request.Response): void {
    for (const line of ([] as string[]).concat(res.headers['set-cookie'] ?? [])) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair!.indexOf('=');
      const path =
        attributes
          .map((a) => a.trim())
          .find((a) => a.toLowerCase().startsWith('path='))
          ?.slice(5) || '/';
      this.jar.set(pair!.slice(0, eq), { value: pair!.slice(eq + 1), path });
    }
  }
}

/** RFC 6265 § 5.1.4: the cookie's path is the request path, or a prefix of it ending at a `/`. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  return requestPath.startsWith(cookiePath) && (cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/');
}
