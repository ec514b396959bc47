import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { STORE, type Store } from '../store/index.js';
import { viewOfEvent, type QrEvent, type QrStatusView } from './qr-session.js';
import { QR_EVENTS_CHANNEL } from './qr-sessions.store.js';

interface Waiter {
  afterVersion: number;
  done: (event: QrStatusView | null) => void;
}

/**
 * The instance's one subscription to the QR event channel, fanned out in
 * memory: to whoever waits for a given session (long polls), and to watchers
 * of every event (the socket gateway). A waiting request costs a map entry and
 * a timer: no polling, no CPU while idle.
 */
@Injectable()
export class QrEventsHub implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('QrEvents');
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly watchers = new Set<(event: QrEvent) => void>();
  private count = 0;
  private unsubscribe?: () => Promise<void>;

  constructor(@Inject(STORE) private readonly store: Store) {}

  async onModuleInit(): Promise<void> {
    try {
      this.unsubscribe = await this.store.subscribe(QR_EVENTS_CHANNEL, (message) => this.dispatch(message));
    } catch {
      // The store reconnects by itself; long polls fall back to their timeout meanwhile.
      this.logger.warn('Could not subscribe to QR events (store unavailable); retrying in the background');
      setTimeout(() => void this.onModuleInit(), 1_000).unref();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    for (const set of [...this.waiters.values()]) for (const waiter of [...set]) waiter.done(null);
    await this.unsubscribe?.().catch(() => undefined);
  }

  /** How many requests are waiting on this instance (the poll interval grows with it). */
  get waiting(): number {
    return this.count;
  }

  /**
   * Calls `onDone` once: with the first change of session `id` newer than
   * `afterVersion`, or with null after `timeoutMs`. The returned function
   * cancels (onDone is then never called). Callback-based so that a waiting
   * request holds only this entry and a timer, not a chain of promises.
   */
  listen(
    id: string,
    afterVersion: number,
    timeoutMs: number,
    onDone: (event: QrStatusView | null) => void,
  ): () => void {
    let set = this.waiters.get(id);
    if (!set) this.waiters.set(id, (set = new Set()));
    const waiters = set;
    const finish = (event: QrStatusView | null, notify: boolean) => {
      if (!waiters.delete(waiter)) return;
      this.count--;
      clearTimeout(timer);
      if (waiters.size === 0 && this.waiters.get(id) === waiters) this.waiters.delete(id);
      if (notify) onDone(event);
    };
    const waiter: Waiter = { afterVersion, done: (event) => finish(event, true) };
    const timer = setTimeout(() => finish(null, true), timeoutMs);
    waiters.add(waiter);
    this.count++;
    return () => finish(null, false);
  }

  /**
   * Calls `onEvent` with every event of every session, in the order the store
   * delivers them (the order of the transitions), until the returned function
   * is called. Events carry the scanner's session id: strip it (`viewOfEvent`)
   * before anything leaves the server.
   */
  watch(onEvent: (event: QrEvent) => void): () => void {
    this.watchers.add(onEvent);
    return () => this.watchers.delete(onEvent);
  }

  private dispatch(message: string): void {
    let event: QrEvent;
    try {
      event = JSON.parse(message) as QrEvent;
    } catch {
      return;
    }
    for (const watcher of this.watchers) {
      try {
        watcher(event);
      } catch (error) {
        this.logger.error(`A QR event watcher failed: ${(error as Error).message}`);
      }
    }
    const set = this.waiters.get(event.id);
    if (!set) return;
    const view = viewOfEvent(event);
    for (const waiter of [...set]) if (event.version > waiter.afterVersion) waiter.done(view);
  }
}
