/**
 * Errors of our own making. A peer's faults are never thrown: they become
 * offenses and disconnect reasons. These are thrown when *we* misuse a
 * machine (h11's LocalProtocolError): sending before the handshake is done,
 * a request the protocol cannot carry, input after close.
 */
export class LocalProtocolError extends Error {
  override readonly name = 'LocalProtocolError'
}
