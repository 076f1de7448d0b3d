/*
 * claim.pml -- Promela model of the dstk claim protocol (docs/claim.md).
 *
 * One function key, NUNITS units (acceptors), NCLAIMERS claimers (proposers), single-decree
 * Paxos on "who owns this function" plus leases and fencing tokens.  See tests/model/README.md
 * for the abstractions, the properties and how to run it; tests/model/run.sh runs the checks.
 *
 * Compile-time parameters (spin -DNAME=value ...):
 *   NUNITS, NCLAIMERS (2 or 3), K (decode threshold), Q (claim quorum), MODE (CONSUME/LEASE),
 *   MAXNUM     ballot numbers a claimer may use while others are still around (bound)
 *   CALMX      extra ballot numbers claimer 0 may use once every other claimer has stopped
 *   NKILL      how many claimers may die
 * Readings of the spec (defaults = the reading the committed model checks; see README):
 *   TOKEN_FIX=1     a claimer whose phase-1 replies report an epoch >= its ballot number does
 *                   not go to phase 2 but retries with a higher number (spec bug fix, see README;
 *                   0 = the spec as written: spin finds two owners with the same claim token)
 *   OWN_SEEN=1      a claimer's next ballot number is above its own previous one too
 *   STEP6_SAFE=1    "some unit accepted our commit" means "some commit was sent and not
 *                   explicitly refused" (a lost reply may hide an accept); sticky until the
 *                   function is decided.  0 = only a received accept counts, per round.
 *   STEP3_LITERAL=0 a claimer that loses phase 1 while it must keep learning (step 6) retries.
 *                   1 = step 3 as written: it releases and walks away to the next key.
 *   KEEP_SLICES=1   a claimer keeps the slices it read in every round for this key.
 *   Q_LITERAL_B     (check) the literal property "while no owner is decided, >= k slices remain"
 *   STRONG_FENCE    (check) "an accepted output always comes from the highest decided token"
 *   SPEC_NOCONFLICT (check) the spec's claim that the consumed/done conflict cannot happen
 *   CHECK_VACUOUS   (check) the lease-mode "accepted owner's lease is live" flag in an ok reply
 */

#define CONSUME 0
#define LEASE   1

#ifndef NUNITS
#define NUNITS 3
#endif
#ifndef NCLAIMERS
#define NCLAIMERS 2
#endif
#ifndef K
#define K 2
#endif
#ifndef Q
#define Q 2
#endif
#ifndef MODE
#define MODE CONSUME
#endif
#ifndef MAXNUM
#define MAXNUM 3
#endif
#ifndef CALMX
#define CALMX 4
#endif
#ifndef NKILL
#define NKILL 1
#endif
#ifndef TOKEN_FIX
#define TOKEN_FIX 1
#endif
#ifndef OWN_SEEN
#define OWN_SEEN 1
#endif
#ifndef STEP6_SAFE
#define STEP6_SAFE 1
#endif
#ifndef STEP3_LITERAL
#define STEP3_LITERAL 0
#endif
#ifndef KEEP_SLICES
#define KEEP_SLICES 1
#endif
#ifndef RESTART_LOSES_LOCK
#define RESTART_LOSES_LOCK 0
#endif

/* claimer 0 is the one that "keeps trying": it never dies and never walks away voluntarily */
#define PC 0
#define NONE 255

/* A ballot (number, claimer id) is coded as number*NCLAIMERS + id: the code orders ballots by
 * number then id, and 0 is the initial (0, "") ballot (real ballots have number >= 1). */
#define BAL(n, c) ((n) * NCLAIMERS + (c))
#define NUM(b)    ((b) / NCLAIMERS)
#define NB        ((MAXNUM + CALMX + 1) * NCLAIMERS)

#define POP(m) (((m)&1) + (((m)>>1)&1) + (((m)>>2)&1) + (((m)>>3)&1) + (((m)>>4)&1) + \
                (((m)>>5)&1) + (((m)>>6)&1) + (((m)>>7)&1))
#define ALLUNITS ((1 << NUNITS) - 1)
#define BIT(u)   (1 << (u))
#define CLR(m, u) m = (m) & (255 - BIT(u))

/* request kinds; RQ_P1 and RQ_COMMIT double as the phase a claimer waits in */
#define RQ_P1     1
#define RQ_COMMIT 2
#define RQ_REL    3
#define RQ_RENEW  4
#define RQ_FIN    5

