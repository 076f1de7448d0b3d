/*
 * claim.pml -- Promela model of the dstk claim as implemented (docs/claim.md, "The model").
 *
 * ONE function key stored on NU units (every unit holds a slice of it), NC claimers.  The
 * unit's rules mirror lib/node/claim_rules.cc branch by branch (each branch below names the
 * C++ function it mirrors); a claimer mirrors Claimer::TryKey (lib/claim/claimer.cc) round by
 * round, and an owner mirrors RunClaim (lib/claim/run_claim.cc) with Renew/Finish/Release of
 * lib/claim/lease.cc.
 *
 * The environment (all nondeterministic):
 *   - a lock lapses at any moment: a unit's lock is only a bit "may still be live"; it is read
 *     only by lock_read_delete, which chooses there whether it has lapsed (and then it stays
 *     lapsed).  A paused owner is an owner whose lease lapsed while it did nothing;
 *   - any request may be lost, and any reply (the unit applied the request, the claimer never
 *     hears of it).  Gather's deadline is a loss of the replies still outstanding: replies only
 *     feed the claimer's tallies, so when it stops waiting does not change what units do;
 *   - links are FIFO: a claimer's next request to a unit goes behind the one still in flight
 *     (one slot per claimer and unit plus one deferred request, the claimer's current one; a
 *     deferred request that the claimer's next phase replaces is a lost request);
 *   - a claimer may die between any two of its steps (NKILL of them), modelled as dying at the
 *     start of its next step (the same thing: nothing reads whether it is dead); what it sent
 *     may still land;
 *   - a unit restart: its claim state is durable (SaveClaim before the reply) and a lock is a
 *     wall-clock expiry, so a restart only loses the requests in flight to it and their
 *     replies: the losses above.  It is not a separate transition.
 * Bounds: ballot numbers <= MAXNUM (a claimer that would need a higher one stops: F_EXH, the
 * model's stand-in for TryKey's 64 rounds), NKILL deaths, NLOSS lost messages.
 * Not modelled: attempts (only a count for dead-lettering), the queue listing (a claimer just
 * tries the key, and after kLost may try it again, as Next()'s passes do), not_found (every
 * unit holds the key), slice contents (a slice is "unit u's pillar": k distinct ones decode).
 *
 * Properties (assertions; the end-state ones in EndCheck, at every state where nothing can
 * move any more):
 *  (a) consume mode, no function executed twice: execs <= 1, and every decided ballot names
 *      the same owner.  Rests on two guards, each enough on its own (the mutation checks
 *      break both): Paxos (Commit refuses a ballot below the promise, TryKey step 4 takes the
 *      highest accepted owner among q promises, q > n/2), and Commit refusing a consumed unit
 *      for another owner (every unit that accepts in consume mode is consumed, so no unit
 *      accepts two owners and two quorums cannot form).  The owner runs only after q acks.
 *  (b) nothing lost:
 *      - the owner can decode: a claimer that wins holds >= k slices (TryKey commits itself
 *        only with >= k slices read, and keeps them across its rounds);
 *      - consume mode, at the end: a decided owner that did not die (and did not hit the
 *        model's ballot bound) ran the function; with no owner decided, >= k units still hold
 *        their slice, unless the owner named by a consumed unit died (or hit the bound).
 *        Rests on step 6 (a claimer whose commit may have been accepted keeps learning) and on
 *        the slices being kept across rounds;
 *      - lease mode: a slice is dropped only by finish after a run (Finish needs the accepted
 *        ballot; help-finish only copies an owner that is already done), so an unfinished
 *        function stays on all n units whoever died; at the end some run completed or every
 *        slice is still there.
 *  (c) fencing: the ballot number is the claim token and the output store keeps the highest
 *      token, refusing lower ones.  Checked: no two ballots with one number are ever decided
 *      for different owners (rests on the stale-ballot rule of LockReadDelete: a unit that
 *      accepted epoch e promises no other ballot numbered <= e, with quorum intersection; and on
 *      the ballot number being above every number and epoch the claimer was told); and an
 *      output write is accepted only with a token >= the stored one, an equal token only from
 *      the same owner's ballot.  So no output is accepted from a token lower than the highest
 *      one the store committed, and an older owner's late write never replaces a newer one's.
 *      (A deposed owner may still write before its successor does: the successor's write then
 *      replaces it; that is what fencing by tokens gives, docs/claim.md "Fencing outputs".)
 *
 * Parameters (spin -DNAME=value): NU (<= 5), NC (2 or 3), K, Q, MAXNUM, NKILL, NLOSS, and the
 * mode: -DMODE_CONSUME (default) or -DMODE_LEASE.  NO_RELEASE: releases are not sent (a
 * release only ends a lock, as a lapse does at any moment anyway: same behaviours, fewer
 * states; the exhaustive runs use it).  NO_RENEW: the owner does not renew (the exhaustive
 * lease run uses it; the bitstate runs renew).  NO_RUN_FAIL: the run never fails (a failed run
 * releases and stops without finishing, as an owner that dies does; exhaustive lease run).
 * Mutations (run.sh --mutations expects spin to refute each, with NO_ENDCHECK):
 *   BUG_NO_STALE_BALLOT          LockReadDelete without the stale-ballot refusal (what the old
 *                                model called TOKEN_FIX=0, still accepted): two owners decided
 *                                with one claim token, (c).
 *   BUG_COMMIT_IGNORES_PROMISE   Commit accepts a ballot below the promise, and
 *   BUG_NO_CONFLICT_CHECK        Commit accepts a consumed unit for another owner: with both,
 *                                two owners in consume mode, (a).  Either alone is not
 *                                refuted: the other guard still holds.
 *   BUG_VALUE_IGNORES_ACCEPTED   TryKey proposes itself whatever the promises report.
 *   BUG_NO_SLICE_CHECK           TryKey commits itself with fewer than k slices read, (b).
 *   BUG_LEARN_ON_ACK             TryKey's old rule: it may walk away after a commit naming itself
 *                                that no unit acknowledged yet; the commit lands later and the
 *                                next claimer decides the function for an owner that left:
 *                                lost in consume mode, (b). This model found it; claimer.cc now
 *                                sets any_accepted_ours on sending (docs/claim.md "The model").
 * Extra checks: STRONG_FENCE (an owner decided later has a higher token: not claimed, lease
 * mode can decide a lower ballot last), NO_ENDCHECK (skip the end-state checks).
 */

