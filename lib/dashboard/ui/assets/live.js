// @ts-check
import { BASE } from './api.js';
/**
 * Follows changes while the tab is visible: `GET api/events` (Server-Sent Events) with `live: 'sse'`, polling
 * every `refreshMs` with `live: 'poll'` or once the stream fails. A hidden tab holds no stream and polls nothing.
 * The mode in use is on `<html data-live>` (`sse`, `poll`, `paused`).
 * @param {{ live: 'sse' | 'poll'; refreshMs: number }} config @param {() => void} onChange @param {(mode: string) => void} onMode
 */
export function startLive(config, onChange, onMode) {
  /** @type {EventSource | null} */
  let source = null;
  /** @type {ReturnType<typeof setInterval> | null} */
  let timer = null;
  let mode = config.live;

  const set = (/** @type {string} */ value) => {
    document.documentElement.dataset.live = value;
    onMode(value);
  };
  const stop = () => {
    source?.close();
    source = null;
    if (timer !== null) clearInterval(timer);
    timer = null;
  };
  const poll = () => {
    timer = setInterval(onChange, config.refreshMs);
    set('poll');
  };
  const start = () => {
    stop();
    if (mode === 'poll') return poll();
    source = new EventSource(new URL('api/events', BASE));
    source.onopen = () => set('sse');
    source.onmessage = () => onChange();
    source.onerror = () => {
      // The browser would retry on its own; a stream that fails (a proxy that buffers, a 403) falls back to polling.
      if (source?.readyState === EventSource.CONNECTING && document.documentElement.dataset.live === 'sse') return;
      mode = 'poll';
      start();
    };
  };
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') {
      stop();
      set('paused');
    } else {
      start();
      onChange();
    }
  });
  if (document.visibilityState === 'hidden') set('paused');
  else start();
}
