/**
 * The part of undici that src/ uses (Agent, request), for the bundle only: scripts/build-bundle.mjs points src/'s
 * `import … from 'undici'` here. undici's index.js also loads fetch, WebSocket, EventSource, cookies, caches and mocks
 * (1 MB of code), and its cookies module reads globalThis.Headers, which on Node 20 loads Node's own copy of undici and
 * compiles that copy's WebAssembly HTTP parser as well: about 50 ms of CPU and 9 MB of peak RSS on every start.
 * Anything src/ imports from undici that is not exported here fails the build ("No matching export").
 */
import Dispatcher from 'undici/lib/dispatcher/dispatcher.js';
import Agent from 'undici/lib/dispatcher/agent.js';
import api from 'undici/lib/api/index.js';
import util from 'undici/lib/core/util.js';
import errors from 'undici/lib/core/errors.js';
import globalDispatcher from 'undici/lib/global.js';

// What undici's index.js does first: request, stream, pipeline… are methods of every Dispatcher (Agent included).
Object.assign(Dispatcher.prototype, api);

/** undici's top-level request(url, options[, handler]): the same argument handling as its index.js makeDispatcher(api.request). */
export function request(url, opts, handler) {
  if (typeof opts === 'function') {
    handler = opts;
    opts = null;
  }
  if (!url || (typeof url !== 'string' && typeof url !== 'object' && !(url instanceof URL))) throw new errors.InvalidArgumentError('invalid url');
  if (opts != null && typeof opts !== 'object') throw new errors.InvalidArgumentError('invalid opts');
  let target;
  if (opts && opts.path != null) {
    if (typeof opts.path !== 'string') throw new errors.InvalidArgumentError('invalid opts.path');
    target = new URL(util.parseOrigin(url).origin + (opts.path.startsWith('/') ? opts.path : `/${opts.path}`));
  } else {
    opts ??= typeof url === 'object' ? url : {};
    target = util.parseURL(url);
  }
  const { agent, dispatcher = globalDispatcher.getGlobalDispatcher() } = opts;
  if (agent) throw new errors.InvalidArgumentError('unsupported opts.agent. Did you mean opts.client?');
  const path = target.search ? `${target.pathname}${target.search}` : target.pathname;
  return api.request.call(dispatcher, { ...opts, origin: target.origin, path, method: opts.method || (opts.body ? 'PUT' : 'GET') }, handler);
}

export { Agent, Dispatcher, errors };
