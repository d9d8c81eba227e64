import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('orders')
export class Order {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column('text')
  sku!: string;

  @Column('integer')
  quantity!: number;

  /** `placed`, then `shipped` once the ship-order job has run. */
  @Column('text', { default: 'placed' })
  status!: 'placed' | 'shipped';

  /** When the review request went out (the time its job was due), or null. */
  @Column('datetime', { nullable: true })
  reviewRequestedAt!: Date | null;
}
