import { ROLE, roleKinds } from '../../src/lti/roles.js';
import { describe, expect, it } from 'vitest';

const V2 = 'http://purl.imsglobal.org/vocab/lis/v2/';

describe('roleKinds', () => {
  it('maps full context role URIs', () => {
    expect(roleKinds([ROLE.CONTEXT_LEARNER])).toEqual(['learner']);
    expect(roleKinds([ROLE.CONTEXT_INSTRUCTOR])).toEqual(['instructor']);
    expect(roleKinds([ROLE.CONTEXT_CONTENT_DEVELOPER])).toEqual(['content-developer']);
    expect(roleKinds([ROLE.CONTEXT_ADMINISTRATOR])).toEqual(['administrator']);
    expect(roleKinds([ROLE.CONTEXT_MENTOR])).toEqual(['mentor']);
  });

  it('maps institution roles', () => {
    expect(roleKinds([ROLE.INSTITUTION_STUDENT])).toEqual(['learner']);
    expect(roleKinds([ROLE.INSTITUTION_INSTRUCTOR])).toEqual(['instructor']);
    expect(roleKinds([`${V2}institution/person#Faculty`])).toEqual(['instructor']);
    expect(roleKinds([`${V2}institution/person#Learner`])).toEqual(['learner']);
    expect(roleKinds([ROLE.INSTITUTION_ADMINISTRATOR])).toEqual(['administrator']);
    expect(roleKinds([`${V2}institution/person#Mentor`])).toEqual(['mentor']);
  });

  it('maps system roles: Administrator and SysAdmin are administrators, others are "other"', () => {
    expect(roleKinds([ROLE.SYSTEM_ADMINISTRATOR])).toEqual(['administrator']);
    expect(roleKinds([`${V2}system/person#SysAdmin`])).toEqual(['administrator']);
    expect(roleKinds([ROLE.TEST_USER])).toEqual(['other']);
    expect(roleKinds([`${V2}system/person#User`])).toEqual(['other']);
  });

  it('only treats SysAdmin as an administrator in the system vocabulary', () => {
    expect(roleKinds([`${V2}institution/person#SysAdmin`])).toEqual(['other']);
    expect(roleKinds(['SysAdmin'])).toEqual(['other']);
  });

  it('maps the short context forms the core spec allows', () => {
    expect(roleKinds(['Instructor'])).toEqual(['instructor']);
    expect(roleKinds(['Learner'])).toEqual(['learner']);
    expect(roleKinds(['ContentDeveloper'])).toEqual(['content-developer']);
    expect(roleKinds(['Administrator'])).toEqual(['administrator']);
    expect(roleKinds(['Mentor'])).toEqual(['mentor']);
  });

  it('recognises the TeachingAssistant sub-role (full URI and short form)', () => {
    expect(roleKinds([ROLE.CONTEXT_TA])).toEqual(['teaching-assistant']);
    expect(roleKinds(['TeachingAssistant'])).toEqual(['teaching-assistant']);
    expect(roleKinds([`${V2}institution/person#TeachingAssistant`])).toEqual(['teaching-assistant']);
  });

  it('does not treat a TeachingAssistant fragment outside LIS context/institution vocabularies as a TA', () => {
    expect(roleKinds([`${V2}system/person#TeachingAssistant`])).toEqual(['other']);
    expect(roleKinds(['https://example.com/roles#TeachingAssistant'])).toEqual(['other']);
  });

  it('returns ["other"] for unknown, empty and missing roles', () => {
    expect(roleKinds([])).toEqual(['other']);
    expect(roleKinds(['Guest'])).toEqual(['other']);
    expect(roleKinds([''])).toEqual(['other']);
    expect(roleKinds([`${V2}membership#Member`, `${V2}membership#Manager`])).toEqual(['other']);
    // Role names are case-sensitive.
    expect(roleKinds(['instructor', 'LEARNER'])).toEqual(['other']);
  });

  it('ignores unknown roles next to known ones', () => {
    expect(roleKinds(['Guest', ROLE.CONTEXT_LEARNER, ROLE.TEST_USER])).toEqual(['learner']);
  });

  it('orders kinds most privileged first, whatever the input order, without duplicates', () => {
    expect(
      roleKinds([
        ROLE.CONTEXT_LEARNER,
        ROLE.CONTEXT_MENTOR,
        ROLE.CONTEXT_TA,
        ROLE.CONTEXT_CONTENT_DEVELOPER,
        ROLE.CONTEXT_INSTRUCTOR,
        ROLE.SYSTEM_ADMINISTRATOR,
        'Learner',
        ROLE.INSTITUTION_STUDENT,
      ]),
    ).toEqual(['administrator', 'instructor', 'content-developer', 'teaching-assistant', 'mentor', 'learner']);
    expect(roleKinds(['Learner', 'Instructor'])).toEqual(['instructor', 'learner']);
    expect(roleKinds([ROLE.CONTEXT_LEARNER, ROLE.INSTITUTION_STUDENT, 'Learner'])).toEqual(['learner']);
  });

  // LIS v2 defines `membership/Learner#Instructor` as a *Learner* sub-role, and LTI Core
  // (Appendix A.2.3.1) requires sub-roles to be sent with their principal role. Reading the
  // fragment alone makes such a learner an instructor (most privileged kind first).
  it('does not promote the Learner#Instructor sub-role to instructor', () => {
    expect(roleKinds([ROLE.CONTEXT_LEARNER, `${V2}membership/Learner#Instructor`])).toEqual(['learner']);
  });
});
