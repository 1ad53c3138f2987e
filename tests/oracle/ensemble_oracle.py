#!/usr/bin/env python3
"""Independent state count of the lock world over a ZooKeeper ensemble (docs/design/ensemble.md).

A breadth-first search written apart from the Rust model, plain Python 3, stdlib only. With
--exact it has the Rust model's step granularity and tells states apart as it does, so its count
of scenario 1a (standard recipe, 2 clients on two followers, 3 servers, no faults) is the number
`models/src/ensemble/tests.rs` and `scenarios/ensemble/control.toml` must find; its other options
are the coarser granularities whose counts the design note's table (§3.4) quotes.

World: the standard recipe, each client acquires once and releases with delete+closeSession (one
transaction), a leader S0 established before the first step, every session live from the start,
no faults unless --expiries. Each server's data tree is derived from its applied prefix of the
leader's log. With --servers 1 --conn 0,0 --fold it counts 151 states, the benchmark workload's
N=2 E=0 (tests/oracle/results.jsonl).

Options:
  --exact       the Rust model's granularity: --acks --forward --queued --ghost, no folding.
  --queued      the leader writes its own proposal, and counts its own ACK, in a step of its own
                (ZAB's `LeaderWrite::Queued`, the default); followers' ACKs may commit first.
  --ghost       each proposal remembers how many transactions its leader had committed when it
                proposed (ZAB's ghost `primary_delivered`, which the order properties read).
  --acks        followers log PROPOSALs and ACK them; the leader commits on a quorum (ZAB's
                broadcast, models/src/zab/broadcast.rs). Without: the leader commits a prepared
                transaction in one step of its own and followers keep no log.
  --forward     a follower forwards a write to the leader over its link (a hop of its own).
                Without: the write is prepared at the leader in the step its server takes it.
  --fold        the prefix every server has applied (and logged) is folded into a base tree and
                dropped from the log, so that equal trees with different histories are one state.
  --conn a,b    the server each client is connected to (default 1,2: both on followers).
  --servers N   ensemble size (default 3).
  --expiries E  the leader may expire a live session: it prepares closeSession.
  --levels      first print how many states each breadth-first level adds (to find where two
                counts part).
"""
import sys, json

INIT, WCREATED, WCHILD, WSTAT, WWATCH, INCS, WDEL, DONE, ABANDONED = range(9)
CREATE, GETCH, EXISTS, DELETE = 0, 1, 2, 3
CREATED, CHILDREN, STAT, DELETED, NODEDEL, EXPIRED = 10, 11, 12, 13, 14, 15
T_CREATE, T_DELCLOSE, T_CLOSE = 0, 1, 2
FWD, PROP, ACK, COMMIT = 20, 21, 22, 23


def setat(t, i, v):
    return t[:i] + (v,) + t[i + 1:]


