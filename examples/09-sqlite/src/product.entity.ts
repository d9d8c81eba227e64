import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('products')
export class Product {
  @PrimaryColumn('text')
  sku!: string;

  @Column('integer')
  stock!: number;
}
