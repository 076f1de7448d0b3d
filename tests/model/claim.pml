/*
 * claim.pml -- Promela model of the dstk claim protocol (docs/claim.md).
 *
 * One function key, NUNITS units (Paxos acceptors), NCLAIMERS claimers (proposers): single-
 * decree Paxos on "who owns this function", with leases and fencing tokens.  README.md next to
 * this file lists the abstractions, what each property means, and how to run it (run.sh).
 *
 * Parameters (spin -DNAME=value):
 *   NUNITS, NCLAIMERS (2 or 3), K (decode threshold), Q (claim quorum), MODE (CONSUME or LEASE)
 *   MAXNUM   the highest ballot number a claimer may use while others are still around
 *   CALMX    extra ballot numbers for claimer 0 once it is alone on a quiet network
 *   NKILL    how many claimers may die
 *   LOSE_P1_REPLY=1  a phase-1 reply may be lost on its own (the unit promised anyway)
 * Readings of the spec.  The defaults are what the committed model checks; a 0/1 flip is a
 * mutation that README.md says spin refutes, or a spec bug the default fixes:
 *   TOKEN_FIX=1     (fix) a claimer whose quorum reports an epoch >= its ballot number does not
 *                   commit but retries with a higher number.  0 = the spec as written: two
 *                   owners get the same claim token and the stale one overwrites the output.
 *   CONFLICT_FIX=1  (fix) in consume mode a consumed unit accepts a commit for another owner
 *                   (plain Paxos).  0 = the spec as written (refuse with conflict): the function
 *                   can stay undecided forever with every claimer alive and a quiet network.
 *   OWN_SEEN=1      a claimer's next ballot number is above its own last one
 *   STEP6_SAFE=1    after sending a commit a claimer never walks away until it learns a
 *                   decision.  0 = "some unit accepted our commit" read as "we got an ok reply"
 *   STEP3_LITERAL=0 a claimer that loses phase 1 while it owes a decision (step 6) retries.
 *                   1 = step 3 read literally: release and go to the next key.
 *   KEEP_SLICES=1   a claimer keeps the slices it read in every round for this key
 * Extra checks, off by default (README.md says what spin finds):
 *   Q_LITERAL_B     "while no owner is decided, >= k slices stay on the units" (3 units only)
 *   STRONG_FENCE    "an accepted output always comes from the highest decided token"
 *   SPEC_NOCONFLICT the spec's "cannot happen" for the consumed/done conflict in commit
 *   CHECK_VACUOUS   the lease-mode "accepted owner's lease is live" flag of an ok reply is set
 *   MUT_NO_STEP4    mutation: a claimer always proposes itself (skips step 4)
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
#define MAXNUM 2
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
#ifndef CONFLICT_FIX
#define CONFLICT_FIX 1
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
#ifndef LOSE_P1_REPLY
#define LOSE_P1_REPLY 0
#endif

/* Claimer 0 is the one that "keeps trying": it never dies and never walks away for good. */
#define PC   0
#define NONE 255

/* A ballot (number, claimer id) is coded as number * NCLAIMERS + id: codes order ballots by
 * number then id, and 0 is the initial (0, "") ballot (real ballots have number >= 1). */
#define BAL(n, c) ((n) * NCLAIMERS + (c))
#define NUM(b)    ((b) / NCLAIMERS)
#define NB        ((MAXNUM + CALMX + 1) * NCLAIMERS)

#define POP(m)    (((m)&1) + (((m)>>1)&1) + (((m)>>2)&1) + (((m)>>3)&1) + (((m)>>4)&1) + \
                   (((m)>>5)&1) + (((m)>>6)&1) + (((m)>>7)&1))
#define ALLUNITS  ((1 << NUNITS) - 1)
#define BIT(u)    (1 << (u))
#define CLR(m, u) m = (m) & (255 - BIT(u))

/* Request kinds; RQ_P1 and RQ_COMMIT are also the phase a claimer waits in.
 * release and renew are not modelled: a lock lapses nondeterministically and the lapse is
 * chosen when the lock is read (see deliver), so a release is a lapse that came early and a
 * renew a lease that has not lapsed yet.  No safety property reads a lock. */
#define RQ_P1     1
#define RQ_COMMIT 2
#define RQ_FIN    3

#define ST_PENDING  0   /* the slice is there */
#define ST_CONSUMED 1   /* consume-mode commit accepted here; the slice is deleted */
#define ST_DONE     2   /* lease-mode finish received; the slice is deleted */

