// Connection slots: at most `cap` connections, and a new client always gets one while any is held by a connection
// doing nothing. Refusing at the cap (Node's maxConnections) let a local tool opening slow connections lock every other
// client out until they timed out; here, at the cap, the connection that has waited longest without a request in
// flight makes room: first one that never completed a request head (a slow or silent client), then an idle keep-alive
// one. Requests in flight are never cut (the request timeout bounds them); when every slot holds one, the new
// connection is closed unanswered, as before.
import type { Socket } from 'node:net';
import type { ServerResponse } from 'node:http';

export interface Slot {
  /**
   * When the connection was accepted, or last finished a response, as a count of such events (only the order matters:
   * the one that has done nothing longest goes first), so no clock is read per request.
   */
  since: number;
  /** Requests being served on it. */
  busy: number;
  /** Requests it completed: none means it never sent a whole request head. */
  served: number;
  /** Handed to another protocol (gRPC, TLS), whose requests this does not see: never evicted. */
  other: boolean;
}

export class ConnectionSlots {
  private slots = new Map<Socket, Slot>();
  /** Connections closed to make room (diagnostics and tests). */
  evicted = 0;

  constructor(private cap: number) {}

  get size(): number { return this.slots.size; }

  /** Takes a new connection; false (and the socket destroyed) when every slot holds a request in flight. */
  admit(socket: Socket): boolean {
    if (this.slots.size >= this.cap) {
      const victim = this.idlest();
      if (!victim) { socket.destroy(); return false; }
      this.slots.delete(victim);
      this.evicted++;
      victim.destroy();
    }
    this.slots.set(socket, { since: ++events, busy: 0, served: 0, other: false });
    socket.once('close', () => this.slots.delete(socket));
    return true;
  }

  /** A request head arrived on `socket`: its slot is in use until the request is `served`. */
  request(socket: Socket): Slot | undefined {
    const s = this.slots.get(socket);
    if (s) s.busy++;
    return s;
  }

  /**
   * The listener's synchronous part of a request is over: the slot is free at once when the answer was written whole
   * and the socket took it all (most reads), else when the response closes. One shared listener, the slot on the
   * response: no closure made per request. (A response closes once.)
   */
  served(slot: Slot | undefined, res: ServerResponse): void {
    if (!slot) return;
    if (res.writableFinished) return free(slot);
    (res as SlotResponse)[SLOT] = slot;
    res.on('close', release);
  }

  /** The connection speaks another protocol (HTTP/2, TLS) from here on. */
  handedOver(socket: Socket): void {
    const s = this.slots.get(socket);
    if (s) s.other = true;
  }

  /** The connection without a request in flight that has waited longest, those that never sent one first. */
  private idlest(): Socket | undefined {
    let best: Socket | undefined;
    let bestSlot: Slot | undefined;
    for (const [socket, s] of this.slots) {
      if (s.busy || s.other) continue;
      if (!bestSlot || tier(s) < tier(bestSlot) || (tier(s) === tier(bestSlot) && s.since < bestSlot.since)) { best = socket; bestSlot = s; }
    }
    return best;
  }
}

/** Accepts and finished responses so far: the order `since` is counted in. */
let events = 0;
const SLOT = Symbol('slot');
type SlotResponse = ServerResponse & { [SLOT]?: Slot };

function release(this: SlotResponse): void {
  const s = this[SLOT];
  if (!s) return;
  this[SLOT] = undefined;
  free(s);
}

function free(s: Slot): void { s.busy--; s.served++; s.since = ++events; }

/** Which idle connections go first: those that never completed a request, then idle keep-alive ones. */
function tier(s: Slot): number { return s.served === 0 ? 0 : 1; }
