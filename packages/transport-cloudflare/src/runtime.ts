/**
 * The runtime's connect(): the only import of `cloudflare:sockets`, kept in
 * its own module so that everything else in the package can be loaded and
 * tested anywhere with another ConnectFunction.
 */
import { connect } from 'cloudflare:sockets'
import type { ConnectFunction } from './socket.js'

/** `connect` of `cloudflare:sockets` (the worker runtime's module; never bundled). */
export const runtimeConnect: ConnectFunction = connect
