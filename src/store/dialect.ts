/** The two database engines Courseport runs on. */
export type Dialect = 'sqlite' | 'postgres';
