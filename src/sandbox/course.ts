/** The sandbox's one course and its people: fixed, so that every start shows the same course. */
export const SANDBOX_COURSE = {
  id: 'sandbox-course',
  label: 'SANDBOX101',
  title: 'Sandbox course',
  type: ['http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering'],
} as const;

export interface SandboxMember {
  readonly sub: string;
  readonly name: string;
  readonly givenName: string;
  readonly familyName: string;
  readonly email: string;
  readonly role: 'learner' | 'instructor';
}

export const SANDBOX_MEMBERS: readonly SandboxMember[] = [
  {
    sub: 'sandbox-instructor',
    name: 'Ian Instructor',
    givenName: 'Ian',
    familyName: 'Instructor',
    email: 'ian.instructor@sandbox.invalid',
    role: 'instructor',
  },
  { sub: 'sandbox-alice', name: 'Alice Learner', givenName: 'Alice', familyName: 'Learner', email: 'alice@sandbox.invalid', role: 'learner' },
  { sub: 'sandbox-bob', name: 'Bob Learner', givenName: 'Bob', familyName: 'Learner', email: 'bob@sandbox.invalid', role: 'learner' },
  { sub: 'sandbox-chloe', name: 'Chloe Learner', givenName: 'Chloe', familyName: 'Learner', email: 'chloe@sandbox.invalid', role: 'learner' },
];

export const SANDBOX_LEARNERS = SANDBOX_MEMBERS.filter((m) => m.role === 'learner');
export const SANDBOX_INSTRUCTOR = SANDBOX_MEMBERS.find((m) => m.role === 'instructor')!;

export function memberBySub(sub: unknown): SandboxMember | undefined {
  return SANDBOX_MEMBERS.find((m) => m.sub === sub);
}

export function rolesOf(member: SandboxMember): string[] {
  return member.role === 'instructor' ? [ROLE.CONTEXT_INSTRUCTOR] : [ROLE.CONTEXT_LEARNER];
}
import { ROLE } from '../lti/roles.js';
