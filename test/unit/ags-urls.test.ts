import { describe, expect, it } from 'vitest';
import { lineItemServiceUrl, nextLink } from '../../src/lti/ags.js';

describe('AGS URLs', () => {
  it('puts /scores and /results on the path and keeps the query (Moodle)', () => {
    expect(lineItemServiceUrl('https://moodle.example.edu/mod/lti/services.php/2/lineitems/7/lineitem?type_id=3', 'scores').toString()).toBe(
      'https://moodle.example.edu/mod/lti/services.php/2/lineitems/7/lineitem/scores?type_id=3',
    );
    expect(lineItemServiceUrl('https://canvas.example.com/api/lti/courses/1/line_items/9/', 'results').toString()).toBe(
      'https://canvas.example.com/api/lti/courses/1/line_items/9/results',
    );
  });

  it('finds rel="next" among several links, relative or absolute', () => {
    const base = 'https://lms.example/lineitems?page=1';
    expect(nextLink('<https://lms.example/lineitems?page=2>; rel="next", <https://lms.example/lineitems?page=9>; rel="last"', base)).toBe(
      'https://lms.example/lineitems?page=2',
    );
    expect(nextLink('</lineitems?page=3>; rel=next', base)).toBe('https://lms.example/lineitems?page=3');
    expect(nextLink('<https://lms.example/x>; rel="prev"', base)).toBeUndefined();
    expect(nextLink(null, base)).toBeUndefined();
    expect(nextLink('<https://lms.example/a,b?x=1>; rel="differences", <https://lms.example/n>; rel="next"', base)).toBe('https://lms.example/n');
  });
});