def main():
    args = sys.argv[1:]
    exact = "--exact" in args
    acks = exact or "--acks" in args
    fwd = exact or "--forward" in args
    queued = exact or "--queued" in args
    ghost = exact or "--ghost" in args
    conn = (1, 2)
    E = 0
    n = 2
    servers = 3
    if "--conn" in args:
        conn = tuple(int(x) for x in args[args.index("--conn") + 1].split(","))
        n = len(conn)
    if "--expiries" in args:
        E = int(args[args.index("--expiries") + 1])
    if "--servers" in args:
        servers = int(args[args.index("--servers") + 1])
    L = 0
    followers = tuple(range(1, servers))
    quorum = servers // 2 + 1

    # state: phases, seqs, creq, crep, log, committed, ackset, logged, applied, l2f, f2l, watch,
    # exp, base, unwritten (the leader's proposals not yet on its disk), pdel (per proposal, the
    # leader's committed count when it proposed)
    init = ((INIT,) * n, (-1,) * n, ((),) * n, ((),) * n, (), 0, (), (0,) * servers,
            (0,) * servers, ((),) * servers, ((),) * servers, (-1,) * n, 0, ((), 0, ()), 0, ())
    fold = "--fold" in args
    BASE = [None]

    def tree(log, upto):
        ch = dict(BASE[0][0])
        for (k, c, s) in log[:upto]:
            if k == T_CREATE:
                ch[s] = c
            elif k == T_DELCLOSE:
                ch.pop(s, None)
            else:
                for q in [q for q, o in ch.items() if o == c]:
                    del ch[q]
        return ch

    def closed(log, upto, c):
        return c in BASE[0][2] or any(k in (T_DELCLOSE, T_CLOSE) and cc == c for (k, cc, _) in log[:upto])

    def apply_at(st, s, k):
        """Server s applies log[k]: replies to its own clients, fires its watches."""
        phases, seqs, creq, crep, log, com, ackset, logged, applied, l2f, f2l, watch, exp, _b, unw, pdel = st
        kind, c, sq = log[k]
        before = tree(log, k)
        crep = list(crep)
        watch = list(watch)
        gone = []
        if kind == T_CREATE:
            if conn[c] == s:
                crep[c] = crep[c] + ((CREATED, sq),)
        elif kind == T_DELCLOSE:
            gone = [sq]
            if conn[c] == s:
                crep[c] = crep[c] + ((DELETED, 0),)
        else:
            gone = [q for q, o in before.items() if o == c]
        for q in gone:
            for j in range(n):
                if conn[j] == s and watch[j] == q and j != c:
                    watch[j] = -1
                    crep[j] = crep[j] + ((NODEDEL, q),)
        if kind == T_CLOSE:
            watch[c] = -1
            if conn[c] == s:
                crep[c] = crep[c] + ((EXPIRED, 0),)
        applied = setat(applied, s, applied[s] + 1)
        return (phases, seqs, creq, tuple(crep), log, com, ackset, logged, applied, l2f, f2l,
                tuple(watch), exp, _b, unw, pdel)

    def commit(st):
        phases, seqs, creq, crep, log, com, ackset, logged, applied, l2f, f2l, watch, exp, _b, unw, pdel = st
        k = com
        st = (phases, seqs, creq, crep, log, com + 1, ackset[1:] if acks else ackset, logged,
              applied, l2f, f2l, watch, exp, _b, unw, pdel)
        st = apply_at(st, L, k)
        l2f = list(st[9])
        for f in followers:
            l2f[f] = l2f[f] + ((COMMIT, k),)
        return st[:9] + (tuple(l2f),) + st[10:]

    def commit_ready(st):
        while acks and st[6] and bin(st[6][0]).count("1") >= quorum:
            st = commit(st)
        return st

    def prepare(st, c, req):
        phases, seqs, creq, crep, log, com, ackset, logged, applied, l2f, f2l, watch, exp, _b, unw, pdel = st
        t, a = req
        if closed(log, len(log), c):
            return st  # session closing/closed: dropped (prepare-time check, the fixed code)
        if t == CREATE:
            sq = BASE[0][1] + sum(1 for x in log if x[0] == T_CREATE)
            txn = (T_CREATE, c, sq)
        elif t == DELETE:
            txn = (T_DELCLOSE, c, a)
        else:
            txn = (T_CLOSE, c, 0)
        log = log + (txn,)
        k = len(log) - 1
        l2f = list(l2f)
        if ghost:
            pdel = pdel + (com,)
        if acks:
            if queued:
                ackset = ackset + (0,)
                unw += 1
            else:
                ackset = ackset + (1 << L,)
                logged = setat(logged, L, len(log))
            for f in followers:
                l2f[f] = l2f[f] + ((PROP, k),)
        st = (phases, seqs, creq, crep, log, com, ackset, logged, applied, tuple(l2f), f2l, watch,
              exp, _b, unw, pdel)
        if not followers:
            st = commit(st) if not acks else commit_ready(st)
        return st

    def succ(st):
        BASE[0] = st[13]
        return [do_fold(x) for x in succ1(st)]

    def do_fold(st):
        if not fold:
            return st
        phases, seqs, creq, crep, log, com, ackset, logged, applied, l2f, f2l, watch, exp, base, unw, pdel = st
        assert not ghost and not queued, "--fold is for the coarse counts only"
        m = min(applied)
        if acks:
            m = min([m] + [logged[s] for s in range(servers)])
        if m == 0:
            return st
        BASE[0] = base
        ch = tree(log, m)
        cnt = base[1] + sum(1 for x in log[:m] if x[0] == T_CREATE)
        cl = set(base[2])
        for (k, c, _) in log[:m]:
            if k in (T_DELCLOSE, T_CLOSE):
                cl.add(c)
        nb = (tuple(sorted(ch.items())), cnt, tuple(sorted(cl)))
        sh = lambda q: tuple((t, (a - m if t in (PROP, ACK, COMMIT) else a)) for (t, a) in q)
        return (phases, seqs, creq, crep, log[m:], com - m, ackset, tuple(x - m for x in logged),
                tuple(x - m for x in applied), tuple(sh(q) for q in l2f), tuple(sh(q) for q in f2l),
                watch, exp, nb, unw, pdel)

    def succ1(st):
        phases, seqs, creq, crep, log, com, ackset, logged, applied, l2f, f2l, watch, exp, _b, unw, pdel = st
        out = []
        for i in range(n):
            ph = phases[i]
            if ph == INIT:
                out.append(setat_st(st, phases=setat(phases, i, WCREATED),
                                    creq=setat(creq, i, creq[i] + ((CREATE, 0),))))
                continue
            if ph == INCS:
                out.append(setat_st(st, phases=setat(phases, i, WDEL),
                                    creq=setat(creq, i, creq[i] + ((DELETE, seqs[i]),))))
            if ph in (DONE, ABANDONED) or not crep[i]:
                continue
            (t, a), rest = crep[i][0], crep[i][1:]
            nrep = setat(crep, i, rest)
            if t == EXPIRED:
                out.append(setat_st(st, phases=setat(phases, i, ABANDONED),
                                    seqs=setat(seqs, i, -1), crep=nrep))
            elif t == CREATED and ph == WCREATED:
                out.append(setat_st(st, phases=setat(phases, i, WCHILD), seqs=setat(seqs, i, a),
                                    crep=nrep, creq=setat(creq, i, creq[i] + ((GETCH, 0),))))
            elif t == CHILDREN and ph == WCHILD:
                own = seqs[i]
                assert a >> own & 1, "own node missing"
                below = a & ((1 << own) - 1)
                if below == 0:
                    out.append(setat_st(st, phases=setat(phases, i, INCS), crep=nrep))
                else:
                    p = below.bit_length() - 1
                    out.append(setat_st(st, phases=setat(phases, i, WSTAT), crep=nrep,
                                        creq=setat(creq, i, creq[i] + ((EXISTS, p),))))
            elif t == STAT and ph == WSTAT:
                if a:
                    out.append(setat_st(st, phases=setat(phases, i, WWATCH), crep=nrep))
                else:
                    out.append(setat_st(st, phases=setat(phases, i, WCHILD), crep=nrep,
                                        creq=setat(creq, i, creq[i] + ((GETCH, 0),))))
            elif t == NODEDEL:
                if ph == WWATCH:
                    out.append(setat_st(st, phases=setat(phases, i, WCHILD), crep=nrep,
                                        creq=setat(creq, i, creq[i] + ((GETCH, 0),))))
                else:
                    out.append(setat_st(st, crep=nrep))
            elif t == DELETED and ph == WDEL:
                out.append(setat_st(st, phases=setat(phases, i, DONE), seqs=setat(seqs, i, -1),
                                    crep=nrep))
            else:
                raise AssertionError((ph, t, a))
        # servers take client requests
        for i in range(n):
            if not creq[i]:
                continue
            req, rest = creq[i][0], creq[i][1:]
            s = conn[i]
            base = setat_st(st, creq=setat(creq, i, rest))
            t, a = req
            tr = tree(log, applied[s])
            if t == GETCH:
                mask = 0
                for q in tr:
                    mask |= 1 << q
                out.append(setat_st(base, crep=setat(crep, i, crep[i] + ((CHILDREN, mask),))))
            elif t == EXISTS:
                if a in tr:
                    out.append(setat_st(base, watch=setat(watch, i, a),
                                        crep=setat(crep, i, crep[i] + ((STAT, 1),))))
                else:
                    out.append(setat_st(base, crep=setat(crep, i, crep[i] + ((STAT, 0),))))
            else:
                if s == L or not fwd:
                    out.append(prepare(base, i, req))
                else:
                    out.append(setat_st(base, f2l=setat(f2l, s, f2l[s] + ((FWD, (i, req)),))))
        # leader takes follower links
        for f in followers:
            if not f2l[f]:
                continue
            (t, a), rest = f2l[f][0], f2l[f][1:]
            base = setat_st(st, f2l=setat(f2l, f, rest))
            if t == FWD:
                out.append(prepare(base, a[0], a[1]))
            else:
                k = a
                ak = list(base[6])
                if k >= base[5]:
                    ak[k - base[5]] |= 1 << f
                out.append(commit_ready(setat_st(base, ackset=tuple(ak))))
        # followers take leader links
        for f in followers:
            if not l2f[f]:
                continue
            (t, k), rest = l2f[f][0], l2f[f][1:]
            base = setat_st(st, l2f=setat(l2f, f, rest))
            if t == PROP:
                base = setat_st(base, logged=setat(logged, f, logged[f] + 1),
                                f2l=setat(f2l, f, f2l[f] + ((ACK, k),)))
                out.append(base)
            else:
                out.append(apply_at(base, f, k))
        # the leader's SyncRequestProcessor writes its oldest unwritten proposal; its own ACK
        # counts if the proposal is not committed yet
        if unw:
            i = logged[L]
            b = setat_st(st, unwritten=unw - 1, logged=setat(logged, L, i + 1))
            if i >= com:
                ak = list(ackset)
                ak[i - com] |= 1 << L
                b = setat_st(b, ackset=tuple(ak))
            out.append(commit_ready(b))
        # atomic commit mode: the leader commits a prepared transaction
        if not acks and followers and com < len(log):
            out.append(commit(st))
        # expiry: the leader prepares closeSession of a live session
        if exp < E:
            for i in range(n):
                if not closed(log, len(log), i):
                    b = setat_st(st, exp=exp + 1)
                    out.append(prepare(b, i, (99, 0)))
        return out

    FIELDS = ["phases", "seqs", "creq", "crep", "log", "com", "ackset", "logged", "applied",
              "l2f", "f2l", "watch", "exp", "base", "unwritten", "pdel"]

    def setat_st(st, **kw):
        st = list(st)
        for key, v in kw.items():
            st[FIELDS.index(key)] = v
        return tuple(st)

    seen = {init}
    frontier = [init]
    depth = 0
    trans = 0
    me = None
    dead = 0
    while frontier:
        nxt = []
        for s in frontier:
            ss = succ(s)
            if not ss and not all(p in (DONE, ABANDONED) for p in s[0]):
                dead += 1
            trans += len(ss)
            for t in ss:
                if t not in seen:
                    seen.add(t)
                    nxt.append(t)
                    if me is None and t[0].count(INCS) > 1:
                        me = depth + 1
        if nxt:
            depth += 1
        if "--levels" in args:
            print(len(frontier), end=" ")
        frontier = nxt
    print(json.dumps({"fold": fold, "acks": acks, "forward": fwd, "queued": queued, "ghost": ghost,
                      "conn": conn, "expiries": E,
                      "servers": servers, "states": len(seen), "transitions": trans,
                      "depth": depth, "deadlocks": dead, "me_shortest": me}))


main()