/* how a claimer ended */
#define F_ACTIVE  0
#define F_WALKED  1   /* moved on to other keys for good, owing nothing (steps 3 and 6) */
#define F_MOVEDON 2   /* learned that the function was decided for another owner (step 5) */
#define F_RAN     3   /* ran the function as its owner */
#define F_SAWDONE 4   /* lease mode: a unit reported the function done */
#define F_EXH     5   /* used up its ballot numbers while others were around (model bound) */
#define F_EXHCALM 6   /* used up its ballot numbers alone on a quiet network: liveness bug */

/* ---------------- units: durable state, kept across a restart ---------------- */
byte prom[NUNITS];    /* promised ballot */
byte lockm;           /* bit u: unit u took a lock that may still be live (see deliver) */
byte accb[NUNITS];    /* accepted ballot, 0 = none */
byte accv[NUNITS];    /* accepted owner */
byte ep[NUNITS];      /* epoch: highest ballot number accepted here */
byte st[NUNITS];      /* ST_PENDING, ST_CONSUMED or ST_DONE */
/* `attempts` is not modelled: nothing in the protocol decides on it. */

#define LOCKED(u) ((lockm >> (u)) & 1)

/* ---------------- network: one request slot per (claimer, unit) ---------------- */
#define S(c, u) ((c) * NUNITS + (u))
byte rk[NCLAIMERS * NUNITS];   /* request kind, 0 = empty */
byte rb[NCLAIMERS * NUNITS];   /* its ballot */
byte rv[NCLAIMERS * NUNITS];   /* its value (commit: the owner) */
byte busy[NCLAIMERS];          /* bit u: slot (c, u) holds a request in flight */

/* ---------------- what replies tell each claimer (written by the units) ---------------- */
byte wph[NCLAIMERS];     /* the phase it waits in (RQ_P1, RQ_COMMIT), 0 = not listening */
byte pend[NCLAIMERS];    /* units whose reply it waits for */
byte okm[NCLAIMERS];     /* phase 1: units that replied ok */
byte bestb[NCLAIMERS];   /* phase 1: highest accepted ballot among the ok replies that count */
byte bestv[NCLAIMERS];   /*          and its owner */
byte mxep[NCLAIMERS];    /* phase 1: highest epoch among the ok replies */
bit  anydone[NCLAIMERS]; /* phase 1: an ok reply said done (lease mode) */
byte acm[NCLAIMERS];     /* phase 2: units that accepted */
byte seen[NCLAIMERS];    /* highest ballot number or epoch any reply reported */
byte holds[NCLAIMERS];   /* bit u: it read unit u's slice */

/* ---------------- environment and ghost state, for the properties ---------------- */
bit  dead[NCLAIMERS];
byte fin[NCLAIMERS];
bit  committed[NCLAIMERS];  /* it sent a commit naming itself */
bit  sentc[NCLAIMERS];      /* it sent a commit (for anyone) */
byte nkill;
byte accMask[NB];           /* units that ever accepted ballot b (until b is decided) */
byte accVal[NB];            /* the owner ballot b was accepted with */
bit  decB[NB];              /* ballot b was accepted by Q units: decided */
byte decOwner = NONE;       /* consume mode: the decided owner */
byte hiDec;                 /* highest decided ballot */
byte execs;                 /* consume mode: times the function was executed */
byte exOwner = NONE;        /*               and by whom */
byte outTok;                /* the output store: highest token stored, what it compares */
byte outBal;                /* ghost: full ballot of the owner whose output is stored */
bit  ranok;                 /* lease mode: some owner completed a run */

#if NCLAIMERS == 2
#define CALM        (fin[1] != F_ACTIVE || dead[1])
#define OTHERS_IDLE (busy[1] == 0)
#define ANYBUSY     (busy[0] | busy[1])
#elif NCLAIMERS == 3
#define CALM        ((fin[1] != F_ACTIVE || dead[1]) && (fin[2] != F_ACTIVE || dead[2]))
#define OTHERS_IDLE (busy[1] == 0 && busy[2] == 0)
#define ANYBUSY     (busy[0] | busy[1] | busy[2])
#else
#error "NCLAIMERS must be 2 or 3"
#endif
/* CALM: every claimer but PC has stopped.  From then on the network is quiet (nothing is
 * lost, PC waits for every reply), which is when a claimer that keeps trying must finish. */

#define LOWEST_BUSY(u) ((ANYBUSY & (BIT(u) - 1)) == 0)