#define MODE_CONSUME_V 0
#define MODE_LEASE_V   1
#ifdef MODE_LEASE
#define MODE MODE_LEASE_V
#else
#define MODE MODE_CONSUME_V
#endif
#ifdef TOKEN_FIX
#if TOKEN_FIX == 0
#define BUG_NO_STALE_BALLOT 1
#endif
#endif

#ifndef NU
#define NU 3
#endif
#ifndef NC
#define NC 2
#endif
#ifndef K
#define K 2
#endif
#ifndef Q
#define Q 2
#endif
#ifndef MAXNUM
#define MAXNUM 3
#endif
#ifndef NKILL
#define NKILL 1
#endif
#ifndef NLOSS
#define NLOSS 255
#endif

#define NONE 255

/* A ballot {n, id} is coded n * NC + id: codes order as Ballot's operator< (number, then id);
 * 0 is the initial {0, 0} (real ballots have n >= 1). */
#define BAL(n, c) ((n) * NC + (c))
#define NUM(b)    ((b) / NC)
#define NB        ((MAXNUM + 1) * NC)

#define BIT(u)    (1 << (u))
#define HAS(m, u) (((m) >> (u)) & 1)
#define POP(m)    (((m)&1) + (((m)>>1)&1) + (((m)>>2)&1) + (((m)>>3)&1) + (((m)>>4)&1))
#define ALLU      (BIT(NU) - 1)

/* ops (wire::Op) */
#define OP_LRD     1
#define OP_COMMIT  2
#define OP_RELEASE 3
#define OP_RENEW   4
#define OP_FINISH  5

/* Phase (store::ClaimState::Phase) */
#define PENDING  0
#define CONSUMED 1
#define DONE     2

/* how a claimer ended */
#define F_ACTIVE  0
#define F_RAN     1   /* ran the function as its owner (output stored or fenced) */
#define F_OTHER   2   /* kDecidedOther */
#define F_GONE    3   /* kGone (including after helping finish) */
#define F_LOST    4   /* kLost, and did not come back to the key */
#define F_UNAVAIL 5   /* Status::Unavailable (no refusal at all, or won without k slices) */
#define F_EXH     6   /* model bound: would need a ballot number > MAXNUM */
#define F_LEASE   7   /* lease mode: renew failed, the run was cancelled */
#define F_FAILED  8   /* lease mode: the run failed, the owner released */