#define ST_PENDING  0
#define ST_CONSUMED 1
#define ST_DONE     2

/* how a claimer ended */
#define F_ACTIVE  0
#define F_WALKED  1   /* moved on to other keys for good while it owed nothing (steps 3, 6) */
#define F_MOVEDON 2   /* learned the function was decided for another owner (step 5) */
#define F_RAN     3   /* ran the function as its owner */
#define F_SAWDONE 4   /* lease mode: a unit reported the function done */
#define F_EXH     5   /* ran out of ballot numbers while others were around (model bound) */
#define F_EXHCALM 6   /* ran out of ballot numbers alone on a quiet network: liveness failure */

/* ---------------- unit state (durable; survives a restart) ---------------- */
byte prom[NUNITS];    /* promised ballot */
byte lockm;           /* bit u: unit u's lock (lease) is live; lapse is nondeterministic */
byte accb[NUNITS];    /* accepted ballot (0 = none) */
byte accv[NUNITS];    /* accepted owner */
byte ep[NUNITS];      /* epoch: highest ballot number accepted here */
byte st[NUNITS];      /* ST_PENDING / ST_CONSUMED / ST_DONE (the slice exists iff pending) */
/* `attempts` is not modelled: no decision of the protocol reads it. */

#define LOCKED(u) ((lockm >> (u)) & 1)

/* ---------------- network: one request slot per (claimer, unit) ---------------- */
#define S(c, u) ((c) * NUNITS + (u))
byte rk[NCLAIMERS * NUNITS];   /* request kind, 0 = empty */
byte rb[NCLAIMERS * NUNITS];   /* request ballot */
byte rv[NCLAIMERS * NUNITS];   /* request value (commit owner) */
byte busy[NCLAIMERS];          /* bit u: slot (c, u) holds a request in flight */

/* ---------------- claimer state visible to the units (reply accumulators) ---------------- */
byte wph[NCLAIMERS];     /* phase the claimer is waiting in (RQ_P1 / RQ_COMMIT), 0 = none */
byte pend[NCLAIMERS];    /* units whose reply it still waits for */
byte okm[NCLAIMERS];     /* phase 1: units that replied ok */
byte bestb[NCLAIMERS];   /* phase 1: highest accepted ballot among the ok replies (that count) */
byte bestv[NCLAIMERS];   /*          and its owner */
byte mxep[NCLAIMERS];    /* phase 1: highest epoch among the ok replies */
bit  anydone[NCLAIMERS]; /* phase 1: an ok reply said "done" (lease mode) */
byte acm[NCLAIMERS];     /* phase 2: units that replied ok (accepted) */
byte rfm[NCLAIMERS];     /* phase 2: units that replied conflict */
byte seen[NCLAIMERS];    /* highest ballot number / epoch reported to this claimer */
byte holds[NCLAIMERS];   /* bit u: the claimer holds unit u's slice (read in phase 1) */

/* ---------------- environment and ghost state (for the properties only) ---------------- */
bit  dead[NCLAIMERS];
byte fin[NCLAIMERS];
bit  committed[NCLAIMERS];  /* the claimer sent a commit naming itself (its value may be decided) */
byte nkill;
byte accMask[NB];           /* units that ever accepted ballot b */
byte accVal[NB];            /* the owner ballot b was accepted with */
bit  decB[NB];              /* ballot b was accepted by >= Q units: decided */
byte decOwner = NONE;       /* consume mode: the decided owner */
byte hiDec;                 /* highest decided ballot */
byte execs;                 /* consume mode: how many times the function was executed */
byte exOwner = NONE;
byte outTok;                /* output store: the highest token it stored (what it compares) */
byte outBal;                /* ghost: full ballot of the owner whose output is stored */
bit  ranok;                 /* lease mode: some owner completed a run (output stored, finish sent) */

#if NCLAIMERS == 2
#define CALM (fin[1] != F_ACTIVE || dead[1])
#define OTHERS_IDLE (busy[1] == 0)
#elif NCLAIMERS == 3
#define CALM ((fin[1] != F_ACTIVE || dead[1]) && (fin[2] != F_ACTIVE || dead[2]))
#define OTHERS_IDLE (busy[1] == 0 && busy[2] == 0)
#else
#error "NCLAIMERS must be 2 or 3"
#endif

