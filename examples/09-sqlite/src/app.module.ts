import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SchedulerModule, type SchedulerModuleOptions } from 'nestjs-scheduler';
import { DataSource } from 'typeorm';
import { Order } from './order.entity.js';
import { RequestReviewWorker } from './request-review.worker.js';
import { ShipOrderWorker } from './ship-order.worker.js';
import { OrdersController } from './orders.controller.js';
import { OrdersService } from './orders.service.js';
import { Product } from './product.entity.js';

/** The scheduler's options on the app's DataSource: its tables go into the app's file, beside `orders`. */
export const schedulerOptions = (dataSource: DataSource): SchedulerModuleOptions => ({
  store: { type: 'sqlite', dataSource },
  queues: { default: 5 },
  retention: { completed: '7d' }, // finished jobs stay a week in the file (the default is a day)
});

/** Built once @nestjs/typeorm has initialised the DataSource. Exported so that tests can swap it (`overrideModule`). */
export const schedulerModule = SchedulerModule.forRootAsync({
  inject: [DataSource],
  useFactory: schedulerOptions,
});

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      // Read at start, so that a test can point it at a file of its own.
      useFactory: () => ({
        type: 'better-sqlite3',
        database: process.env.SQLITE_FILE ?? 'shop.db',
        entities: [Order, Product],
        synchronize: true, // creates `orders` and `products`; it leaves the scheduler's tables (no entities) alone
      }),
    }),
    TypeOrmModule.forFeature([Order, Product]),
    schedulerModule,
  ],
  controllers: [OrdersController],
  providers: [OrdersService, ShipOrderWorker, RequestReviewWorker],
})
export class AppModule {}
