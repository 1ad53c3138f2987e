#!/usr/bin/env python3
"""Independent explicit-state reference oracle for the `lock-recipe-reference`
benchmark workload (docs/benchmark.md), written
independently of lockscope as a check of its state counts.

Plain Python 3, stdlib only.  Breadth-first search over the COMPLETE reachable
space (violating states are expanded too).

Usage:  reference_oracle.py N E [--trace FILE]

Prints one JSON line:
  {"n":..,"e":..,"states":..,"transitions":..,"max_depth":..,
   "deadlocks":..,"me_violated":..,"me_shortest":..}
"""
import json
import sys
import time

# ---------------------------------------------------------------- constants
INIT, WAIT_CREATED, WAIT_CHILDREN, WAIT_STAT, WAIT_WATCH, IN_CS, \
    WAIT_DELETED, DONE, ABANDONED = range(9)
PHASE_NAME = ["Init", "WaitCreated", "WaitChildren", "WaitStat", "WaitWatch",
              "InCs", "WaitDeleted", "Done", "Abandoned"]
WAITING = (WAIT_CREATED, WAIT_CHILDREN, WAIT_STAT, WAIT_WATCH, WAIT_DELETED)
FINAL = (DONE, ABANDONED)

# requests (client -> server)
CREATE, GET_CHILDREN, EXISTS, DELETE = 0, 1, 2, 3
# replies / notifications (server -> client)
CREATED, CHILDREN, STAT, DELETED, NODE_DELETED, SESSION_EXPIRED = \
    10, 11, 12, 13, 14, 15
REPLIES = (CREATED, CHILDREN, STAT, DELETED)

NONE = -1  # "no sequence number" / "no watch"


class Unreachable(AssertionError):
    """A condition the document declares unreachable by construction."""


def msg_str(m):
    t, a = m
    if t == CREATE:
        return "Create"
    if t == GET_CHILDREN:
        return "GetChildren"
    if t == EXISTS:
        return "Exists(%d)" % a
    if t == DELETE:
        return "Delete(%d)" % a
    if t == CREATED:
        return "Created(%d)" % a
    if t == CHILDREN:
        return "Children({%s})" % ",".join(
            str(b) for b in range(a.bit_length()) if a >> b & 1)
    if t == STAT:
        return "Stat(%s)" % ("true" if a else "false")
    if t == DELETED:
        return "Deleted"
    if t == NODE_DELETED:
        return "NodeDeleted(%d)" % a
    if t == SESSION_EXPIRED:
        return "SessionExpired"
    return "?%r" % (m,)


# State layout (flat tuple, hashable):
#  0 phases   tuple[N] of phase codes
#  1 seqs     tuple[N] client's own seq or NONE
#  2 znodes   tuple[N] server znode slot per session: seq or NONE
#  3 counter  int
#  4 watches  tuple[N] seq watched by the session or NONE
#  5 lives    tuple[N] bool
#  6 exp      int expiries used
#  7 reqs     tuple[N] of tuple of messages (client -> server FIFO)
#  8 resps    tuple[N] of tuple of messages (server -> client FIFO)

def initial_state(n):
    return ((INIT,) * n, (NONE,) * n, (NONE,) * n, 0, (NONE,) * n,
            (True,) * n, 0, ((),) * n, ((),) * n)


def set_at(t, i, v):
    return t[:i] + (v,) + t[i + 1:]


def check_state(s, n):
    """Per-state 'unreachable by construction' checks."""
    phases, seqs, znodes, counter, watches, lives, exp, reqs, resps = s
    for i in range(n):
        # messages left for a Done or Abandoned client
        if phases[i] in FINAL and resps[i]:
            raise Unreachable("messages left for %s client C%d: %r"
                              % (PHASE_NAME[phases[i]], i, resps[i]))
        # more than one outstanding request per client.  Checked strictly:
        # requests still queued plus replies not yet consumed <= 1.
        nreq = len(reqs[i])
        nrep = sum(1 for m in resps[i] if m[0] in REPLIES)
        if nreq > 1 or nreq + nrep > 1:
            raise Unreachable("more than one outstanding request for C%d: "
                              "reqs=%r resps=%r" % (i, reqs[i], resps[i]))
        if phases[i] in FINAL and seqs[i] != NONE:
            raise AssertionError("Done/Abandoned client keeps a seq")


