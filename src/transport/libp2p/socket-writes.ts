/**
 * One system call per transport write instead of one per buffer.
 *
 * The layers under a libp2p stream hand the TCP connection a list of buffers
 * per message: yamux's 12-byte header, then noise's 2-byte length, one
 * ciphertext per piece of the frame and its 16-byte tag. @libp2p/tcp 11
 * writes each buffer with its own `socket.write`, and with TCP_NODELAY (its
 * default, right for real-time media) each becomes its own write syscall and
 * its own TCP segment: 5 per frame on the raw baseline and 6 on the relay
 * (measured with /proc/<pid>/io in the fan-out bench). Corking the socket
 * around the list sends it as one writev and one segment train, which is what
 * Node's own HTTP server does per response.
 *
 * The hook reaches into two private fields of pinned releases (libp2p's
 * `Connection.maConn`, @libp2p/tcp's `socket`), so it checks their shapes and
 * leaves any other connection (another transport, another release) as it is;
 * test/transport/socket-writes.test.ts fails if the pinned shapes change.
 */
import { Socket } from 'node:net'
import type { Connection } from '@libp2p/interface'

/** What `sendData` returns in @libp2p/utils 7 (AbstractMessageStream). */
interface SendResult { sentBytes: number, canSendMore: boolean }

/** The part of @libp2p/tcp's TCPSocketMultiaddrConnection this hook uses. */
interface TcpMultiaddrConnection {
  socket: Socket
  sendData: (data: Iterable<Uint8Array>) => SendResult
}

function tcpConnectionOf (connection: Connection): TcpMultiaddrConnection | undefined {
  const maConn = (connection as unknown as { maConn?: Partial<TcpMultiaddrConnection> }).maConn
  if (maConn === undefined || !(maConn.socket instanceof Socket) || typeof maConn.sendData !== 'function') return undefined
  return maConn as TcpMultiaddrConnection
}

/**
 * Makes every transport write on `connection` one corked socket write.
 * Back-pressure keeps its meaning: the connection may send more while the
 * socket holds less than its high-water mark after the write. Idempotent.
 * @returns false when the connection is not a TCP connection of the pinned
 *   @libp2p/tcp (nothing changed)
 */
export function gatherSocketWrites (connection: Connection): boolean {
  const tcp = tcpConnectionOf(connection)
  if (tcp === undefined) return false
  if ((tcp.sendData as { gathered?: true }).gathered === true) return true
  const socket = tcp.socket
  const sendData = (data: Iterable<Uint8Array>): SendResult => {
    let sentBytes = 0
    socket.cork()
    try {
      for (const buf of data) {
        socket.write(buf)
        sentBytes += buf.byteLength
      }
    } finally {
      socket.uncork()
    }
    // uncork() has tried the writev already: what the kernel did not take is
    // still counted in writableLength.
    return { sentBytes, canSendMore: socket.writableLength < socket.writableHighWaterMark }
  }
  tcp.sendData = Object.assign(sendData, { gathered: true as const })
  return true
}
