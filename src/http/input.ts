import type { Static, TSchema } from 'typebox';
import { Check, Errors } from 'typebox/value';
import { AppError } from '../errors/app-error.js';

/**
 * Validates request input against a TypeBox schema and returns it typed. For the console's
 * routes, whose handlers are registered through the console API rather than with a route
 * schema; everything else declares its schema on the route.
 */
export function readInput<T extends TSchema>(schema: T, value: unknown): Static<T> {
  if (Check(schema, value)) return value;
  const first = Errors(schema, value)[0];
  throw new AppError('BAD_REQUEST', `The request is invalid${first ? `: ${first.instancePath || 'the form'} ${first.message}` : ''}.`);
}