/* ---------------- units: durable claim state (store::ClaimState) ---------------- */
byte prom[NU];      /* promised */
byte acc[NU];       /* accepted ballot; 0 = !has_accepted */
byte own[NU];       /* owner */
byte ep[NU];        /* epoch */
byte ph[NU];        /* phase */
byte lockm;         /* bit u: lock_until_ms may still be in the future */

/* ---------------- network: per (claimer, unit) one request in flight ---------------- */
#define NS    (NC * NU)
#define S(c, u) ((c) * NU + (u))
byte rk[NS];        /* op in flight, 0 = none */
byte rb[NS];        /* its ballot */
byte rv[NS];        /* its owner (commit) */
byte dfr[NC];       /* bit u: the claimer's current request waits behind the one in flight */
byte ck[NC];        /* the claimer's current request: op, ballot, owner */
byte cb[NC];
byte cv[NC];
byte nloss;

/* ---------------- what Gather collects for a claimer ---------------- */
byte wop[NC];       /* op whose replies it waits for (0: none) ... */
byte pend[NC];      /* ... from these units (outstanding) */
byte okm[NC];       /* units that replied ok */
bit  refd[NC];      /* some reply was a refusal */
bit  livel[NC];     /* phase 1: a refusal reported a live lock (live_lock_seen) */
bit  gone[NC];      /* phase 1: a reply reported state != pending (gone_seen) */
bit  fini[NC];      /* phase 1: an ok reply reported state != pending (finished) */
byte bestb[NC];     /* phase 1: the value (step 4): highest counted accepted ballot ... */
byte bestv[NC];     /* ... and its owner */
byte seen[NC];      /* seen_[key]: kept across TryKey calls */
byte slc[NC];       /* TryKey's slices map: bit u = pillar of unit u read */

/* ---------------- ghosts and environment ---------------- */
bit  dead[NC];
byte fin[NC];
bit  ran[NC];        /* executed the function */
byte nkill;
byte accMask[NB];    /* units that accepted ballot b (cleared once b is decided) */
byte decB[NB];       /* ballot b was accepted by q units: its owner + 1, else 0 */
byte decOwner = NONE;/* the owner of the last decided ballot */
byte hiDec;          /* the last decided ballot */
byte execs;          /* consume mode: runs */
byte outTok;         /* output store: highest token stored */
byte outBal;         /* ghost: the ballot of the owner whose output is stored */
bit  ranok;          /* lease mode: a run completed (finish follows) */

#define SEE(c, x) if :: (x) > seen[c] -> seen[c] = (x) :: else -> skip fi
#define NPEND ((ph[0] == PENDING) + (NU > 1 && ph[1 % NU] == PENDING) + \
               (NU > 2 && ph[2 % NU] == PENDING) + (NU > 3 && ph[3 % NU] == PENDING) + \
               (NU > 4 && ph[4 % NU] == PENDING))

/* ---------------- ghost bookkeeping when unit U accepts (B, V) ---------------- */
inline on_accept(U, B, V) {
  if
  :: !decB[B] ->
     accMask[B] = accMask[B] | BIT(U);
     if
     :: POP(accMask[B]) >= Q ->
        decB[B] = V + 1; accMask[B] = 0;
        printf("MSC: DECIDED (%d,%d) for c%d\n", NUM(B), B % NC, V);
        /* (c) two owners never get one claim token: no other ballot with this number was
         * decided for another owner (the stale-ballot rule of LockReadDelete) */
        assert(decB[BAL(NUM(B), 0)] == 0 || decB[BAL(NUM(B), 0)] == V + 1);
        assert(decB[BAL(NUM(B), 1)] == 0 || decB[BAL(NUM(B), 1)] == V + 1);
#if NC > 2
        assert(decB[BAL(NUM(B), 2)] == 0 || decB[BAL(NUM(B), 2)] == V + 1);
#endif
#ifdef STRONG_FENCE
        /* stronger, not claimed: an owner decided later has a higher token */
        assert(decOwner == NONE || decOwner == V || NUM(B) > NUM(hiDec));
#endif
#if MODE == MODE_CONSUME_V
        /* (a) one owner in consume mode (step 4 + quorum intersection) */
        assert(decOwner == NONE || decOwner == V);
#endif
#ifdef STRONG_FENCE
        hiDec = B;
#endif
        decOwner = V
     :: else -> skip
     fi
  :: else -> skip
  fi
}

