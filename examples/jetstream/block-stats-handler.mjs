// block-stats-handler: an index-worker handler that keeps per-block
// statistics in a JetStream key-value bucket (<ns>-block-stats, one key per
// block hash): transaction, input and output counts, the value of the
// outputs, and the fees the miner claimed.
//
//   bitp2p index --peer 127.0.0.1:18444 --network regtest --nats nats://127.0.0.1:4222
//   bitp2p index-worker --nats nats://127.0.0.1:4222 --network regtest \
//                       --handler examples/jetstream/block-stats-handler.mjs      (run several)
//   nats kv get bitp2p-block-stats <block hash>                                  (or BlockStatsSink.get)
//
// Fees. A transaction's fee is its inputs' value minus its outputs' value,
// and the inputs' values are in the earlier transactions they spend (the
// prevouts), not in this block: a worker holding one part cannot know them
// and this handler does not pretend to. What it records instead is the fee
// the miner CLAIMED: the coinbase's outputs minus the block subsidy, which
// equals the block's total fees when the miner claims them all (miners do;
// it can be no more) and is a lower bound otherwise. Per-transaction fees
// need a UTXO set (or a prevout index built by an earlier pass).
//
// Idempotent: a part delivered twice (a worker crashed after the merge,
// before its ack) is merged once (BlockStatsSink keeps each block's merged
// part indexes and updates by compare-and-set).
import { BlockStatsSink } from '@bitp2p/jetstream'
import { HALVING_INTERVAL, REGTEST_HALVING_INTERVAL } from '@bitp2p/jetstream/limits'

let sink

/** Open the bucket once, before the first part. */
export async function init({ names, network, bucket }) {
  const kv = await bucket(names.blockStatsBucket)
  sink = new BlockStatsSink({ kv, halvingInterval: network.name === 'regtest' ? REGTEST_HALVING_INTERVAL : HALVING_INTERVAL })
}

/** Merge one part into its block's entry. */
export async function handle(part) {
  await sink.add(part)
}
