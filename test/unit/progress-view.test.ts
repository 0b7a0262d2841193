import { describe, expect, it } from 'vitest';
import type { ProgressRow } from '../../src/rosters/progress.js';
import { formatDuration, progressCsvFileName, progressSummary, sortQuery, summaryLine } from '../../src/rosters/progress-view.js';

describe('the progress view in words', () => {
  it('shows short times in seconds and long ones in minutes and hours', () => {
    expect(formatDuration(0)).toBe('–');
    expect(formatDuration(400)).toBe('< 1 s');
    expect(formatDuration(14_000)).toBe('14 s');
    expect(formatDuration(59_400)).toBe('59 s');
    expect(formatDuration(60_000)).toBe('1 min');
    expect(formatDuration(200_000)).toBe('3 min 20 s');
    expect(formatDuration(12 * 60_000)).toBe('12 min');
    expect(formatDuration(3_600_000)).toBe('1 h');
    expect(formatDuration(5_400_000)).toBe('1 h 30 min');
  });

  const row = (over: Partial<ProgressRow>): ProgressRow => ({
    sub: 's',
    name: null,
    email: null,
    status: 'Active',
    attempt: null,
    completion: 'not attempted',
    success: 'unknown',
    scorePercent: null,
    timeMs: 0,
    lastAccess: null,
    grade: null,
    gradeError: null,
    ...over,
  });

  it('sums up who started, completed, passed and did not start', () => {
    const rows = [
      row({ attempt: 1, completion: 'completed', success: 'passed' }),
      row({ attempt: 1, completion: 'completed', success: 'failed' }),
      row({ attempt: 1, completion: 'incomplete' }),
      row({ attempt: 1 }), // launched, never got going
      row({}),
    ];
    expect(progressSummary(rows)).toEqual({ learners: 5, started: 3, completed: 2, passed: 1, notStarted: 2 });
    expect(summaryLine(progressSummary(rows))).toBe('5 learners: 3 started, 2 completed, 1 passed, 2 not started.');
    expect(summaryLine(progressSummary([]))).toBe('No learners yet.');
    expect(summaryLine(progressSummary([row({})]))).toBe('1 learner: 0 started, 0 completed, 0 passed, 1 not started.');
  });

  it('names the CSV after the course and the activity, in characters every header and file system takes', () => {
    expect(progressCsvFileName({ courseTitle: 'Introduction to Golf', linkTitle: 'Week 1: Putting' })).toBe('progress-introduction-to-golf-week-1-putting.csv');
    expect(progressCsvFileName({ courseTitle: 'Économie générale', linkTitle: null })).toBe('progress-economie-generale.csv');
    expect(progressCsvFileName({ courseTitle: '"; rm -rf /', linkTitle: '../../etc' })).toBe('progress-rm-rf-etc.csv');
    expect(progressCsvFileName({ courseTitle: null, linkTitle: '日本語' })).toBe('progress.csv');
    expect(progressCsvFileName({ courseTitle: 'x'.repeat(500), linkTitle: null })).toBe(`progress-${'x'.repeat(60)}.csv`);
  });

  it('keeps the sort in the query except for the default', () => {
    expect(sortQuery('name')).toBe('');
    expect(sortQuery('time')).toBe('?sort=time');
  });
});