def successors(s, n, E, want_labels=False):
    """Yield (label, successor) for every enabled step of state s."""
    phases, seqs, znodes, counter, watches, lives, exp, reqs, resps = s
    out = []

    # ------------------------------------------------------------ clients
    for i in range(n):
        ph = phases[i]
        resp = resps[i]
        # Step 1: Init -> send Create -> WaitCreated  (only step in Init)
        if ph == INIT:
            ns = (set_at(phases, i, WAIT_CREATED), seqs, znodes, counter,
                  watches, lives, exp,
                  set_at(reqs, i, reqs[i] + ((CREATE, 0),)), resps)
            out.append(("C%d step1: Init, send Create -> WaitCreated" % i, ns))
            continue
        # Step 6: InCs -> leave CS, send Delete(own) -> WaitDeleted
        if ph == IN_CS:
            ns = (set_at(phases, i, WAIT_DELETED), seqs, znodes, counter,
                  watches, lives, exp,
                  set_at(reqs, i, reqs[i] + ((DELETE, seqs[i]),)), resps)
            out.append(("C%d step6: leave CS, send Delete(%d) -> WaitDeleted"
                        % (i, seqs[i]), ns))
        if ph in FINAL or not resp:
            continue
        head = resp[0]
        rest = resp[1:]
        t, a = head
        if t == SESSION_EXPIRED:
            # Step 8: waiting phases and InCs -> Abandoned (seq reset)
            if ph in WAITING or ph == IN_CS:
                ns = (set_at(phases, i, ABANDONED), set_at(seqs, i, NONE),
                      znodes, counter, watches, lives, exp, reqs,
                      set_at(resps, i, rest))
                out.append(("C%d step8: consume SessionExpired in %s -> "
                            "Abandoned" % (i, PHASE_NAME[ph]), ns))
                continue
            raise Unreachable("SessionExpired at head for C%d in %s"
                              % (i, PHASE_NAME[ph]))
        if t == CREATED and ph == WAIT_CREATED:
            # Step 2
            ns = (set_at(phases, i, WAIT_CHILDREN), set_at(seqs, i, a),
                  znodes, counter, watches, lives, exp,
                  set_at(reqs, i, reqs[i] + ((GET_CHILDREN, 0),)),
                  set_at(resps, i, rest))
            out.append(("C%d step2: consume Created(%d), send GetChildren -> "
                        "WaitChildren" % (i, a), ns))
            continue
        if t == CHILDREN and ph == WAIT_CHILDREN:
            # Step 3
            own = seqs[i]
            if own == NONE or not (a >> own) & 1:
                raise Unreachable("C%d reads %s without its own seq %r"
                                  % (i, msg_str(head), own))
            below = a & ((1 << own) - 1)
            if below == 0:
                ns = (set_at(phases, i, IN_CS), seqs, znodes, counter,
                      watches, lives, exp, reqs, set_at(resps, i, rest))
                out.append(("C%d step3: consume %s, lowest -> InCs"
                            % (i, msg_str(head)), ns))
            else:
                p = below.bit_length() - 1
                ns = (set_at(phases, i, WAIT_STAT), seqs, znodes, counter,
                      watches, lives, exp,
                      set_at(reqs, i, reqs[i] + ((EXISTS, p),)),
                      set_at(resps, i, rest))
                out.append(("C%d step3: consume %s, send Exists(%d) -> "
                            "WaitStat" % (i, msg_str(head), p), ns))
            continue
        if t == STAT and ph == WAIT_STAT:
            # Step 4
            if a:
                ns = (set_at(phases, i, WAIT_WATCH), seqs, znodes, counter,
                      watches, lives, exp, reqs, set_at(resps, i, rest))
                out.append(("C%d step4: consume Stat(true) -> WaitWatch" % i,
                            ns))
            else:
                ns = (set_at(phases, i, WAIT_CHILDREN), seqs, znodes,
                      counter, watches, lives, exp,
                      set_at(reqs, i, reqs[i] + ((GET_CHILDREN, 0),)),
                      set_at(resps, i, rest))
                out.append(("C%d step4: consume Stat(false), send GetChildren"
                            " -> WaitChildren" % i, ns))
            continue
        if t == NODE_DELETED:
            if ph != WAIT_WATCH:
                raise Unreachable("NodeDeleted at head for C%d in %s"
                                  % (i, PHASE_NAME[ph]))
            # Step 5
            ns = (set_at(phases, i, WAIT_CHILDREN), seqs, znodes, counter,
                  watches, lives, exp,
                  set_at(reqs, i, reqs[i] + ((GET_CHILDREN, 0),)),
                  set_at(resps, i, rest))
            out.append(("C%d step5: consume NodeDeleted(%d), send GetChildren"
                        " -> WaitChildren" % (i, a), ns))
            continue
        if t == DELETED and ph == WAIT_DELETED:
            # Step 7
            ns = (set_at(phases, i, DONE), set_at(seqs, i, NONE), znodes,
                  counter, watches, lives, exp, reqs, set_at(resps, i, rest))
            out.append(("C%d step7: consume Deleted -> Done" % i, ns))
            continue
        if ph == IN_CS:
            # Only SessionExpired may be queued for an InCs client.
            raise Unreachable("C%d in InCs with %s at head" % (i, msg_str(head)))
        # Any other (phase, head) combination would need two outstanding
        # requests or a stray notification.
        raise Unreachable("C%d in %s cannot consume head %s"
                          % (i, PHASE_NAME[ph], msg_str(head)))

    # ------------------------------------------------------------- server
    for i in range(n):
        req = reqs[i]
        if req:
            head = req[0]
            nreqs = set_at(reqs, i, req[1:])
            t, a = head
            if not lives[i]:
                out.append(("S: drop %s from C%d (session ended)"
                            % (msg_str(head), i),
                            (phases, seqs, znodes, counter, watches, lives,
                             exp, nreqs, resps)))
            elif t == CREATE:
                if znodes[i] != NONE:
                    raise AssertionError("second Create for session %d" % i)
                ns = (phases, seqs, set_at(znodes, i, counter), counter + 1,
                      watches, lives, exp, nreqs,
                      set_at(resps, i, resps[i] + ((CREATED, counter),)))
                out.append(("S: serve Create of C%d -> znode %d, reply "
                            "Created(%d)" % (i, counter, counter), ns))
            elif t == GET_CHILDREN:
                mask = 0
                for z in znodes:
                    if z != NONE:
                        mask |= 1 << z
                m = (CHILDREN, mask)
                ns = (phases, seqs, znodes, counter, watches, lives, exp,
                      nreqs, set_at(resps, i, resps[i] + (m,)))
                out.append(("S: serve GetChildren of C%d -> reply %s"
                            % (i, msg_str(m)), ns))
            elif t == EXISTS:
                if a in znodes:
                    if watches[i] != NONE:
                        raise Unreachable("second watch for session %d" % i)
                    ns = (phases, seqs, znodes, counter,
                          set_at(watches, i, a), lives, exp, nreqs,
                          set_at(resps, i, resps[i] + ((STAT, 1),)))
                    out.append(("S: serve Exists(%d) of C%d -> watch %d, "
                                "reply Stat(true)" % (a, i, a), ns))
                else:
                    ns = (phases, seqs, znodes, counter, watches, lives, exp,
                          nreqs, set_at(resps, i, resps[i] + ((STAT, 0),)))
                    out.append(("S: serve Exists(%d) of C%d -> no node, "
                                "reply Stat(false)" % (a, i), ns))
            elif t == DELETE:
                if znodes[i] != a:
                    raise AssertionError("Delete(%d) of C%d but its znode is %r"
                                         % (a, i, znodes[i]))
                if watches[i] != NONE:
                    raise AssertionError("C%d deletes while holding a watch" % i)
                nz = set_at(znodes, i, NONE)
                nw = list(watches)
                nr = list(resps)
                notified = []
                for j in range(n):
                    if nw[j] == a:
                        nw[j] = NONE
                        nr[j] = nr[j] + ((NODE_DELETED, a),)
                        notified.append(j)
                nr[i] = nr[i] + ((DELETED, 0),)
                ns = (phases, seqs, nz, counter, tuple(nw),
                      set_at(lives, i, False), exp, nreqs, tuple(nr))
                out.append(("S: serve Delete(%d) of C%d -> znode removed, "
                            "notify %s, reply Deleted, session ended"
                            % (a, i, ["C%d" % j for j in notified] or "nobody"),
                            ns))
            else:
                raise AssertionError("unknown request %r" % (head,))
        # Expire
        if lives[i] and exp < E:
            nw = list(watches)
            nr = list(resps)
            nw[i] = NONE
            z = znodes[i]
            nz = znodes
            notified = []
            if z != NONE:
                nz = set_at(znodes, i, NONE)
                for j in range(n):
                    if j != i and nw[j] == z:
                        nw[j] = NONE
                        nr[j] = nr[j] + ((NODE_DELETED, z),)
                        notified.append(j)
            nr[i] = nr[i] + ((SESSION_EXPIRED, 0),)
            ns = (phases, seqs, nz, counter, tuple(nw),
                  set_at(lives, i, False), exp + 1, reqs, tuple(nr))
            out.append(("S: EXPIRE session of C%d (%s, znode %s), notify %s, "
                        "queue SessionExpired"
                        % (i, PHASE_NAME[phases[i]],
                           "none" if z == NONE else z,
                           ["C%d" % j for j in notified] or "nobody"), ns))
    return out