/* ---------------- a unit applies the request in slot (C, U): ApplyClaimOp ---------------- */
inline apply(C, U) {
  op = rk[S(C, U)]; b = rb[S(C, U)]; v = rv[S(C, U)];
  rk[S(C, U)] = 0; rb[S(C, U)] = 0; rv[S(C, U)] = 0;
  /* the reply counts iff Gather still waits for it and it is not lost */
  lis = (wop[C] == op && cb[C] == b && HAS(pend[C], U));
  ok = 0; lk = 0;
  if
  :: op == OP_LRD ->                                    /* LockReadDelete */
     /* LockLive(s, now): the lock may have lapsed by now */
     if
     :: HAS(lockm, U) -> lk = 1
     :: HAS(lockm, U) -> lk = 0; lockm = lockm & (255 - BIT(U))
     :: else -> lk = 0
     fi;
     if
     :: prom[U] > b -> skip                             /* "promised to a higher ballot" */
     :: prom[U] <= b && lk && prom[U] != b -> skip      /* "locked by ballot" */
#ifndef BUG_NO_STALE_BALLOT
     :: prom[U] <= b && !(lk && prom[U] != b) &&
        acc[U] != 0 && NUM(b) <= ep[U] && b != acc[U] -> skip     /* "stale ballot" */
#endif
     :: else ->                                         /* promise: lock := now + lease */
        prom[U] = b; lockm = lockm | BIT(U); lk = 1; ok = 1
     fi;
     printf("MSC: u%d lrd (%d,%d) of c%d: ok=%d\n", U, NUM(b), b % NC, C, ok)
  :: op == OP_COMMIT ->                                 /* Commit */
     if
#ifndef BUG_COMMIT_IGNORES_PROMISE
     :: prom[U] > b -> skip                             /* "promised to a higher ballot" */
#endif
#ifndef BUG_NO_CONFLICT_CHECK
     :: ph[U] != PENDING && acc[U] != 0 && own[U] != v -> skip  /* "already decided for another owner" */
#endif
     :: else ->
        /* ++attempts is not modelled */
        prom[U] = b; acc[U] = b; own[U] = v;
        if :: NUM(b) > ep[U] -> ep[U] = NUM(b) :: else -> skip fi;
#if MODE == MODE_LEASE_V
        /* lock := pending ? now + lease : 0 */
        if :: ph[U] == PENDING -> lockm = lockm | BIT(U) :: else -> lockm = lockm & (255 - BIT(U)) fi;
#else
        /* consume: lock := 0; pending -> consumed, drop_slices */
        lockm = lockm & (255 - BIT(U));
        if :: ph[U] == PENDING -> ph[U] = CONSUMED :: else -> skip fi;
#endif
        ok = 1;
        on_accept(U, b, v)
     fi;
     printf("MSC: u%d commit (%d,%d) owner c%d: ok=%d\n", U, NUM(b), b % NC, v, ok)
  :: op == OP_RELEASE ->                                /* Release */
     if
     :: prom[U] == b -> lockm = lockm & (255 - BIT(U)); ok = 1
     :: else -> skip                                    /* "not locked by this ballot" */
     fi
  :: op == OP_RENEW ->                                  /* Renew */
     if
     :: acc[U] != 0 && acc[U] == b && prom[U] == b && ph[U] == PENDING ->
        lockm = lockm | BIT(U); ok = 1
     :: else -> skip                                    /* "the lease ... is not held here" */
     fi
  :: op == OP_FINISH ->                                 /* Finish */
     if
     :: acc[U] != 0 && acc[U] == b ->
        if
        :: ph[U] != DONE ->
           /* (b) lease mode: a slice is dropped only after a completed run */
           assert(ranok);
           ph[U] = DONE; lockm = lockm & (255 - BIT(U))
        :: else -> skip
        fi;
        ok = 1
     :: else -> skip                                    /* "not the accepted owner here" */
     fi
  fi;
  /* the reply: ViewOf(state, now) */
  if
  :: lis ->
     if
     :: nloss < NLOSS ->                               /* the reply is lost */
        nloss++; lis = 0; pend[C] = pend[C] & (255 - BIT(U));
        printf("MSC: reply of u%d to c%d lost\n", U, C)
     :: true
     fi
  :: else
  fi;
  if
  :: lis ->
     pend[C] = pend[C] & (255 - BIT(U));
     if :: ok -> okm[C] = okm[C] | BIT(U) :: else -> refd[C] = 1 fi;
     if
     :: op == OP_LRD ->
        /* seen = max(seen, promised.n, epoch, accepted.n) */
        SEE(C, NUM(prom[U])); SEE(C, ep[U]); SEE(C, NUM(acc[U]));
        if :: ph[U] != PENDING -> gone[C] = 1 :: else -> skip fi;
        if
        :: ok ->
           if :: ph[U] == PENDING -> slc[C] = slc[C] | BIT(U) :: else -> fini[C] = 1 fi;  /* send_slice */
           /* the value: lease mode skips accepted owners still pending */
           if
#ifndef BUG_VALUE_IGNORES_ACCEPTED
           :: acc[U] != 0 && !(MODE == MODE_LEASE_V && ph[U] == PENDING) && acc[U] > bestb[C] ->
#else
           :: false ->
#endif
              bestb[C] = acc[U]; bestv[C] = own[U]
           :: else -> skip
           fi
        :: else ->                                      /* kLocked with lock_ms_left > 0 */
           if :: lk -> livel[C] = 1 :: else -> skip fi
        fi
     :: op == OP_COMMIT -> SEE(C, NUM(prom[U]))
     :: else -> skip
     fi
  :: else -> skip
  fi;
  op = 0; b = 0; v = 0; lis = 0; ok = 0; lk = 0
}

