import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { Database } from './tables.js';

/**
 * Queries of a fixed shape on the launch hot path, built and compiled once per dialect and then
 * run with new values. Building and compiling a Kysely query (immutable nodes, a visitor) costs
 * about as much as SQLite takes to run it; a handshake runs a dozen of them (docs/performance.md).
 *
 * The query is built with `arg(i)` where its i-th value goes; compiling it once shows where each
 * one lands among the SQL parameters. A query whose parameters are not all arguments is refused
 * when first compiled (a value Kysely would inline, or a constant, would be frozen otherwise).
 */
const MARK = '\u0000courseport-arg:';

/**
 * Stands for the i-th value passed to `run`. Typed `never`, which fits every column, because the
 * marker is only ever compiled, never stored: `PreparedQuery` swaps it for the real value.
 */
export function arg(i: number): never {
  return `${MARK}${i}` as never;
}

interface Compiled {
  readonly query: CompiledQuery<unknown>;
  /** For each SQL parameter, the index of the argument that fills it. */
  readonly positions: readonly number[];
}

export class PreparedQuery<R> {
  /** One compiled form per dialect adapter (shared by a database and its transactions). */
  private readonly compiled = new WeakMap<object, Compiled>();

  constructor(
    private readonly name: string,
    private readonly build: (db: Kysely<Database>) => Compilable<R>,
  ) {}

  async run(db: Kysely<Database>, ...args: unknown[]): Promise<QueryResult<R>> {
    const c = this.compiledFor(db);
    const parameters = new Array<unknown>(c.positions.length);
    for (let i = 0; i < c.positions.length; i++) {
      const value = args[c.positions[i]!];
      // Kysely leaves undefined values out of a query; this one has fixed columns, so SQL NULL.
      parameters[i] = value === undefined ? null : value;
    }
    return db.executeQuery<R>({ ...c.query, parameters } as CompiledQuery<R>);
  }

  async first(db: Kysely<Database>, ...args: unknown[]): Promise<R | undefined> {
    return (await this.run(db, ...args)).rows[0];
  }

  private compiledFor(db: Kysely<Database>): Compiled {
    const adapter = db.getExecutor().adapter;
    let c = this.compiled.get(adapter);
    if (!c) {
      const query = this.build(db).compile() as CompiledQuery<unknown>;
      const positions = query.parameters.map((p) => {
        if (typeof p !== 'string' || !p.startsWith(MARK)) {
          throw new Error(`prepared query ${this.name}: parameter ${JSON.stringify(p)} is not an argument (${query.sql})`);
        }
        return Number(p.slice(MARK.length));
      });
      c = { query, positions };
      this.compiled.set(adapter, c);
    }
    return c;
  }
}
