#!/usr/bin/env node
'use strict';
// bcoin@1.0.2 regtest full node for bitp2p's interop tests: in-memory,
// loopback only. Adapted from shared/tools/bcoin-regtest-server.cjs; every
// loopback guard of the original is kept:
//   - createSocket refuses any non-loopback host (bcoin's only outbound path),
//   - discoverExternal (OpenDNS queries) and getHost (self-chosen peers) are
//     neutralised, seeds are [], every server binds 127.0.0.1.
//
// Prints ONE JSON line on stdout when ready:
//   {"ready":true,"pid","bcoin","network":"regtest","magic":"fabfb5da","p2p","http",
//    "wallet","apiKey","height","mineAddress","startup_ms"}
// Env: P2P_PORT (0 = ephemeral), HTTP_PORT (0 = ephemeral), WALLET_PORT (0 = ephemeral),
//      API_KEY, MINE (blocks to mine at start, default 0), INV_MS (tx inv flush, default 5000),
//      WALLET=1 (load the in-memory wallet plugin; mining goes to its address),
//      EXIT_ON_STDIN_CLOSE=1 (exit when stdin closes: the parent died), LOG_LEVEL.
// Stop it with SIGTERM/SIGINT to its PID.
//
// Everything the tests do afterwards goes through bcoin's JSON-RPC on
// 127.0.0.1 (test/harness/bcoin.ts): generatetoaddress, getrawmempool,
// addnode "<ip>:<port>" onetry, invalidateblock, reconsiderblock on the node
// port; getnewaddress, sendtoaddress on the wallet port (WALLET=1).
const t0 = Date.now();
// bcoin's native backends are not built (their install scripts are denied).
process.env.NODE_BACKEND = 'js';
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
{
  // bdb requires leveldown even with memory: true; its native build is denied.
  const lvl = require.resolve('leveldown', { paths: [path.dirname(require.resolve('bdb'))] });
  require.cache[lvl] = { id: lvl, filename: lvl, loaded: true,
    exports: () => { throw new Error('leveldown stubbed out: use memory:true'); } };
}
const bcoin = require('bcoin');
if (process.env.INV_MS) bcoin.Peer.INV_INTERVAL = Number(process.env.INV_MS);

const env = (k, d) => (process.env[k] !== undefined ? process.env[k] : d);
const isLoopback = (h) => h === 'localhost' || h === '::1' || /^127\./.test(h);

// bcoin asserts port > 0, so "0" means: pick a free loopback port here first.
const freePort = () => new Promise((resolve, reject) => {
  const s = net.createServer().once('error', reject)
    .listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});
const portOf = async (k, d) => { const v = Number(env(k, d)); return v === 0 ? freePort() : v; };

let node = null;
let stopping = false;
const stop = async (code = 0) => {
  if (stopping) return;
  stopping = true;
  // A clean close normally takes milliseconds; never let it hang the exit.
  setTimeout(() => process.exit(code), 2000).unref();
  try { if (node) await node.close(); } catch (e) { console.error(e); code = code || 1; }
  finally { process.exit(code); }
};
process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
if (env('EXIT_ON_STDIN_CLOSE', '0') === '1') {
  // The parent holds our stdin open; if it dies (even by SIGKILL) the pipe
  // closes and we go too, so no orphan node outlives a failed test run.
  process.stdin.on('end', () => stop(0));
  process.stdin.on('close', () => stop(0));
  process.stdin.resume();
}

(async () => {
  const apiKey = env('API_KEY', 'test');
  const P2P = await portOf('P2P_PORT', 48444);
  const HTTP = await portOf('HTTP_PORT', 48332);
  const WALLET = await portOf('WALLET_PORT', 48334);
  node = new bcoin.FullNode({
    network: 'regtest', memory: true, workers: false,
    prefix: path.join(os.tmpdir(), 'bcoin-regtest-unused'),
    listen: true, host: '127.0.0.1', port: P2P,
    seeds: [], bip37: true,
    httpHost: '127.0.0.1', httpPort: HTTP, apiKey,
    walletHttpHost: '127.0.0.1', walletHttpPort: WALLET, // used only with WALLET=1
    logLevel: env('LOG_LEVEL', 'error'), logConsole: true,
    createSocket: (port, host) => {
      if (!isLoopback(host)) throw new Error(`blocked non-loopback connect to ${host}:${port}`);
      return net.connect(port, host);
    },
  });
  node.pool.discoverExternal = async () => {}; // would query OpenDNS resolvers
  node.pool.getHost = () => null;               // no self-chosen outbound peers
  let wdb = null;
  if (env('WALLET', '0') === '1') {
    wdb = node.use(bcoin.wallet.plugin).wdb; // in-memory WalletDB + wallet HTTP/RPC
  }
  await node.open();
  await node.connect();
  node.startSync();

  let addr;
  if (wdb) {
    const w = await wdb.get('primary');
    addr = (await w.receiveAddress()).toString('regtest');
  } else {
    addr = bcoin.KeyRing.generate().getAddress().toString('regtest');
  }
  const mine = Number(env('MINE', 0));
  if (mine > 0) await node.rpc.execute({ method: 'generatetoaddress', params: [mine, addr] });
  if (wdb) {
    // Let the wallet see every mined block before the tests ask it to spend.
    while (wdb.state.height < node.chain.height) await new Promise((r) => setTimeout(r, 10));
  }

  // The network magic as it appears on the wire (little-endian u32).
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(node.network.magic >>> 0);

  const info = {
    ready: true, pid: process.pid, bcoin: bcoin.pkg.version,
    network: node.network.type, magic: magic.toString('hex'),
    p2p: node.pool.server.address().port,
    http: HTTP,
    wallet: wdb ? WALLET : null,
    apiKey, height: node.chain.height, mineAddress: addr, startup_ms: Date.now() - t0,
  };
  process.stdout.write(JSON.stringify(info) + '\n');
})().catch((e) => { console.error(e); stop(1); });
