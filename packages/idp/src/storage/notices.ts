/** {@link ChangeNotices}: in memory (one process) and over Redis pub/sub (every process sharing the Redis). */
import { EventEmitter } from 'node:events';
import type { ChangeNotices } from '../contracts.js';
import type { RedisClient } from './redis-connect.js';

/** Notices between the users of one in-memory storage (a single process). */
export function memoryNotices(): ChangeNotices {
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  return {
    async announce(topic, detail) { bus.emit(topic, detail); },
    async watch(topic, fn) {
      bus.on(topic, fn);
      return async () => { bus.off(topic, fn); };
    },
  };
}

/**
 * Notices over Redis pub/sub on channel `<prefix>notice:<topic>`. Publishing uses the storage's connection;
 * watching opens one subscriber connection (created on the first watch, closed by `close`).
 */
export function redisNotices(client: RedisClient, prefix: string): ChangeNotices & { close(): Promise<void> } {
  const channel = (topic: string) => `${prefix}notice:${topic}`;
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  let sub: RedisClient | undefined;
  const subscribed = new Map<string, number>();
  let lapsed = false;
  const subscriber = async (): Promise<RedisClient> => {
    if (!sub) {
      const s = (client as { duplicate(): RedisClient }).duplicate();
      sub = s;
      // reconnects and resubscribes by itself; notices sent meanwhile are lost, so once it is back every
      // watcher hears a notice without detail ("anything may have changed"); polling catches up the rest
      s.on('error', () => { /* reported through status */ });
      s.on('close', () => { lapsed = true; });
      s.on('ready', () => {
        if (!lapsed) return;
        lapsed = false;
        for (const ch of subscribed.keys()) if (subscribed.get(ch)) bus.emit(ch, undefined);
      });
      s.on('message', (ch: string, msg: string) => { bus.emit(ch, msg === '' ? undefined : msg); });
      if (s.status === 'wait') await s.connect();
    }
    return sub;
  };
  return {
    async announce(topic, detail) { await client.publish(channel(topic), detail ?? ''); },
    isLive() { return sub?.status === 'ready' && !lapsed; },
    async watch(topic, fn) {
      const ch = channel(topic);
      const s = await subscriber();
      if (!subscribed.get(ch)) await s.subscribe(ch);
      subscribed.set(ch, (subscribed.get(ch) ?? 0) + 1);
      bus.on(ch, fn);
      return async () => {
        bus.off(ch, fn);
        const left = (subscribed.get(ch) ?? 1) - 1;
        subscribed.set(ch, left);
        if (left === 0 && sub) await sub.unsubscribe(ch).catch(() => undefined);
      };
    },
    async close() {
      const s = sub;
      sub = undefined;
      if (s) { try { await s.quit(); } catch { s.disconnect(); } }
    },
  };
}
