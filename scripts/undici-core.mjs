/**
 * The part of undici that src/ uses (Agent and its request method), for the bundle only: scripts/build-bundle.mjs
 * points src/'s `import … from 'undici'` here. undici's index.js also loads fetch, WebSocket, EventSource, cookies, caches and mocks
 * (1 MB of code), and its cookies module reads globalThis.Headers, which on Node 20 loads Node's own copy of undici and
 * compiles that copy's WebAssembly HTTP parser as well: about 50 ms of CPU and 9 MB of peak RSS on every start.
 * Anything src/ imports from undici that is not exported here fails the build ("No matching export").
 */
import Dispatcher from 'undici/lib/dispatcher/dispatcher.js';
import Agent from 'undici/lib/dispatcher/agent.js';
import api from 'undici/lib/api/index.js';
import errors from 'undici/lib/core/errors.js';

// What undici's index.js does first: request, stream, pipeline… become methods of every Dispatcher (Agent included);
// src/fetch calls dispatcher.request() on the Agent it is given.
Object.assign(Dispatcher.prototype, api);

export { Agent, Dispatcher, errors };
