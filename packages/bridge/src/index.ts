/**
 * @bitp2p/bridge: the WebSocket-to-TCP bridge that lets browsers and edge
 * workers (the client is `@bitp2p/transport-ws`) reach Bitcoin peers.
 * Node only; `ws` is a dependency of this package alone.
 * @module @bitp2p/bridge
 */
export * from './bridge.js'
// The policy building blocks, for operators who check targets elsewhere too.
export { canonicalIp, formatIp, ipScope, parseIp, type IpBytes, type IpScope } from './ip.js'
export {
  checkTarget,
  compileAllowlist,
  isHostname,
  MAX_ALLOWLIST_ENTRIES,
  MAX_RESOLVED_ADDRESSES,
  type Allowlist,
  type Resolver,
  type TargetPolicy,
  type TargetVerdict,
} from './policy.js'
// The bitp2p-bridge command line, for tools that embed it (`bitp2p bridge`).
export { parseCliArgs, runCli, CliUsageError, USAGE as BRIDGE_USAGE, type CliCommand, type CliIo } from './cli.js'
