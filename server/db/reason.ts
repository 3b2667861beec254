// The database driver's own words for a failure, for start-up errors an operator can act on. Node only.

/**
 * pg's server error ("role \"x\" does not exist", "password authentication failed for user \"x\""),
 * or the socket's ("connect ECONNREFUSED 127.0.0.1:5432"); an AggregateError, whose message is empty,
 * when every address of a host name failed.
 */
export function driverReason(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return [...new Set(error.errors.map(driverReason))].join('; ');
  if (error instanceof Error) {
    if (error.message) return error.message;
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? code : error.name;
  }
  return String(error);
}
