// A tour of @bitp2p/wire: frame a message, decode a byte stream in arbitrary
// chunks, and parse a block with its txids. Run by test/examples.test.ts.
import {
  MessageDecoder,
  encodeMessage,
  regtest,
  parseBlock,
  blockTxids,
  blockHash,
  hashToHex,
  verifyBlock,
  Services,
  PROTOCOL_VERSION,
  ipFromString,
} from '../src/index.js'

export function tour(block: Uint8Array): string[] {
  const out: string[] = []

  // 1. Encode two messages for regtest and glue them into one stream.
  const version = encodeMessage(
    {
      command: 'version',
      version: PROTOCOL_VERSION,
      services: Services.NODE_NETWORK | Services.NODE_WITNESS,
      timestamp: 1_700_000_000n,
      addrRecv: { services: 0n, host: ipFromString('127.0.0.1'), port: 18444 },
      addrFrom: { services: 0n, host: ipFromString('0.0.0.0'), port: 0 },
      nonce: 42n,
      userAgent: '/bitp2p:0.1.0/',
      startHeight: 0,
      relay: true,
    },
    regtest,
  )
  const ping = encodeMessage({ command: 'ping', nonce: 7n }, regtest)
  const stream = new Uint8Array([...version, ...ping])

  // 2. Decode it three bytes at a time: "need more bytes" is just an empty result.
  const decoder = new MessageDecoder({ network: regtest })
  for (let i = 0; i < stream.length; i += 3) {
    for (const ev of decoder.push(stream.subarray(i, i + 3))) {
      if (ev.type === 'message' && ev.message.command === 'version') out.push(`version from ${ev.message.userAgent}`)
      else if (ev.type === 'message' && ev.message.command === 'ping') out.push(`ping nonce ${ev.message.nonce}`)
      else out.push(`unexpected ${ev.type}`)
    }
  }

  // 3. Parse a whole block, check its merkle root (and witness commitment), list txids.
  const b = parseBlock(block)
  verifyBlock(b)
  const txids = blockTxids(b)
  out.push(`block ${hashToHex(blockHash(b.header))} has ${b.txs.length} txs, first ${hashToHex(txids[0]!)}`)
  return out
}
