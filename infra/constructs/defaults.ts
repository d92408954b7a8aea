/** Defaults shared by the constructs. */
import { gatehouseConfig, type GatehouseConfig } from '../config.js';

let cached: GatehouseConfig | undefined;

/** Every setting at its default (what a construct uses when it is given no config). */
export function defaultConfig(): GatehouseConfig {
  cached ??= gatehouseConfig();
  return cached;
}
