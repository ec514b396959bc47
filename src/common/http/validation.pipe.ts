import { StandardSchemaValidationPipe } from '@nestjs/common';
import { ValidationError } from '../errors/app-error.js';
import type { ErrorDetail } from '../errors/error-codes.js';

interface Issue {
  message: string;
  path?: ReadonlyArray<PropertyKey | { key: PropertyKey }>;
}

/** Turns Standard Schema (zod) issues into `validation.failed` details. */
function issuesToDetails(issues: readonly Issue[]): ErrorDetail[] {
  return issues.map((issue) => ({
    path: (issue.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)).join('.'),
    message: issue.message,
  }));
}

/**
 * The global validation pipe: routes declare a zod schema on a parameter
 * (`@Body({ schema: CreateX })`, `@Query({ schema })`, `@Param({ schema })`) and
 * bad input becomes 400 `validation.failed` with one detail per problem.
 * Schemas are strict objects, so unknown fields are refused too.
 */
export function createValidationPipe(): StandardSchemaValidationPipe {
  return new StandardSchemaValidationPipe({
    transform: true,
    exceptionFactory: (issues) => new ValidationError(issuesToDetails(issues)),
  });
}
