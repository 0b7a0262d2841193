import { csvCell } from '../rosters/progress.js';
import type { ReportRow } from './dispatch-reports.js';

/** The dispatch report as CSV (RFC 4180), cells defused against spreadsheet formulas like the progress view's. */
export function dispatchReportCsv(rows: readonly ReportRow[]): string {
  const header = [
    'learner',
    'hashed',
    'name',
    'status',
    'completion',
    'success',
    'score %',
    'attempt',
    'time (minutes)',
    'launches',
    'first launch',
    'last launch',
  ];
  const lines = rows.map((r) =>
    [
      r.learnerId,
      r.hashed ? 'yes' : 'no',
      r.learnerName,
      r.status,
      r.completion,
      r.success,
      r.scorePercent,
      r.attempt,
      Math.round(r.timeMs / 600) / 100,
      r.launches,
      new Date(r.firstLaunchAt).toISOString(),
      new Date(r.lastLaunchAt).toISOString(),
    ]
      .map(csvCell)
      .join(','),
  );
  return `${[header.join(','), ...lines].join('\r\n')}\r\n`;
}
