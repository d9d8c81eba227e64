/**
 * Loads NestJS and nestjs-scheduler's build output (`../dist`) from the
 * repository root, so the bench uses the very module instances the library
 * imports (one @nestjs/common, one reflect-metadata), whatever bench/node_modules holds.
 */
import { importFromRoot, rootDist } from './common.mjs';

await importFromRoot('reflect-metadata');
export const { Injectable, Module } = await importFromRoot('@nestjs/common');
export const { NestFactory } = await importFromRoot('@nestjs/core');

let lib;
try {
  lib = await import(rootDist('lib/index.js'));
} catch (error) {
  throw new Error(`cannot load ../dist/lib/index.js: run "npm run build" at the repository root first (${error.message})`);
}
export const { SchedulerModule, SchedulerService, Scheduled } = lib;
/** `nestjs-scheduler/metrics` (the in-process histograms for an SDK reader). */
export const { SchedulerMetricProducer } = await import(rootDist('lib/metrics/index.js'));

/** Applies a method decorator by hand (the bench files are plain .mjs, without decorator syntax). */
export function decorateMethod(decorator, Class, method) {
  const descriptor = Object.getOwnPropertyDescriptor(Class.prototype, method);
  const result = decorator(Class.prototype, method, descriptor);
  if (result) Object.defineProperty(Class.prototype, method, result);
}