#define SEE(c, x) if :: (x) > seen[c] -> seen[c] = (x) :: else -> skip fi

/* ---------------- ghost bookkeeping when a unit accepts (B, V) ---------------- */
inline on_accept(U, B, V) {
  /* Paxos: one value per ballot (rests on step 4 fixing the value once per ballot) */
  if
  :: accVal[B] == NONE -> accVal[B] = V
  :: else -> assert(accVal[B] == V)
  fi;
  /* (b) nothing lost: an owner that can still be decided can decode the function: it read
   * >= q >= k slices in the phase 1 where it proposed itself (steps 2 and 4, q >= k), unless
   * it is dead (it died after its commit: the loss the spec allows) */
  assert(dead[V] || fin[V] == F_EXH || POP(holds[V]) >= K);
  if
  :: !decB[B] ->
     accMask[B] = accMask[B] | BIT(U);
     if
     :: POP(accMask[B]) >= Q ->
        decB[B] = 1; accMask[B] = 0;
        printf("MSC: DECIDED ballot (%d,%d) owner c%d\n", NUM(B), B % NCLAIMERS, V);
#if MODE == CONSUME
        /* (a) agreement: every decided ballot names the same owner (step 4 and quorum
         * intersection: q > n/2) */
        if
        :: decOwner == NONE -> decOwner = V
        :: else -> assert(decOwner == V)
        fi;
        /* (b) no stranding: never decided for a live claimer that has walked away (step 6:
         * a claimer whose commit may have been accepted does not walk away) */
        assert(fin[V] != F_WALKED);
#else
        /* (c) owners decided one after the other get different claim tokens: the token is
         * only the ballot number, so two decided ballots with one number are a fencing hole
         * (rests on "the winner's claim token is larger than any epoch a quorum reported") */
        j = 0;
        do
        :: j < NCLAIMERS ->
           assert(BAL(NUM(B), j) == B || !decB[BAL(NUM(B), j)] || accVal[BAL(NUM(B), j)] == V);
           j++
        :: else -> break
        od;
        j = 0;
#endif
        if :: B > hiDec -> hiDec = B :: else -> skip fi
     :: else -> skip
     fi
  :: else -> skip
  fi
}

#ifdef Q_LITERAL_B
#define NPENDING ((st[0] == ST_PENDING) + (st[1] == ST_PENDING) + (st[2] == ST_PENDING))
#endif