def me_violated(s):
    return s[0].count(IN_CS) >= 2


def all_final(s):
    for p in s[0]:
        if p != DONE and p != ABANDONED:
            return False
    return True


def state_str(s):
    phases, seqs, znodes, counter, watches, lives, exp, reqs, resps = s
    parts = []
    for i in range(len(phases)):
        parts.append("C%d[%s seq=%s | znode=%s watch=%s live=%s | req=[%s] "
                     "in=[%s]]" % (
                         i, PHASE_NAME[phases[i]],
                         "-" if seqs[i] == NONE else seqs[i],
                         "-" if znodes[i] == NONE else znodes[i],
                         "-" if watches[i] == NONE else watches[i],
                         "T" if lives[i] else "F",
                         ",".join(msg_str(m) for m in reqs[i]),
                         ",".join(msg_str(m) for m in resps[i])))
    return "ctr=%d exp=%d  " % (counter, exp) + "  ".join(parts)


def bfs(n, E, keep_parents=False):
    init = initial_state(n)
    check_state(init, n)
    seen = {init: None} if keep_parents else {init}
    frontier = [init]
    depth = 0
    states = 1
    transitions = 0
    deadlocks = 0
    max_depth = 0
    me_shortest = None
    me_witness = None
    if me_violated(init):
        me_shortest, me_witness = 0, init
    while frontier:
        nxt = []
        for s in frontier:
            succ = successors(s, n, E)
            if not succ:
                if not all_final(s):
                    deadlocks += 1
                continue
            transitions += len(succ)
            for label, t in succ:
                if t in seen:
                    continue
                check_state(t, n)
                if keep_parents:
                    seen[t] = (s, label)
                else:
                    seen.add(t)
                states += 1
                nxt.append(t)
                if me_shortest is None and me_violated(t):
                    me_shortest, me_witness = depth + 1, t
        if nxt:
            depth += 1
            max_depth = depth
        frontier = nxt
    res = {"n": n, "e": E, "states": states, "transitions": transitions,
           "max_depth": max_depth, "deadlocks": deadlocks,
           "me_violated": me_shortest is not None, "me_shortest": me_shortest}
    path = None
    if keep_parents and me_witness is not None:
        path = []
        cur = me_witness
        while seen[cur] is not None:
            par, label = seen[cur]
            path.append((label, cur))
            cur = par
        path.reverse()
        path = (init, path)
    return res, path


def main():
    args = sys.argv[1:]
    trace = None
    if "--trace" in args:
        k = args.index("--trace")
        trace = args[k + 1]
        del args[k:k + 2]
    n, E = int(args[0]), int(args[1])
    t0 = time.time()
    res, path = bfs(n, E, keep_parents=trace is not None)
    el = time.time() - t0
    print(json.dumps(res, separators=(",", ":")), flush=True)
    print("elapsed %.1fs" % el, file=sys.stderr)
    if trace is not None:
        with open(trace, "w") as f:
            if path is None:
                f.write("no mutual_exclusion violation reachable\n")
            else:
                init, steps = path
                f.write("Shortest mutual_exclusion counterexample, N=%d E=%d, "
                        "%d steps\n\n" % (n, E, len(steps)))
                f.write("state 0: %s\n" % state_str(init))
                for k, (label, st) in enumerate(steps, 1):
                    f.write("step %d: %s\n" % (k, label))
                    f.write("state %d: %s\n" % (k, state_str(st)))


if __name__ == "__main__":
    main()
