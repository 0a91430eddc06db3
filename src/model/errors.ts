/** Error codes; scripts and the run report rely on them. */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'FETCH_FAILED'
  | 'PARSE_FAILED'
  | 'NOT_A_FEED'
  | 'TEMPLATE_INVALID'
  | 'STORE_FAILED'
  | 'LOCKED'
  | 'DELIVERY_FAILED';

/** Base class: every error planet-digest raises on purpose carries a code and a hint for the user. */
export class DigestError extends Error {
  readonly code: ErrorCode;
  /** What the user can do about it. */
  readonly hint?: string;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = new.target.name;
    this.code = code;
    this.hint = options?.hint;
  }
}

/** One problem in a configuration file, with its JSON path ("subscribers[2].email"). */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** subscribers.json (or the environment) is invalid; lists every problem at once. */
export class ConfigError extends DigestError {
  readonly file?: string;
  readonly issues: ConfigIssue[];
  constructor(file: string | undefined, issues: ConfigIssue[], options?: { cause?: unknown; hint?: string }) {
    const where = file ?? 'configuration';
    super('CONFIG_INVALID', `${where}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n` + issues.map((i) => `  ${i.path ? i.path + ': ' : ''}${i.message}`).join('\n'), options);
    this.file = file;
    this.issues = issues;
  }
}

/** A feed could not be parsed (malformed XML, not a feed, unsafe document). */
export class ParseError extends DigestError {
  constructor(message: string, options?: { cause?: unknown; hint?: string; notAFeed?: boolean }) {
    super(options?.notAFeed ? 'NOT_A_FEED' : 'PARSE_FAILED', message, options);
  }
}

/** Another cycle holds the store's lock. */
export class LockedError extends DigestError {
  constructor(message: string, options?: { hint?: string }) {
    super('LOCKED', message, options);
  }
}

/** A template does not compile or validate. */
export class TemplateError extends DigestError {
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super('TEMPLATE_INVALID', message, options);
  }
}

/** The store could not be reached or written. */
export class StoreError extends DigestError {
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super('STORE_FAILED', message, options);
  }
}
