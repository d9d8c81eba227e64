import { hostname } from 'node:os';

/** This process's name in the cluster (unique per node): `NODE_NAME`, or host and pid. */
export const nodeName = process.env.NODE_NAME ?? `${hostname()}-${process.pid}`;
