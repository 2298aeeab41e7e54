// The worker runtime's own module, declared as far as runtime.ts uses it.
// It is provided by workerd and Cloudflare Workers and is never bundled
// (rollup.config.mjs marks it external).
declare module 'cloudflare:sockets' {
  /** Open an outbound TCP connection (https://developers.cloudflare.com/workers/runtime-apis/tcp-sockets/). */
  export function connect(
    address: string | { hostname: string; port: number },
    options?: { secureTransport?: 'off' | 'on' | 'starttls'; allowHalfOpen?: boolean },
  ): {
    readonly readable: ReadableStream<Uint8Array>
    readonly writable: WritableStream<Uint8Array>
    readonly opened: Promise<unknown>
    readonly closed: Promise<void>
    close(): Promise<void>
  }
}
