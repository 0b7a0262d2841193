import { AppError } from '../../errors/app-error.js';

export function invalid(message: string, details: Record<string, unknown> = {}): AppError {
  return new AppError('PACKAGE_INVALID_MANIFEST', message, { details: { reason: message, ...details } });
}

export function unsupported(message: string, details: Record<string, unknown> = {}): AppError {
  return new AppError('PACKAGE_UNSUPPORTED', message, { details: { reason: message, ...details } });
}