#if NCLAIMERS == 2
#define ANYBUSY (busy[0] | busy[1])
#else
#define ANYBUSY (busy[0] | busy[1] | busy[2])
#endif
/* no unit below u has a request in flight */
#define LOWEST_BUSY(u) ((ANYBUSY & (BIT(u) - 1)) == 0)

#define SEE(c, x) if :: (x) > seen[c] -> seen[c] = (x) :: else -> skip fi

/* ---------------- ghost bookkeeping on every accept (phase 2 at a unit) ---------------- */
inline on_accept(U, B, V) {
  /* Paxos P2: one value per ballot (rests on step 4: the value is fixed once per ballot) */
  if
  :: accVal[B] == NONE -> accVal[B] = V
  :: else -> assert(accVal[B] == V)
  fi;
  /* (b) nothing lost: a value that can still be decided belongs to a claimer that can decode
   * the function (it read >= K slices in the phase 1 where it proposed itself, step 4 + q >= k),
   * unless that claimer is dead (it died after its commit: the allowed loss) */
  assert(dead[V] || fin[V] == F_EXH || POP(holds[V]) >= K);
  accMask[B] = accMask[B] | BIT(U);
  if
  :: !decB[B] && POP(accMask[B]) >= Q ->
     decB[B] = 1;
#if MODE == CONSUME
     /* (a) agreement: every decided ballot carries the same owner (step 4 + quorum intersection) */
     if
     :: decOwner == NONE -> decOwner = V
     :: else -> assert(decOwner == V)
     fi;
     /* (b) no stranding: the function is never decided for a live claimer that has walked away
      * (rests on step 6: a claimer whose commit may have been accepted never walks away) */
     assert(fin[V] != F_WALKED);
#else
     /* (c) distinct owners decided in ballot order get strictly increasing claim tokens
      * (ballot numbers); rests on the spec's "winner's token is larger than any epoch a quorum
      * reported" (TOKEN_FIX) and on the quorum intersection of phase 1 and phase 2 */
     j = 0;
     do
     :: j < NCLAIMERS ->
        assert(BAL(NUM(B), j) == B || !decB[BAL(NUM(B), j)] || accVal[BAL(NUM(B), j)] == V);
        j++
     :: else -> break
     od;
     j = 0;
#endif
     if
     :: B > hiDec -> hiDec = B
     :: else -> skip
     fi
  :: else -> skip
  fi
}

#ifdef Q_LITERAL_B
/* literal (b): while nothing is decided, at least K slices stay on the units */
#define NPENDING ((st[0] == ST_PENDING) + (st[1] == ST_PENDING) + (st[2] == ST_PENDING))
#endif