/* ---------------- a unit handles the request in slot (C, U) ---------------- */
inline deliver(C, U, LOST) {
  k = rk[S(C, U)]; b = rb[S(C, U)]; v = rv[S(C, U)];
  rk[S(C, U)] = 0; rb[S(C, U)] = 0; rv[S(C, U)] = 0; CLR(busy[C], U);
  /* the claimer reads the reply iff it still waits for it and it is not lost */
  lis = (!LOST && wph[C] == k && ((pend[C] >> U) & 1));
  if
  :: k == RQ_P1 ->                                   /* lock_read_delete (phase 1) */
     /* Time is abstract: a lock that was taken may have lapsed by now, or not (lk).  Locks
      * are read only here, so choosing the lapse when the lock is read covers every timing
      * (a paused owner, a slow claimer, a unit restart with or without its locks). */
     if
     :: LOCKED(U) -> lk = 1
     :: true -> lk = 0
     fi;
     if
     /* refuse when a live lock is held for another ballot, or a higher ballot was promised,
      * or (lease mode) the accepted owner's lease is live */
     :: (lk && prom[U] != b) || prom[U] > b || (MODE == LEASE && accb[U] != 0 && lk && prom[U] == accb[U]) ->
        printf("MSC: u%d refuses phase 1 (%d,%d) of c%d: locked\n", U, NUM(b), b % NCLAIMERS, C);
        if :: lis -> SEE(C, NUM(prom[U])); SEE(C, ep[U]) :: else -> skip fi
     :: else ->                                      /* ok */
        /* the accepted owner's lease is live: its lock was live and still for its ballot */
        live = (lk && prom[U] == accb[U] && accb[U] != 0);
#ifdef CHECK_VACUOUS
        assert(!live);
#endif
        prom[U] = b; lockm = lockm | BIT(U);
        printf("MSC: u%d promises (%d,%d) to c%d\n", U, NUM(b), b % NCLAIMERS, C);
        if
        :: lis ->
           okm[C] = okm[C] | BIT(U);
           SEE(C, ep[U]);
           if :: ep[U] > mxep[C] -> mxep[C] = ep[U] :: else -> skip fi;
           if :: st[U] == ST_PENDING -> holds[C] = holds[C] | BIT(U) :: else -> skip fi;
#if KEEP_SLICES
           /* only "can decode" matters once it can: one canonical value */
           if :: POP(holds[C]) >= K -> holds[C] = ALLUNITS :: else -> skip fi;
#endif
           if :: st[U] == ST_DONE -> anydone[C] = 1 :: else -> skip fi;
           if
           :: accb[U] != 0 && (MODE == CONSUME || live) && accb[U] > bestb[C] ->
              bestb[C] = accb[U]; bestv[C] = accv[U]
           :: else -> skip
           fi
        :: else -> skip
        fi
     fi
  :: k == RQ_COMMIT ->                               /* commit (phase 2) */
     if
     :: prom[U] > b ->                               /* refuse: conflict */
        printf("MSC: u%d refuses commit (%d,%d) of c%d: promised higher\n", U, NUM(b), b % NCLAIMERS, C);
        if :: lis -> SEE(C, NUM(prom[U])) :: else -> skip fi
     :: prom[U] <= b && st[U] != ST_PENDING && accv[U] != v &&
        (MODE == LEASE || !CONFLICT_FIX) ->          /* refuse: conflict */
#ifdef SPEC_NOCONFLICT
        assert(false);                               /* the spec: "cannot happen" */
#endif
        printf("MSC: u%d (consumed/done, owner c%d) refuses commit (%d,%d) for c%d\n", U, accv[U], NUM(b), b % NCLAIMERS, v);
        if :: lis -> SEE(C, NUM(prom[U])) :: else -> skip fi
     :: else ->                                      /* accept */
        prom[U] = b; accb[U] = b; accv[U] = v;
        printf("MSC: u%d accepts (%d,%d) owner c%d\n", U, NUM(b), b % NCLAIMERS, v);
        if :: NUM(b) > ep[U] -> ep[U] = NUM(b) :: else -> skip fi;
        lockm = lockm | BIT(U);
#if MODE == CONSUME
        st[U] = ST_CONSUMED;
#endif
        on_accept(U, b, v);
#ifdef Q_LITERAL_B
        assert(decOwner != NONE || NPENDING >= K);
#endif
        if :: lis -> acm[C] = acm[C] | BIT(U) :: else -> skip fi
     fi
  :: k == RQ_FIN ->                                  /* finish (lease mode) */
     if :: accb[U] == b -> st[U] = ST_DONE; printf("MSC: u%d done\n", U) :: else -> skip fi
  fi;
  if :: wph[C] == k -> CLR(pend[C], U) :: else -> skip fi;
  k = 0; b = 0; v = 0; lis = 0; live = 0; lk = 0
}

/* A unit handles requests in any order.  With LOSE_P1_REPLY the reply to a phase-1 request
 * may be lost (the unit promised, the claimer does not know; 2.3x the states, so only the
 * bitstate runs of run.sh set it).  On the quiet network (CALM) units go in unit order:
 * they are independent and the lone claimer waits for every reply, so order cannot matter
 * there (a partial-order reduction by hand). */
#define UNIT_BRANCH(C) \
  :: atomic { ((busy[C] >> u) & 1) && (!CALM || LOWEST_BUSY(u)) -> deliver(C, u, 0) } \
  :: atomic { LOSE_P1_REPLY && ((busy[C] >> u) & 1) && rk[S(C, u)] == RQ_P1 && !CALM -> deliver(C, u, 1) }

proctype Unit(byte u) {
  byte k, b, v, j;
  bit lis, live, lk;
end:
  do
  UNIT_BRANCH(0)
  UNIT_BRANCH(1)
#if NCLAIMERS > 2
  UNIT_BRANCH(2)
#endif
  od
}

/* the requests of claimer C still in flight are lost */
inline lose_all(C) {
  i = 0;
  do
  :: i < NUNITS -> rk[S(C, i)] = 0; rb[S(C, i)] = 0; rv[S(C, i)] = 0; i++
  :: else -> break
  od;
  i = 0; busy[C] = 0
}

/* Claimers other than PC may die between any two of their steps once they sent a commit.
 * Dying before that is not modelled apart: such a claimer influences nothing any more but
 * its requests in flight, exactly like one that walked away (which it may do at any round). */
