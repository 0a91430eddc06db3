/** V8 flags planet-digest sets for its own process at run time (see v8-flags.js for each one and why). */
export declare const CLI_V8_FLAGS: readonly string[];
/** Applies CLI_V8_FLAGS to this process, except flags also given in `execArgv` (default process.execArgv). */
export declare function applyCliV8Flags(execArgv?: readonly string[]): void;
/** V8 flags read only at process start, for node's command line or NODE_OPTIONS (see v8-flags.js). */
export declare const LAUNCH_NODE_FLAGS: readonly string[];
