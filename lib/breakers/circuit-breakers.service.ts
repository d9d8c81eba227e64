import { InvalidArgumentError } from '../scheduler.errors.js';
import type { BreakerBoard } from './breaker.board.js';
import { checkBreakerName, resolveBreakerSettings } from './breaker-settings.resolver.js';
import { toBreakerState } from './breaker-state.js';
import type { CircuitBreakerOptions, CircuitBreakerState } from './circuit-breaker.types.js';

/**
 * What the circuit breaker calls use.
 * @internal
 */
export type CircuitBreakerPorts = Pick<BreakerBoard, 'refresh' | 'record' | 'names' | 'register' | 'reset' | 'isLoaded' | 'has'>;

const invalid = (option: string, detail: string): never => {
  throw new InvalidArgumentError(option, detail);
};

/**
 * Circuit breakers at runtime (`scheduler.circuitBreakers`): read them,
 * reset them, register new ones. On PostgreSQL every call sees and changes
 * the state every node shares.
 * @publicApi
 */
export class CircuitBreakers {
  /** @internal */
  constructor(private readonly board: () => CircuitBreakerPorts) {}

  /** One breaker; rejects with `InvalidArgumentError` for a name neither configured nor registered. */
  async get(name: string): Promise<CircuitBreakerState> {
    checkBreakerName(name, invalid, 'name');
    const board = await this.fresh();
    const record = board.record(name);
    if (!record) return invalid('name', `no circuit breaker is named ${JSON.stringify(name)}; known: ${board.names().join(', ') || '(none)'}`);
    return toBreakerState(record);
  }

  /** Every breaker, by name. */
  async all(): Promise<CircuitBreakerState[]> {
    const board = await this.fresh();
    return board
      .names()
      .sort()
      .map((name) => toBreakerState(board.record(name)!));
  }

  /**
   * Closes a breaker (failures back to 0); the jobs it held are due at once,
   * on every node. Resolves to its new state.
   */
  async reset(name: string): Promise<CircuitBreakerState> {
    checkBreakerName(name, invalid, 'name');
    const record = await this.board().reset(name);
    if (!record) return invalid('name', `no circuit breaker is named ${JSON.stringify(name)}`);
    return toBreakerState(record);
  }

  /**
   * Adds a breaker (closed), or gives one that exists new settings, keeping
   * its state. Options default to seed 003's (see {@link CircuitBreakerOptions}).
   * Registered before the application bootstraps, it may be named by
   * decorated jobs; on PostgreSQL it is known to every node.
   */
  async register(name: string, options: CircuitBreakerOptions = {}): Promise<CircuitBreakerState> {
    checkBreakerName(name, invalid, 'name');
    const settings = resolveBreakerSettings(options, invalid, 'options');
    return toBreakerState(await this.board().register(name, settings));
  }

  private async fresh(): Promise<CircuitBreakerPorts> {
    const board = this.board();
    if (board.isLoaded) await board.refresh();
    return board;
  }
}
