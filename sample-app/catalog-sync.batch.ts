import { BatchWorker, type BatchContext, type BatchJob, type BatchPage } from '../lib/index.js';

/** One product of the (pretend) supplier catalogue. */
export type Product = { sku: string; cents: number };

const CATALOGUE: Product[] = Array.from({ length: 25 }, (_, i) => ({ sku: `SKU-${String(i + 1).padStart(3, '0')}`, cents: 500 + 37 * i }));

/**
 * A batch worker: walks the supplier's catalogue 10 products a page, 3 at a
 * time, and checkpoints the cursor (the last SKU) and the counts after every
 * page, so a batch stopped by a crash or a shutdown goes on from there. Each
 * page's checkpoint is the job's progress (`batch:progress`, `job:progress`).
 * One product fails: with `onError: 'continue'` it is counted and the batch goes on.
 */
@BatchWorker({ name: 'catalog-sync', batchSize: 10, concurrency: 3, onError: 'continue' })
export class CatalogSyncWorker implements BatchJob<Product, string> {
  fetchItems(cursor: string | undefined, ctx: BatchContext): BatchPage<Product, string> {
    const from = cursor === undefined ? 0 : CATALOGUE.findIndex((p) => p.sku === cursor) + 1;
    const items = CATALOGUE.slice(from, from + ctx.batchSize);
    return from + items.length < CATALOGUE.length ? { items, cursor: items.at(-1)!.sku } : { items, done: true };
  }

  async processItem(product: Product): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 20)); // the supplier's API
    if (product.sku === 'SKU-013') throw new Error(`supplier has no price for ${product.sku}`);
  }
}