/* ---------------- a unit handles the request in slot (C, U) ---------------- */
inline deliver(C, U, LOST) {
  k = rk[S(C, U)]; b = rb[S(C, U)]; v = rv[S(C, U)];
  rk[S(C, U)] = 0; rb[S(C, U)] = 0; rv[S(C, U)] = 0; CLR(busy[C], U);
  /* the reply reaches the claimer iff it is not lost and the claimer still waits for it */
  lis = (!LOST && wph[C] == k && ((pend[C] >> U) & 1));
  if
  :: k == RQ_P1 ->                                   /* lock_read_delete */
     /* Time is abstract: a live lock may have lapsed by now.  The lock is only read here, so
      * choosing the lapse lazily, when the lock is read, covers every lapse timing. */
     if
     :: LOCKED(U) -> CLR(lockm, U)
     :: true -> skip
     fi;
     if
     :: (LOCKED(U) && prom[U] != b) || prom[U] > b
#if MODE == LEASE
        || (accb[U] != 0 && LOCKED(U) && prom[U] == accb[U])
#endif
        ->                                           /* locked */
        if
        :: lis -> SEE(C, NUM(prom[U])); SEE(C, ep[U])
        :: else -> skip
        fi
     :: else ->                                      /* ok */
        live = (LOCKED(U) && prom[U] == accb[U] && accb[U] != 0);
#ifdef CHECK_VACUOUS
        assert(!live);
#endif
        prom[U] = b; lockm = lockm | BIT(U);
        if
        :: lis ->
           okm[C] = okm[C] | BIT(U);
           SEE(C, ep[U]);
           if :: ep[U] > mxep[C] -> mxep[C] = ep[U] :: else -> skip fi;
           if :: st[U] == ST_PENDING -> holds[C] = holds[C] | BIT(U) :: else -> skip fi;
           if :: st[U] == ST_DONE -> anydone[C] = 1 :: else -> skip fi;
           if
           :: accb[U] != 0 && (MODE == CONSUME || live) && accb[U] > bestb[C] ->
              bestb[C] = accb[U]; bestv[C] = accv[U]
           :: else -> skip
           fi
        :: else -> skip
        fi
     fi
  :: k == RQ_COMMIT ->                               /* commit */
     if
     :: prom[U] > b ->
        if :: lis -> rfm[C] = rfm[C] | BIT(U); SEE(C, NUM(prom[U])) :: else -> skip fi
     :: prom[U] <= b && st[U] != ST_PENDING && accv[U] != v ->
#ifdef SPEC_NOCONFLICT
        assert(false);   /* the spec says this cannot happen */
#endif
        if :: lis -> rfm[C] = rfm[C] | BIT(U); SEE(C, NUM(prom[U])) :: else -> skip fi
     :: else ->
        prom[U] = b; accb[U] = b; accv[U] = v;
        if :: NUM(b) > ep[U] -> ep[U] = NUM(b) :: else -> skip fi;
        lockm = lockm | BIT(U);
#if MODE == CONSUME
        st[U] = ST_CONSUMED;                         /* the slice is deleted */
#endif
        on_accept(U, b, v);
#ifdef Q_LITERAL_B
        assert(decOwner != NONE || NPENDING >= K);
#endif
        if :: lis -> acm[C] = acm[C] | BIT(U) :: else -> skip fi
     fi
  :: k == RQ_REL ->                                  /* release */
     if :: prom[U] == b -> CLR(lockm, U) :: else -> skip fi
  :: k == RQ_RENEW ->                                /* renew */
     if :: accb[U] == b && prom[U] == b -> lockm = lockm | BIT(U) :: else -> skip fi
  :: k == RQ_FIN ->                                  /* finish */
     if :: accb[U] == b -> st[U] = ST_DONE :: else -> skip fi
  fi;
  if
  :: wph[C] == k && ((pend[C] >> U) & 1) -> CLR(pend[C], U)
  :: else -> skip
  fi;
  k = 0; b = 0; v = 0; lis = 0; live = 0
}

inline drop(C, U) {
  rk[S(C, U)] = 0; rb[S(C, U)] = 0; rv[S(C, U)] = 0; CLR(busy[C], U); CLR(pend[C], U)
}

/* The choices a unit (and the network next to it) has for claimer C's request: handle it and
 * reply, handle it and lose the reply, lose the request.  On the quiet network (CALM) nothing
 * is lost, and units handle requests in unit order: they are independent, and the lone claimer
 * waits for all replies, so the order cannot matter there (a hand-made partial-order reduction). */
#define UNIT_BRANCHES(C) \
  :: atomic { ((busy[C] >> u) & 1) && (!CALM || LOWEST_BUSY(u)) -> deliver(C, u, 0) }      \
  :: atomic { ((busy[C] >> u) & 1) && rk[S(C, u)] <= RQ_COMMIT && !CALM -> deliver(C, u, 1) } \
  :: atomic { ((busy[C] >> u) & 1) && !CALM -> drop(C, u) }

proctype Unit(byte u) {
  byte k, b, v, j;
  bit lis, live;
end:
  do
  UNIT_BRANCHES(0)
  UNIT_BRANCHES(1)
#if NCLAIMERS > 2
  UNIT_BRANCHES(2)
#endif
  :: atomic {          /* restart: durable state is kept, in-flight messages are lost */
       !CALM && (busy[0] | busy[1]
#if NCLAIMERS > 2
         | busy[2]
#endif
       ) & BIT(u) ->
       if :: (busy[0] >> u) & 1 -> drop(0, u) :: else -> skip fi;
       if :: (busy[1] >> u) & 1 -> drop(1, u) :: else -> skip fi;
#if NCLAIMERS > 2
       if :: (busy[2] >> u) & 1 -> drop(2, u) :: else -> skip fi;
#endif
#if RESTART_LOSES_LOCK
       CLR(lockm, u);
#endif
       skip
     }
  od
}

