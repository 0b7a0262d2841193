import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { Database } from './tables.js';

/**
 * Queries of a fixed shape on the launch hot path, built and compiled once per dialect and then
 * run with new values. Building and compiling a Kysely query (immutable nodes, a visitor) costs
 * about as much as SQLite takes to run it; a handshake runs a dozen of them (docs/performance.md).
 *
 * The query is built from named, typed arguments: `(db, a: { id: string }) => db.selectFrom(…)
 * .where('id', '=', a.id)`. At compile time each `a.<name>` is a marker; compiling the query once
 * shows where each argument lands among the SQL parameters, and `run(db, { id })` fills them in.
 * A query whose parameters are not all arguments is refused when first compiled (a value Kysely
 * would inline, or a constant, would be frozen otherwise).
 */
const MARK = '\u0000courseport-arg:';

/** The arguments object a query is built with: every property read gives that argument's marker. */
const MARKERS = new Proxy({} as Record<string, unknown>, {
  get: (_target, name) => `${MARK}${String(name)}`,
});

interface Compiled {
  readonly query: CompiledQuery<unknown>;
  /** For each SQL parameter, the name of the argument that fills it. */
  readonly names: readonly string[];
}

export class PreparedQuery<A extends object, R> {
  /** One compiled form per dialect adapter (shared by a database and its transactions). */
  private readonly compiled = new WeakMap<object, Compiled>();

  constructor(
    private readonly name: string,
    private readonly build: (db: Kysely<Database>, args: A) => Compilable<R>,
  ) {}

  async run(db: Kysely<Database>, args: A): Promise<QueryResult<R>> {
    const c = this.compiledFor(db);
    const values = args as Record<string, unknown>;
    const parameters = new Array<unknown>(c.names.length);
    for (let i = 0; i < c.names.length; i++) {
      const value = values[c.names[i] as string];
      // Kysely leaves undefined values out of a query; this one has fixed columns, so SQL NULL.
      parameters[i] = value === undefined ? null : value;
    }
    return db.executeQuery<R>({ ...c.query, parameters } as CompiledQuery<R>);
  }

  async first(db: Kysely<Database>, args: A): Promise<R | undefined> {
    return (await this.run(db, args)).rows[0];
  }

  private compiledFor(db: Kysely<Database>): Compiled {
    const adapter = db.getExecutor().adapter;
    let c = this.compiled.get(adapter);
    if (!c) {
      const query = this.build(db, MARKERS as A).compile() as CompiledQuery<unknown>;
      const names = query.parameters.map((p) => {
        if (typeof p !== 'string' || !p.startsWith(MARK)) {
          throw new Error(`prepared query ${this.name}: parameter ${JSON.stringify(p)} is not an argument (${query.sql})`);
        }
        return p.slice(MARK.length);
      });
      c = { query, names };
      this.compiled.set(adapter, c);
    }
    return c;
  }
}