/* the current request is needed only while replies or deferred sends may still come */
inline forget_current(C) {
  if :: dfr[C] == 0 && wop[C] == 0 -> ck[C] = 0; cb[C] = 0; cv[C] = 0 :: else -> skip fi
}

/* FIFO link: the claimer's deferred request to U goes out once the one in flight is gone */
inline next_on_link(C, U) {
  if
  :: HAS(dfr[C], U) ->
     rk[S(C, U)] = ck[C]; rb[S(C, U)] = cb[C]; rv[S(C, U)] = cv[C];
     dfr[C] = dfr[C] & (255 - BIT(U))
  :: else -> skip
  fi;
  forget_current(C)
}


/* The network and the units: any request in flight is applied or lost. */
#define PICK(i) :: i < NS && rk[i] != 0 -> s = i
active proctype Net() {
  byte s, c, u, op, b, v;
  bit lis, ok, lk;
end:
  do
  :: atomic {
       (rk[0] | rk[1] | rk[2] | rk[3] | rk[4 % NS] | rk[5 % NS] | rk[6 % NS] | rk[7 % NS] |
        rk[8 % NS] | rk[9 % NS] | rk[10 % NS] | rk[11 % NS] | rk[12 % NS] | rk[13 % NS] |
        rk[14 % NS]) != 0 ->
       if
       PICK(0) PICK(1) PICK(2) PICK(3) PICK(4) PICK(5) PICK(6) PICK(7)
       PICK(8) PICK(9) PICK(10) PICK(11) PICK(12) PICK(13) PICK(14)
       fi;
       c = s / NU; u = s % NU;
       if
       :: apply(c, u)
       :: nloss < NLOSS ->                               /* the request is lost */
          nloss++;
          printf("MSC: request %d of c%d to u%d lost\n", rk[s], c, u);
          if
          :: wop[c] == rk[s] && cb[c] == rb[s] -> pend[c] = pend[c] & (255 - BIT(u))
          :: else -> skip
          fi;
          rk[s] = 0; rb[s] = 0; rv[s] = 0
       fi;
       next_on_link(c, u);
       s = 0; c = 0; u = 0
     }
  od
}

/* Release (fire and forget).  With NO_RELEASE it is not sent: its only effect, lock := 0 where
 * promised == b, is a lapse, and a lock may lapse at any moment anyway (fewer states). */
#ifdef NO_RELEASE
#define release(M) skip
#else
#define release(M) send(M, OP_RELEASE, b, 0, 0)
#endif

/* Send (OP, B, V) to the units in M; with WAIT, Gather waits for their replies. */
inline send(M, OP, B, V, WAIT) {
  ck[me] = OP; cb[me] = B; cv[me] = V; dfr[me] = 0;
  wop[me] = (WAIT -> OP : 0); pend[me] = 0; okm[me] = 0; refd[me] = 0;
  i = 0;
  do
  :: i < NU ->
     if
     :: HAS(M, i) ->
        if
        :: rk[S(me, i)] == 0 -> rk[S(me, i)] = OP; rb[S(me, i)] = B; rv[S(me, i)] = V
        :: else -> dfr[me] = dfr[me] | BIT(i)
        fi;
        if :: WAIT -> pend[me] = pend[me] | BIT(i) :: else -> skip fi
     :: else -> skip
     fi;
     i++
  :: else -> break
  od;
  i = 0;
  forget_current(me)
}

