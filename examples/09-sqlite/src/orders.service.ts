import { ConflictException, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { SchedulerService } from 'nestjs-scheduler';
import { DataSource, MoreThanOrEqual, type Repository } from 'typeorm';
import { Order } from './order.entity.js';
import { RequestReviewWorker } from './request-review.worker.js';
import { ShipOrderWorker } from './ship-order.worker.js';
import { Product } from './product.entity.js';

@Injectable()
export class OrdersService implements OnApplicationBootstrap {
  constructor(
    private readonly dataSource: DataSource,
    private readonly scheduler: SchedulerService,
    @InjectRepository(Order) private readonly orders: Repository<Order>,
    @InjectRepository(Product) private readonly products: Repository<Product>,
  ) {}

  /** The example's one product, 10 in stock on a new file (kept as it is on the next starts). */
  async onApplicationBootstrap() {
    await this.products.createQueryBuilder().insert().values({ sku: 'notebook', stock: 10 }).orIgnore().execute();
  }

  /** Saves the order and enqueues its jobs in one transaction: all of it is committed, or none of it. */
  place(sku: string, quantity: number): Promise<Order> {
    return this.dataSource.transaction(async (manager) => {
      const order = await manager.save(manager.create(Order, { sku, quantity }));
      // `{ manager }`: the job rows are written in this transaction, on its connection.
      await this.scheduler.enqueue(ShipOrderWorker, { orderId: order.id }, { manager });
      await this.scheduler.enqueue(RequestReviewWorker, { orderId: order.id }, { manager, delay: '3d' });
      // The stock is taken last, to show it: when it is short, the rollback takes the order and both jobs with it.
      const taken = await manager.decrement(Product, { sku, stock: MoreThanOrEqual(quantity) }, 'stock', quantity);
      if (taken.affected !== 1) throw new ConflictException(`not enough ${sku} in stock for ${quantity}`);
      return order;
    });
  }

  list(): Promise<Order[]> {
    return this.orders.find({ order: { id: 'ASC' } });
  }

  stock(): Promise<Product[]> {
    return this.products.find({ order: { sku: 'ASC' } });
  }
}
