// Socket.IO connection helpers around the vendored client (same origin only).
import { io } from "./vendor/socket.io-client-4.8.4.esm.min.js";

export const ACK_TIMEOUT_MS = 10000;

/** Connect to a namespace of this server. `auth` is sent on every (re)connect. */
export function connect(namespace, auth) {
  return io(namespace, {
    auth,
    // Keep reconnecting: a patient's Wi-Fi drop must not end the test.
    reconnection: true,
    reconnectionDelay: 1000,
    reconnectionDelayMax: 5000,
  });
}

/**
 * Emit and wait for the server's acknowledgement {ok, ...}. Resolves with the ack (ok or not);
 * a timeout resolves with {ok: false, error: "timeout"} so callers handle one shape.
 */
export async function request(socket, event, payload = {}) {
  try {
    return await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload);
  } catch {
    return {
      ok: false,
      error: "timeout",
      message: "The server did not answer. Check your internet connection; the page keeps trying.",
    };
  }
}
