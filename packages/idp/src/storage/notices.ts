/** {@link ChangeNotices}: in memory (one process) and over Redis pub/sub (every process sharing the Redis). */
import { EventEmitter } from 'node:events';
import type { ChangeNotices } from '../contracts.js';
import type { RedisClient } from './redis-connect.js';

/** Notices between the users of one in-memory storage (a single process). */
export function memoryNotices(): ChangeNotices {
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  return {
    async announce(topic) { bus.emit(topic); },
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
  const subscriber = async (): Promise<RedisClient> => {
    if (!sub) {
      sub = (client as { duplicate(): RedisClient }).duplicate();
      sub.on('error', () => { /* reconnects by itself; notices missed meanwhile are caught up by polling */ });
      sub.on('message', (ch: string) => { bus.emit(ch); });
      if (sub.status === 'wait') await sub.connect();
    }
    return sub;
  };
  return {
    async announce(topic) { await client.publish(channel(topic), '1'); },
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
