import { Queue, Worker } from 'bullmq';
const connection = { host: '127.0.0.1', port: 6379 };
const name = 'probe_' + Date.now();
const q = new Queue(name, { connection });
await q.upsertJobScheduler('tick', { every: 1000 }, { name: 'tick' });
const w = new Worker(name, async (job) => { const now = Date.now(); console.log(job.id, 'now', now, 'ts', job.timestamp, 'delay', job.delay, 'opts.delay', job.opts.delay, 'prevMillis', job.opts.prevMillis, 'processedOn', job.processedOn, 'now-prev', now - job.opts.prevMillis); }, { connection });
await new Promise(r => setTimeout(r, 4500));
await w.close(); await q.obliterate({ force: true }); await q.close();