/* Gather's stop rule: ok >= q or ok + outstanding < q */
#define ENOUGH (POP(okm[me]) >= Q || POP(okm[me]) + POP(pend[me]) < Q)

inline done_waiting() {
  wop[me] = 0; pend[me] = 0; forget_current(me)
}

inline reset_p1() {
  okm[me] = 0; refd[me] = 0; livel[me] = 0; gone[me] = 0; fini[me] = 0;
  bestb[me] = 0; bestv[me] = NONE
}

/* A claimer may die after any of its steps: death only stops what the claimer does next, so
 * dying between two of its steps is the same as dying at the end of the first (the units'
 * steps in between do not read it).  What it sent may still land. */
#define ACT(c) (fin[c] == F_ACTIVE && !dead[c])
inline may_die() {
  if
  :: nkill < NKILL ->
     dead[me] = 1; nkill++; printf("MSC: c%d dies\n", me);
     wop[me] = 0; pend[me] = 0; reset_p1(); slc[me] = 0;
     goto out
  :: true
  fi
}

/*
 * A claimer: Claimer::TryKey and, once it wins, RunClaim.  Each atomic block runs from one
 * wait to the next.
 */
proctype Claimer(byte me) {
  byte num, b, v, i, rnd, pm;
  bit anyacc, help;
  {
    skip;
trykey:                                  /* TryKey: any_accepted_ours = false, slices = {} */
    atomic { anyacc = 0; slc[me] = 0; rnd = 0 }
round:
    atomic {
      may_die();
      /* ballot {seen + 1, id}; seen = ballot.n */
      num = seen[me] + 1;
      if
      :: num > MAXNUM -> fin[me] = F_EXH; printf("MSC: c%d hits the ballot bound\n", me); goto out
      :: else -> skip
      fi;
      seen[me] = num;
      b = BAL(num, me); v = 0; help = 0; pm = 0;
      printf("MSC: c%d phase 1 (%d,%d)\n", me, num, me);
      /* phase 1: lock_read_delete to all n */
      reset_p1();
      send(ALLU, OP_LRD, b, 0, 1)
    }
    atomic {
      ENOUGH ->
      may_die();
      done_waiting();
      if
      :: POP(okm[me]) < Q ->
         /* lost in phase 1: release everywhere */
         release(ALLU);
         if
         :: anyacc -> reset_p1(); goto round                   /* keep learning */
         :: else -> skip
         fi;
         if
         :: !refd[me] -> fin[me] = F_UNAVAIL; printf("MSC: c%d: Unavailable\n", me); goto out  /* no refusal at all */
         :: else -> skip
         fi;
         if
         :: !livel[me] && !gone[me] && rnd < 3 -> rnd++; reset_p1(); goto round  /* stale promise */
         :: else -> skip
         fi;
         if
         :: gone[me] && !livel[me] -> fin[me] = F_GONE; printf("MSC: c%d: kGone\n", me); goto out
         :: else -> goto lost                                       /* kLost */
         fi
      :: else -> skip
      fi;
      /* step 4: the value */
      if :: bestb[me] != 0 -> v = bestv[me] :: else -> v = me fi;
      help = (MODE == MODE_LEASE_V && fini[me]);
      pm = okm[me];                      /* the units that promised */
      if
      :: help && v == me -> release(pm); fin[me] = F_GONE; goto out
      :: else -> skip
      fi;
      if
#ifndef BUG_NO_SLICE_CHECK
      :: v == me && POP(slc[me]) < K && !anyacc ->
#else
      :: false ->
#endif
         release(pm); goto lost      /* too few readable slices */
      :: else -> skip
      fi;
      printf("MSC: c%d commits (%d,%d) owner c%d help=%d\n", me, num, me, v, help);
      /* phase 2: commit to all n */
      reset_p1();
#ifdef NO_RELEASE
      pm = 0;
#endif
      send(ALLU, OP_COMMIT, b, v, 1)
    }
    atomic {
      ENOUGH ->
      may_die();                          /* dead after its commit: (b)'s exception */
      done_waiting();
      if
#ifdef BUG_LEARN_ON_ACK
      :: okm[me] != 0 && v == me -> anyacc = 1         /* the old code: acks > 0 && value == id_ */
#else
      :: v == me -> anyacc = 1                         /* any_accepted_ours is set on sending */
#endif
      :: else -> skip
      fi;
      if
      :: POP(okm[me]) >= Q ->
         if
         :: help -> send(ALLU, OP_FINISH, b, 0, 0); fin[me] = F_GONE; goto out
         :: else -> skip
         fi;
         if
         :: v != me -> fin[me] = F_OTHER; printf("MSC: c%d: decided for c%d\n", me, v); goto out
         :: else -> skip
         fi;
         /* won: Unavailable "won without k readable slices" would lose the function */
         assert(POP(slc[me]) >= K);                     /* (b) the owner can decode */
         goto owner
      :: else -> skip
      fi;
      if
      :: !anyacc && v == me -> release(pm); goto lost
      :: else -> reset_p1(); goto round                 /* backoff, next round */
      fi
    }
lost:
    /* kLost: Next() may come back to the key in a later pass */
    atomic {
      reset_p1();
      printf("MSC: c%d: kLost\n", me);
      if
      :: goto trykey
      :: fin[me] = F_LOST; goto out
      fi
    }
owner:
    atomic {
      may_die();
      printf("MSC: c%d owns the function with token %d and runs it\n", me, num);
      ran[me] = 1;
      reset_p1();
#if MODE == MODE_CONSUME_V
      execs++;
      assert(execs <= 1);                 /* (a) never executed twice */
      assert(decOwner == me)
#else
      skip
#endif
    }
#if MODE == MODE_LEASE_V
    /* the Renewer: zero or one renew round while the run goes on (NO_RENEW: none; a refused
     * renew only stops the owner before its output, as a death does) */
#ifndef NO_RENEW
    if
    :: skip
    :: atomic {
         send(ALLU, OP_RENEW, b, 0, 1)
       };
       atomic {
         ENOUGH ->
         may_die();
         done_waiting();
         if
         :: POP(okm[me]) < Q -> fin[me] = F_LEASE; goto out   /* lease lost: output discarded */
         :: else -> reset_p1()
         fi
       }
    fi;
#endif
#endif
    /* the output, written with the claim token: the store refuses a lower token */
    atomic {
      may_die();
      if
      :: num >= outTok ->
         assert(num > outTok || b == outBal);   /* (c) two owners never share a token */
         outTok = num; outBal = b;
         printf("MSC: output of c%d stored with token %d\n", me, num)
      :: else ->
         printf("MSC: output of c%d fenced (token %d < %d)\n", me, num, outTok);
         fin[me] = F_RAN; goto out                /* kFenced: a newer owner has it */
      fi;
#if MODE == MODE_CONSUME_V
      fin[me] = F_RAN
#else
      if
      :: ranok = 1; send(ALLU, OP_FINISH, b, 0, 0); fin[me] = F_RAN  /* done: Finish */
#ifndef NO_RUN_FAIL
      :: release(ALLU); fin[me] = F_FAILED          /* failed: Release */
#endif
      fi
#endif
    }
out:
    skip
  }
}

/* bounded "nothing lost": checked in every state where nothing can move any more */
#ifndef NO_ENDCHECK
active proctype EndCheck() {
  byte u;
  timeout && !ACT(0) && !ACT(1) && !ACT(2 % NC) ->
  atomic {
#if MODE == MODE_CONSUME_V
    /* (b) decided for a live owner: it ran it */
    assert(decOwner == NONE || ran[decOwner] || dead[decOwner] || fin[decOwner] == F_EXH);
    /* (b) no owner decided: >= k slices stay, unless an owner named by a consumed unit died */
    if
    :: decOwner == NONE && NPEND < K ->
       u = 0;
       do
       :: u < NU ->
          if
          :: ph[u] == CONSUMED && (dead[own[u]] || fin[own[u]] == F_EXH) -> break
          :: else -> u++
          fi
       :: else -> assert(false)
       od
    :: else -> skip
    fi
#else
    /* (b) lease mode: some run completed, or every slice is still there */
    assert(ranok || NPEND == NU)
#endif
  }
}
#endif

init {
  byte i;
  atomic {
    i = 0;
    do
    :: i < NC -> bestv[i] = NONE; run Claimer(i); i++
    :: else -> break
    od;
    i = 0
  }
}