/* claimers other than PC may die at any point (stop taking steps) */
active proctype Killer() {
end:
  do
  :: atomic { nkill < NKILL && !dead[1] && fin[1] == F_ACTIVE ->
              dead[1] = 1; wph[1] = 0; pend[1] = 0; nkill++ }
#if NCLAIMERS > 2
  :: atomic { nkill < NKILL && !dead[2] && fin[2] == F_ACTIVE ->
              dead[2] = 1; wph[2] = 0; pend[2] = 0; nkill++ }
#endif
  od
}

/* send KIND to every unit in M whose slot is free (a busy slot: this message is lost) */
inline send(M, KIND, BB, VV) {
  i = 0;
  do
  :: i < NUNITS ->
     if
     :: ((M) >> i) & 1 && !((busy[me] >> i) & 1) ->
        rk[S(me, i)] = KIND; rb[S(me, i)] = BB; rv[S(me, i)] = VV; busy[me] = busy[me] | BIT(i);
        if :: KIND == RQ_P1 || KIND == RQ_COMMIT -> pend[me] = pend[me] | BIT(i) :: else -> skip fi
     :: else -> skip
     fi;
     i++
  :: else -> break
  od;
  i = 0
}

/* wait for replies: all in, or stop waiting at any moment (a quorum is in, a timeout): the
 * rest may still be delivered later, their replies ignored.  On the quiet network the lone
 * claimer waits for every reply. */
inline await() {
  if
  :: pend[me] == 0
  :: !CALM          /* includes "a quorum replied, go on without the rest" */
  fi;
  atomic { wph[me] = 0; pend[me] = 0 }
}

/* forget the phase-1 replies once used (keeps the state space small) */
inline RESET1() {
  okm[me] = 0; bestb[me] = 0; bestv[me] = NONE; mxep[me] = 0; anydone[me] = 0
}

inline walk_away() {
  atomic {
    fin[me] = F_WALKED;
#if MODE == CONSUME
    assert(decOwner != me);   /* (b) no stranding, see on_accept */
#endif
  }
}

