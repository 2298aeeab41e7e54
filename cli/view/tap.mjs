// A wiretap for the view: a Connector whose transports report every whole
// frame that crosses them (direction, command, size) without touching the
// bytes. The frames are followed by session's FrameMeter (one per
// direction), which reads only the headers, skips payloads by their
// declared length (BSV extended messages by their 64-bit one), and never
// buffers or decodes a payload.
import { FrameMeter } from '@bitp2p/session'

/**
 * A transport that reports its frames. `remote` is a fresh frozen object per
 * connection: the Peer driver keeps that very object as `peer.remote`, which
 * is how a frame's connection is matched to its Peer (see tapConnector).
 */
class TappedTransport {
  #inner
  #out
  #in
  #onClosed
  constructor(inner, network, onFrame, onClosed) {
    this.#inner = inner
    this.#onClosed = onClosed
    this.remote = Object.freeze({ host: inner.remote.host, port: inner.remote.port })
    this.#out = new FrameMeter({ network, onFrame: (command, bytes) => onFrame('out', command, bytes) })
    this.#in = new FrameMeter({ network, onFrame: (command, bytes) => onFrame('in', command, bytes) })
  }
  get bufferedAmount() {
    return this.#inner.bufferedAmount
  }
  send(bytes) {
    this.#out.push(bytes)
    this.#inner.send(bytes)
  }
  close(reason) {
    this.#inner.close(reason)
  }
  onData(cb) {
    // Report before the driver sees the bytes, so a message comes before what it causes.
    this.#inner.onData((bytes) => {
      this.#in.push(bytes)
      cb(bytes)
    })
  }
  onClose(cb) {
    this.#inner.onClose((err) => {
      this.#onClosed()
      cb(err)
    })
  }
  onDrain(cb) {
    this.#inner.onDrain(cb)
  }
}

/**
 * Wrap a Connector: each transport it opens calls
 * `onFrame(remote, direction, command, bytes)` for every whole frame,
 * direction 'out' (we sent it) or 'in' (we received it),
 * `onConnection(remote)` when it opens and `onClosed(remote)` when it
 * closes. `remote` is the object the Peer driver will expose as
 * `peer.remote`. `network` is the network's parameters (magic, and
 * `supportsExtMsg` for BSV extended messages) or just its magic bytes.
 * Frames are labelled as FrameMeter counts them: after a wrong magic,
 * one '(unframed)' report and nothing more from that direction.
 */
export function tapConnector(connector, network, { onConnection, onFrame, onClosed = () => {} }) {
  const params = network instanceof Uint8Array ? { magic: network } : network
  return {
    async connect(addr, signal) {
      const inner = await connector.connect(addr, signal)
      let remote
      const t = new TappedTransport(
        inner,
        params,
        (dir, command, bytes) => onFrame(remote, dir, command, bytes),
        () => onClosed(remote),
      )
      remote = t.remote
      onConnection(remote)
      return t
    },
  }
}