active proctype Killer() {
  byte i;
end:
  do
  :: atomic { nkill < NKILL && !dead[1] && fin[1] == F_ACTIVE && sentc[1] ->
              dead[1] = 1; wph[1] = 0; pend[1] = 0; nkill++; printf("MSC: c1 dies\n");
              if :: lose_all(1) :: skip fi }
#if NCLAIMERS > 2
  :: atomic { nkill < NKILL && !dead[2] && fin[2] == F_ACTIVE && sentc[2] ->
              dead[2] = 1; wph[2] = 0; pend[2] = 0; nkill++; printf("MSC: c2 dies\n");
              if :: lose_all(2) :: skip fi }
#endif
  od
}

/* Send KIND to the units in M (a unit whose slot is still busy does not get it: lost).  With
 * LOSSY each request may be lost, except on the quiet network. */
inline send(M, KIND, BB, VV, LOSSY) {
  i = 0;
  do
  :: i < NUNITS ->
     if
     :: ((M) >> i) & 1 && !((busy[me] >> i) & 1) ->
        if
        :: true ->
           rk[S(me, i)] = KIND; rb[S(me, i)] = BB; rv[S(me, i)] = VV;
           busy[me] = busy[me] | BIT(i);
           if :: KIND != RQ_FIN -> pend[me] = pend[me] | BIT(i) :: else -> skip fi
        :: LOSSY && !CALM -> skip                   /* lost */
        fi
     :: else -> skip
     fi;
     i++
  :: else -> break
  od;
  i = 0
}

/* forget the phase-1 replies once used (keeps the state space small) */
inline reset1() {
  okm[me] = 0; bestb[me] = 0; bestv[me] = NONE; mxep[me] = 0; anydone[me] = 0
}

inline walk_away() {
  fin[me] = F_WALKED;
  printf("MSC: c%d walks away\n", me);
#if MODE == CONSUME
  assert(decOwner != me)         /* (b) no stranding, see on_accept */
#endif
}

/*
 * A claimer.  Each atomic block runs from one wait to the next; between blocks the claimer may
 * pause for any time and (all but PC) may die.
 * Messages: a phase-1 request may be lost; the claimer waits for the others' replies.  After
 * sending commits the claimer may stop waiting at any moment (a timeout, or "a quorum is in");
 * a commit still in flight may land later (its reply is ignored) or be lost.  A lost reply is
 * a claimer that stopped waiting before the reply came.  A unit restart loses the requests in
 * flight to it, which these losses cover; its durable state and locks stay (see deliver).
 */