proctype Claimer(byte me) {
  byte num, b, v, i;
  bit learn, failed, ok;
  {
    skip;
round:
    /* step 1 / moving on: a claimer that owes nothing may leave this key for good */
    if
    :: me != PC && !learn -> walk_away(); goto out
    :: true -> skip
    fi;
    /* backoff: alone on a quiet network, claimer PC waits until every lease has lapsed and
     * every old message has landed (this is what makes the calm-phase check meaningful) */
    if
    :: me == PC -> (!CALM || (busy[PC] == 0 && OTHERS_IDLE));
       if :: CALM -> lockm = 0 :: else -> skip fi
    :: else -> skip
    fi;
    /* the ballot: one more than the highest number seen */
    atomic {
#if OWN_SEEN
      if :: num > seen[me] -> num = num + 1 :: else -> num = seen[me] + 1 fi;
#else
      num = seen[me] + 1;
#endif
      if
      :: num > MAXNUM && (me != PC || !CALM) -> fin[me] = F_EXH; goto out
      :: num > MAXNUM + CALMX -> fin[me] = F_EXHCALM; goto out
      :: else -> skip
      fi;
      b = BAL(num, me);
      /* step 2: phase 1, lock_read_delete to all n units */
      okm[me] = 0; bestb[me] = 0; bestv[me] = NONE; mxep[me] = 0; anydone[me] = 0;
#if !KEEP_SLICES
      holds[me] = 0;
#endif
      wph[me] = RQ_P1;
      send(ALLUNITS, RQ_P1, b, 0)
    }
    await();
#if MODE == LEASE
    /* done somewhere: a run finished; the function is no longer claimable (step 6, end) */
    if
    :: anydone[me] -> fin[me] = F_SAWDONE; goto out
    :: else -> skip
    fi;
#endif
    /* step 3: lost in phase 1 */
    if
    :: POP(okm[me]) < Q ->
       atomic { send(okm[me], RQ_REL, b, 0); RESET1() }
#if STEP3_LITERAL
       if :: me != PC -> walk_away(); goto out :: else -> skip fi;
#endif
       goto round            /* owes nothing: round start may leave; owes: retry (step 6) */
    :: else -> skip
    fi;
#if TOKEN_FIX
    /* the fix: the claim token must exceed every epoch the quorum reported */
    if
    :: mxep[me] >= num -> atomic { send(okm[me], RQ_REL, b, 0); RESET1() }; goto round
    :: else -> skip
    fi;
#endif
    /* step 4: the value */
    atomic {
      if :: bestb[me] != 0 -> v = bestv[me] :: else -> v = me fi;
      if :: v == me -> committed[me] = 1 :: else -> skip fi;
#if STEP6_SAFE
      learn = 1;
#endif
      /* step 5: phase 2, commit to the units that promised */
      acm[me] = 0; rfm[me] = 0; wph[me] = RQ_COMMIT;
      send(okm[me], RQ_COMMIT, b, v);
      RESET1()
    }
    await();
    atomic {
      ok = (POP(acm[me]) >= Q);
#if !STEP6_SAFE
      learn = (acm[me] != 0);   /* literal: only a received accept obliges us */
#endif
      acm[me] = 0; rfm[me] = 0
    }
    if
    :: ok ->                                     /* decided */
       learn = 0; ok = 0;
       if
       :: v == me -> goto owner
       :: else -> skip
       fi;
#if MODE == CONSUME
       fin[me] = F_MOVEDON; goto out             /* it is theirs */
#else
       goto round                                /* lease: come back until it is done */
#endif
    :: else ->                                   /* step 6: learn = we may not walk away */
       goto round
    fi;
owner:
    /* the owner; its ballot number b is the claim token */
    assert(POP(holds[me]) >= K);                 /* (b) it can decode the function */
#if MODE == CONSUME
    atomic {
      execs++;
      assert(execs == 1);                        /* (a) executed at most once */
      assert(decOwner == me);
      exOwner = me
    }
#else
    if
    :: atomic { send(ALLUNITS, RQ_RENEW, b, 0) }  /* renew the lease while running */
    :: skip
    fi;
#endif
    /* write the output with the claim token; the store refuses a lower token */
    atomic {
      if
      :: NUM(b) >= outTok ->
         assert(b >= outBal);                    /* (c) no output overwritten by an older owner */
#ifdef STRONG_FENCE
         assert(b >= hiDec);
#endif
         outTok = NUM(b); outBal = b; ok = 1
      :: else -> ok = 0
      fi
    }
#if MODE == CONSUME
    fin[me] = F_RAN; goto out
#else
    if
    :: ok -> atomic { send(ALLUNITS, RQ_FIN, b, 0); ranok = 1; fin[me] = F_RAN }; goto out
    :: ok && !failed -> failed = 1; atomic { send(ALLUNITS, RQ_REL, b, 0) }; goto round
    :: !ok -> atomic { send(ALLUNITS, RQ_REL, b, 0) }; goto round   /* fenced off: run failed */
    fi;
#endif
out:
    skip
  } unless { dead[me] }
}

/* bounded liveness, checked in every terminal state */
active proctype EndCheck() {
  timeout ->
  atomic {
    /* alone on a quiet network, claimer PC (which keeps trying) always gets to an end */
    assert(fin[PC] != F_EXHCALM);
#if MODE == CONSUME
    /* (b) the decided owner ran it, unless it died (after its commit) or hit the model bound */
    assert(decOwner == NONE || exOwner == decOwner || dead[decOwner] || fin[decOwner] == F_EXH);
    assert(decOwner == NONE || committed[decOwner]);
    /* (b) if PC kept trying to the end, the function was decided */
    assert(fin[PC] == F_EXH || decOwner != NONE);
#else
    /* (b) lease mode: if PC kept trying, some owner completed a run (a lapsed or dead owner's
     * function was re-decided and run) */
    assert(fin[PC] == F_EXH || ranok);
#endif
  }
}

init {
  byte i;
  atomic {
    i = 0;
    do
    :: i < NB -> accVal[i] = NONE; i++
    :: else -> break
    od;
    i = 0;
    do
    :: i < NCLAIMERS -> bestv[i] = NONE; i++
    :: else -> break
    od;
    i = 0;
    do
    :: i < NUNITS -> run Unit(i); i++
    :: else -> break
    od;
    i = 0;
    do
    :: i < NCLAIMERS -> run Claimer(i); i++
    :: else -> break
    od;
    i = 0
  }
}
