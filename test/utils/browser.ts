import request from 'supertest';

/** A browser: follows nothing by itself, keeps the cookies it is given. */
export class Browser {
  private readonly jar = new Map<string, string>();
  constructor(private readonly origin: string) {}

  async get(url: string, accept = 'text/html'): Promise<request.Response> {
    const target = new URL(url, this.origin);
    target.hash = '';
    const res = await request(this.origin).get(`${target.pathname}${target.search}`).set('Accept', accept).set('Cookie', this.cookieHeader());
    this.keep(res);
    return res;
  }

  async postForm(url: string, form: Record<string, string>): Promise<request.Response> {
    const target = new URL(url, this.origin);
    const res = await request(this.origin).post(`${target.pathname}${target.search}`).type('form').send(form).set('Cookie', this.cookieHeader());
    this.keep(res);
    return res;
  }

  cookie(name: string): string | undefined {
    return this.jar.get(name);
  }

  cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** Keeps the cookies a response sets (also one the browser did not request itself, e.g. an API call's). */
  keep(res: request.Response): void {
    for (const line of ([] as string[]).concat(res.headers['set-cookie'] ?? [])) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      this.jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
  }
}