proctype Claimer(byte me) {
  byte num, b, v, i;
  bit learn, failed, ok;
  {
    skip;
round:
    atomic {
      /* backoff: alone on the quiet network, PC waits until its old messages landed and then
       * one lease, so every lock has lapsed (this makes the calm-phase check meaningful) */
      (me != PC || !CALM || (busy[PC] == 0 && OTHERS_IDLE)) ->
      /* moving on (steps 3 and 5): a claimer that owes nothing may leave this key for good */
      if
      :: me != PC && !learn -> walk_away(); goto out
      :: true -> skip
      fi;
      if :: me == PC && CALM -> lockm = 0 :: else -> skip fi;
      lose_all(me);          /* commits of the last round not landed by now are lost */
      /* the ballot number: one more than the highest number seen */
#if OWN_SEEN
      if :: num > seen[me] -> num = num + 1 :: else -> num = seen[me] + 1 fi;
#else
      num = seen[me] + 1;
#endif
      if
      :: num > MAXNUM && (me != PC || !CALM) -> fin[me] = F_EXH; goto out
      :: num > MAXNUM + CALMX && me == PC && CALM -> fin[me] = F_EXHCALM; goto out
      :: else -> skip
      fi;
      b = BAL(num, me);
      printf("MSC: c%d phase 1 with (%d,%d)\n", me, num, me);
      /* step 2: phase 1, lock_read_delete to all n units */
      reset1();
#if !KEEP_SLICES
      holds[me] = 0;
#endif
      wph[me] = RQ_P1;
      send(ALLUNITS, RQ_P1, b, 0, 1)
    }
    atomic {
      pend[me] == 0 ->       /* every phase-1 request was answered (or lost) */
      wph[me] = 0;
#if MODE == LEASE
      /* a unit says done: a run finished and the function is gone (end of step 6) */
      if
      :: anydone[me] -> fin[me] = F_SAWDONE; goto out
      :: else -> skip
      fi;
#endif
      /* step 3: lost in phase 1 (no release: see RQ_FIN) */
      if
      :: POP(okm[me]) < Q ->
         reset1();
#if STEP3_LITERAL
         if :: me != PC -> walk_away(); goto out :: else -> skip fi;
#endif
         b = 0; goto round   /* owes nothing: may move on at round start; else retry (step 6) */
      :: else -> skip
      fi;
#if TOKEN_FIX
      /* the fix: the claim token must be larger than every epoch the quorum reported */
      if
      :: mxep[me] >= num -> reset1(); b = 0; goto round
      :: else -> skip
      fi;
#endif
      /* step 4: the value */
#ifndef MUT_NO_STEP4
      if :: bestb[me] != 0 -> v = bestv[me] :: else -> v = me fi;
#else
      v = me;                /* mutation: ignore what the quorum accepted */
#endif
      if :: v == me -> committed[me] = 1 :: else -> skip fi;
#if STEP6_SAFE
      learn = 1;             /* from now on a unit may have accepted from us */
#endif
      printf("MSC: c%d commits (%d,%d) owner c%d\n", me, num, me, v);
      /* step 5: phase 2, commit to the units that promised */
      acm[me] = 0; wph[me] = RQ_COMMIT; sentc[me] = 1;
      send(okm[me], RQ_COMMIT, b, v, 0);
      reset1()
    }
    atomic {
      (pend[me] == 0 || !CALM) ->
      wph[me] = 0; pend[me] = 0;
      ok = (POP(acm[me]) >= Q);
#if !STEP6_SAFE
      learn = (acm[me] != 0);  /* literal step 6: only an accept we heard of obliges us */
#endif
      acm[me] = 0;
      if
      :: ok ->               /* decided */
         ok = 0; learn = 0;
         printf("MSC: c%d learns (%d,%d) decided for c%d\n", me, num, me, v);
         if
         :: v == me -> goto owner
         :: else -> skip
         fi;
#if MODE == CONSUME
         fin[me] = F_MOVEDON; goto out     /* it is theirs */
#else
         b = 0; v = 0; goto round          /* lease mode: come back until it is done */
#endif
      :: else -> b = 0; v = 0; goto round  /* step 6; `learn` says whether we may leave */
      fi
    }
owner:
    /* the owner; its ballot number is the claim token */
    atomic {
      printf("MSC: c%d runs the function\n", me);
      assert(POP(holds[me]) >= K);         /* (b) the owner can decode the function */
#if MODE == CONSUME
      execs++;
      assert(execs == 1);                  /* (a) executed at most once (step 5) */
      assert(decOwner == me);
      exOwner = me
#else
      skip
#endif
    }
    /* running: the owner may pause here, its lease lapse, and another claimer take over */
    atomic {
      /* write the output with the claim token; the store refuses a lower token */
      if
      :: NUM(b) >= outTok ->
         assert(b >= outBal);              /* (c) no output overwritten by an older owner */
#ifdef STRONG_FENCE
         assert(b >= hiDec);
#endif
         outTok = NUM(b); outBal = b; ok = 1;
         printf("MSC: output of c%d stored with token %d\n", me, NUM(b))
      :: else -> ok = 0; printf("MSC: output of c%d refused (token %d)\n", me, NUM(b))
      fi;
#if MODE == CONSUME
      fin[me] = F_RAN; goto out
#else
      if
      :: ok -> send(ALLUNITS, RQ_FIN, b, 0, 0); ranok = 1; fin[me] = F_RAN; goto out
      :: ok && !failed -> failed = 1; ok = 0; b = 0; v = 0; goto round   /* the run failed */
      :: !ok -> b = 0; v = 0; goto round                 /* fenced off: the run failed */
      fi
#endif
    }
out:
    atomic {
      if :: lose_all(me) :: skip fi      /* what is still in flight may be lost */
    }
  } unless { dead[me] }
}

/* bounded liveness: checked in every terminal state */
active proctype EndCheck() {
  timeout ->
  atomic {
    /* alone on a quiet network, PC (the claimer that keeps trying) always gets to an end */
    assert(fin[PC] != F_EXHCALM);
#if MODE == CONSUME
    /* (b) the decided owner ran it, unless it died (after its commit) or hit the model bound */
    assert(decOwner == NONE || exOwner == decOwner || dead[decOwner] || fin[decOwner] == F_EXH);
    assert(decOwner == NONE || committed[decOwner]);
    /* (b) if PC kept trying to the end, the function was decided */
    assert(fin[PC] == F_EXH || decOwner != NONE);
#else
    /* (b) lease mode: if PC kept trying to the end, some owner completed a run: a lapsed or
     * dead owner's function was re-decided and run */
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
