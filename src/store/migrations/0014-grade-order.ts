import { sql, type Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
// Scores of one learner on one link are ordered: `seq` (the score's timestamp in ms for new
// rows) is unique per (link, learner), so "the newest score" is one row and never a tie.
// `lease_id` names the claim a worker holds: a worker whose lease was taken over cannot
// record anything for the row any more.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('grade_outbox')
    .addColumn('seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('grade_outbox').addColumn('lease_id', 'varchar(64)').execute();
  // Rows queued before: numbered 1, 2, … per (link, learner) in the order they were queued,
  // below any timestamp a new score gets.
  await sql`
    update grade_outbox set seq = (
      select count(*) from grade_outbox o
      where o.resource_link_id = grade_outbox.resource_link_id and o.user_id = grade_outbox.user_id
        and (o.created_at < grade_outbox.created_at or (o.created_at = grade_outbox.created_at and o.id <= grade_outbox.id))
    )`.execute(db);
  await db.schema.createIndex('grade_outbox_learner_seq_idx').on('grade_outbox').columns(['resource_link_id', 'user_id', 'seq']).unique().execute();
}
