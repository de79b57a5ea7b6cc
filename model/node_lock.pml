/*
 * Model of the node-level lock, addon/node_lock/node_lock.cc, step for step: every shared
 * access of the C++ (all seq_cst, so interleaving is exact) is one step here; process-local
 * steps are folded into a neighbour. N processes (slots) on one node loop forever.
 *
 * What it covers: the PF-T counters with the flipping phase bit; the FIFO ticket ring with
 * announce, skip of cancelled tickets, re-adoption of a cancelled ticket; readers' words
 * (waiting, cancelled and absorbed, held, cached, revoked); the drain word; the futex
 * protocol of every waiter (announce, read seq, re-check, FUTEX_WAIT compares seq) and of
 * every waker (change, then look at `sleeping`, then bump seq and FUTEX_WAKE); cancellation
 * from another thread (flag, then the same wake protocol) at every stage, up to CANCELS
 * times in a run (a deadline is the same withdrawal); biased reads and their revocation.
 * Not covered: reclaim of dead slots, the statistics, the spin's yields and time bound.
 *
 * Abstractions (exact for what the C++ compares):
 * - seq is only compared with the value the waiter read: moved[e] is "bumped since".
 * - rin/rout reader counts mod MR = 4 > the 3 read entries that can be outstanding (one per
 *   slot, cancelled ones included); tickets mod TM = 2 * W (W writing slots), ring indexed
 *   mod W: a stale ring entry is exactly W tickets old, which mod 2W tells apart.
 * - Whether a release keeps a cached hold is a free choice (the C++ heuristics: no queued
 *   writer, not revoked in the last 2 ms), so every policy is checked.
 *
 * Options: ALL_BOTH (every slot reads and writes; else slot 0 writes, 1 both, 2 reads);
 * NO_BIAS; CANCELS (budget, default 1). Sanity mutants, each must fail: NEVER_SHARED;
 * BUG_NO_WAKE (the turn is passed without a wake); BUG_NO_RECHECK (a waiter announces and
 * sleeps without re-checking); BUG_NO_ABSORB (a writer's release leaves the readers it
 * blocked that were cancelled counted in rin, and wakes nobody).
 */
#ifndef N
#define N 3
#endif
#define MR 4
#ifndef ROLE1
#define ROLE1 BOTH
#endif
#ifdef ALL_BOTH
#define W 3
#define ROLE0 BOTH
#define ROLE2 BOTH
#else
#define W 2
#define ROLE0 WRITER
#define ROLE2 READER
#endif
#define TM (2 * W)
#ifndef CANCELS
#define CANCELS 1
#endif
#define READER 1
#define WRITER 2
#define BOTH 3
#define PRES 2

/* reader word: state * 4 + writer bits it waits on */
#define IDLE 0
#define WAITING 1
#define RCANC 2
#define HOLD 3
#define HOLDREV 4
#define CACHED 5
/* ring entry state */
#define QUEUED 1
#define WCANC 2
#define PASSED 3

byte rinCount, rinBits, routCount, win, wout, phase, readWaiters;
byte drainOn, drainTarget;          /* one 64-bit word: slot + 1, target, withdrawn flag */
bool drainWd;
byte ringT[W], ringS[W], ringQ[W];  /* one 64-bit word each */
byte rword[N];
bool sleeping[2 * N], moved[2 * N], inKernel[2 * N]; /* entry 2i: read, 2i+1: write */
bool cancelled[N], pending[N], kindW[N]; /* the token's flag; a call in progress; its kind */
byte budget = CANCELS;

/* ghost state for the properties */
byte readersIn, writersIn;
bool wantR[N], inR[N], wantW[N], inW[N];
#ifdef NEVER_SHARED
bool shared;
#define NOTE_SHARED if :: readersIn >= 2 -> shared = true :: else -> skip fi
#else
#define NOTE_SHARED skip
#endif
#define ENTER_READ readersIn++; inR[i] = true; wantR[i] = false; NOTE_SHARED; assert(writersIn == 0)
#define ENTER_WRITE writersIn++; inW[i] = true; wantW[i] = false; assert(writersIn == 1 && readersIn == 0)
#define EXIT_READ readersIn--; inR[i] = false
#define EXIT_WRITE writersIn--; inW[i] = false

/* C++ wakeEntry: look at sleeping; only then bump seq and FUTEX_WAKE */
inline wake(e) {
  if
  :: sleeping[e] -> d_step { moved[e] = true; inKernel[e] = false }
  :: else -> skip
  fi
}

/* C++ await: the sleep loop. READY is one shared load;
 * the grant's ghost step (G: 0 none, 1 read, 2 write) runs in the step that sees it true.
 * res: 0 granted, 1 withdrawn. */
#define GHOST if :: G == 1 -> ENTER_READ :: G == 2 -> ENTER_WRITE :: else -> skip fi
inline await(e, READY, G) {
  res = 0;
  ok = false;
  /* The spin's checks are left out: a check without the announcement is the same check with
   * it, minus a needless wake-up. */
  if
  :: !ok ->
    do
    :: sleeping[e] = true;
       moved[e] = false;                       /* s = seq.load() */
#ifndef BUG_NO_RECHECK
       atomic { if :: READY -> GHOST; ok = true :: else -> ok = false fi };
       if :: ok -> d_step { sleeping[e] = false; moved[e] = false }; break :: else -> skip fi;
#endif
       if :: cancelled[i] -> d_step { sleeping[e] = false; moved[e] = false; res = 1 }; break :: else -> skip fi;
       d_step { if :: !moved[e] -> inKernel[e] = true :: else -> skip fi } /* FUTEX_WAIT(seq, s) */
       !inKernel[e];
       d_step { sleeping[e] = false; moved[e] = false }
#ifdef BUG_NO_RECHECK
       ; atomic { if :: READY -> GHOST; ok = true :: else -> ok = false fi };
       if :: ok -> break :: else -> skip fi
#endif
    od
  :: else -> skip
  fi;
  skip  /* where a break lands: never the caller's d_step */
}

/* C++ leaveRead: rout += 1, then the drain word; wake the writer that waits for this value,
 * or finish the release of a writer withdrawn mid-drain (a CAS with it). leaveRead0 is the
 * same inside a release, where no withdrawn drain can be pending (asserted). */
inline leaveRead0() {
  d_step { routCount = (routCount + 1) % MR; n = routCount };
  atomic { if :: drainOn != 0 && drainTarget == n -> dOn = drainOn; assert(!drainWd) :: else -> dOn = 0 fi; n = 0 };
  if
  :: dOn != 0 -> wake(2 * (dOn - 1) + 1); dOn = 0
  :: else -> skip
  fi
}

/* C++ releaseBits: clear the bits, then wake the readers they blocked, absorb cancelled ones */
inline releaseBits(b) {
  rinBits = 0;
  if
#ifndef BUG_NO_ABSORB
  :: readWaiters > 0 ->
    j = 0;
    do
    :: j < N ->
      v = rword[j];
      if
      :: v == WAITING * 4 + b -> wake(2 * j)
      :: v == RCANC * 4 + b ->
        atomic { if :: rword[j] == v -> rword[j] = IDLE; ok = true :: else -> ok = false fi };
        if :: ok -> readWaiters--; leaveRead0() :: else -> skip fi
      :: else -> skip
      fi;
      d_step { v = 0; ok = false; j++ }
    :: else -> j = 0; break
    od
#endif
  :: else -> skip
  fi;
  skip
}

/* C++ passTurn(next): serve it; wake its owner; skip it when cancelled */
inline passTurn(nx) {
  do
  :: wout = (wout + 1) % TM;
     d_step {
       if :: ringT[nx % W] == nx -> es = ringS[nx % W]; eq = ringQ[nx % W] :: else -> es = 0; eq = 0 fi
     };
     if
     :: eq == QUEUED ->
#ifndef BUG_NO_WAKE
       wake(2 * es + 1);
#endif
       d_step { es = 0; eq = 0; nx = 0 };
       break
     :: eq == WCANC ->
       atomic { if :: ringT[nx % W] == nx && ringQ[nx % W] == WCANC -> ringQ[nx % W] = PASSED; ok = true :: else -> ok = false fi; es = 0; eq = 0 };
       if :: ok -> nx = (nx + 1) % TM; ok = false :: else -> nx = 0; break fi
     :: else -> d_step { es = 0; eq = 0; nx = 0 }; break
     fi
  od;
  skip
}

inline finishWithdrawal() {
  bits = rinBits;
  releaseBits(bits);
  nx = (wout + 1) % TM;
  passTurn(nx);
  bits = 0
}

inline leaveRead() {
  d_step { routCount = (routCount + 1) % MR; n = routCount };
  atomic { if :: drainOn != 0 && drainTarget == n -> dOn = drainOn; wd = drainWd :: else -> dOn = 0; wd = false fi };
  if
  :: dOn != 0 && !wd -> wake(2 * (dOn - 1) + 1); d_step { dOn = 0; n = 0 }
  :: dOn != 0 && wd ->
    atomic { if :: drainOn == dOn && drainTarget == n && drainWd -> drainOn = 0; drainTarget = 0; drainWd = false; ok = true :: else -> ok = false fi; dOn = 0; n = 0; wd = false };
    if :: ok -> ok = false; finishWithdrawal() :: else -> skip fi
  :: else -> n = 0
  fi
}

/* C++ cancelQueuedWrite */
inline cancelQueued() {
  atomic { if :: ringT[t % W] == t && ringS[t % W] == i && ringQ[t % W] == QUEUED -> ringQ[t % W] = WCANC :: else -> skip fi };
  if
  :: wout == t ->
    atomic { if :: ringT[t % W] == t && ringS[t % W] == i && ringQ[t % W] == WCANC -> ringQ[t % W] = PASSED; ok = true :: else -> ok = false fi };
    if :: ok -> nx = (t + 1) % TM; passTurn(nx) :: else -> skip fi
  :: else -> skip
  fi
}

proctype Slot(byte i; byte role) {
  byte B, v, n, dOn, j, t, target, bits, es, eq, nx, res;
  bool ok, adopted, hasT, wd;
next:
  skip;
  d_step { B = 0; v = 0; target = 0; bits = 0; res = 0; ok = false; adopted = false };
  if
  :: role & READER -> goto read
  :: role & WRITER -> goto write
  fi;

read: skip;
  d_step { wantR[i] = true; pending[i] = true; kindW[i] = false; cancelled[i] = false };
  atomic {                                  /* C++ read(): rword CAS from kCached / kReadCancelled */
    if
    :: rword[i] == CACHED * 4 -> rword[i] = HOLD * 4; ENTER_READ; ok = true; adopted = false
    :: rword[i] / 4 == RCANC -> B = rword[i] % 4; rword[i] = WAITING * 4 + B; ok = false; adopted = true
    :: else -> ok = false; adopted = false
    fi
  };
  if :: ok -> pending[i] = false; goto readHeld :: else -> skip fi;
  if
  :: !adopted ->
    d_step { B = rinBits; rinCount = (rinCount + 1) % MR; if :: B == 0 -> ENTER_READ :: else -> skip fi };
    if :: B == 0 -> rword[i] = HOLD * 4; pending[i] = false; goto readHeld :: else -> skip fi;
    readWaiters++;
    rword[i] = WAITING * 4 + B
  :: else -> skip
  fi;
  await(2 * i, rinBits != B, 1);
  if
  :: res == 0 ->
    rword[i] = HOLD * 4;
    readWaiters--;
    if
    :: cancelled[i] ->                      /* after the grant: give it back, say cancelled */
      d_step { EXIT_READ; rword[i] = IDLE };
      pending[i] = false;
      leaveRead();
      goto next
    :: else -> pending[i] = false
    fi
  :: else ->                                /* C++ cancelBlockedRead */
    d_step { wantR[i] = false; if :: rword[i] == WAITING * 4 + B -> rword[i] = RCANC * 4 + B :: else -> skip fi };
    if
    :: rinBits == B -> skip                 /* the writer's release absorbs it */
    :: else ->
      atomic { if :: rword[i] == RCANC * 4 + B -> rword[i] = IDLE; ok = true :: else -> ok = false fi };
      if :: ok -> readWaiters--; leaveRead() :: else -> skip fi
    fi;
    pending[i] = false;
    goto next
  fi;

readHeld: skip;                             /* the read section, then C++ readRelease() */
  d_step { EXIT_READ; v = rword[i] };
  if
#ifndef NO_BIAS
  :: v == HOLD * 4 ->                       /* keep a cached hold (CAS), then re-check rin */
    atomic { if :: rword[i] == HOLD * 4 -> rword[i] = CACHED * 4; ok = true :: else -> ok = false fi };
    if
    :: ok ->
      if
      :: rinBits == 0 -> skip
      :: else ->
        atomic { if :: rword[i] == CACHED * 4 -> rword[i] = IDLE; ok = true :: else -> ok = false fi };
        if :: ok -> leaveRead() :: else -> skip fi
      fi;
      goto next
    :: else -> skip
    fi
#endif
  :: skip
  fi;
  rword[i] = IDLE;                          /* exchange(kIdle) */
  leaveRead();
  goto next;

write: skip;
  d_step { wantW[i] = true; pending[i] = true; kindW[i] = true; cancelled[i] = false };
  atomic {                                  /* C++ write(): re-adopt a cancelled ticket */
    if
    :: hasT && ringT[t % W] == t && ringS[t % W] == i && ringQ[t % W] == WCANC -> ringQ[t % W] = QUEUED; adopted = true
    :: else -> adopted = false
    fi
  };
  if
  :: !adopted ->
    d_step { t = win; win = (win + 1) % TM; hasT = true };
    d_step { ringT[t % W] = t; ringS[t % W] = i; ringQ[t % W] = QUEUED }
  :: else -> skip
  fi;
  await(2 * i + 1, wout == t, 0);
  if
  :: res == 1 -> wantW[i] = false; cancelQueued(); pending[i] = false; goto next
  :: else -> skip
  fi;
  d_step {                                  /* flip the phase, rin += bits */
    phase = 1 - phase; bits = PRES + phase; target = rinCount; rinBits = bits
  };
  if
  :: atomic { routCount == target -> ENTER_WRITE }
  :: else ->
    d_step { drainTarget = target; drainOn = i + 1 };
#ifndef NO_BIAS
    j = 0;                                  /* C++ revokeCached */
    do
    :: j < N ->
      atomic {
        if
        :: rword[j] == CACHED * 4 -> rword[j] = IDLE; ok = true
        :: rword[j] == HOLD * 4 -> rword[j] = HOLDREV * 4; ok = false
        :: else -> ok = false
        fi
      };
      if :: ok -> leaveRead() :: else -> skip fi;
      d_step { ok = false; j++ }
    :: else -> j = 0; break
    od;
#endif
    await(2 * i + 1, routCount == target, 2);
    if
    :: res == 1 ->      /* withdrawn mid-drain: bits stay up; the last reader ahead finishes */
      d_step { wantW[i] = false; drainWd = true };
      if
      :: routCount == target ->
        atomic { if :: drainOn == i + 1 && drainTarget == target && drainWd -> drainOn = 0; drainTarget = 0; drainWd = false; ok = true :: else -> ok = false fi };
        if :: ok -> ok = false; finishWithdrawal() :: else -> skip fi
      :: else -> skip
      fi;
      pending[i] = false;
      goto next
    :: else -> d_step { drainOn = 0; drainTarget = 0 }
    fi
  fi;
  pending[i] = false;
  /* the write section (or a cancel after the grant: released at once), then writeRelease() */
  EXIT_WRITE;
  releaseBits(bits);
  nx = (t + 1) % TM;
  passTurn(nx);
  goto next
}

/* Another thread of a slot's process cancels its pending request: flag, then wake. */
active proctype Canceller() {
  byte k, e;
end:
  do
  :: atomic { budget > 0 && pending[0] -> k = 0; cancelled[k] = true; budget-- ; e = (kindW[k] -> 1 : 0) };
     if :: sleeping[2 * k + e] -> d_step { moved[2 * k + e] = true; inKernel[2 * k + e] = false } :: else -> skip fi;
     d_step { k = 0; e = 0 }
  :: atomic { budget > 0 && pending[1] -> k = 1; cancelled[k] = true; budget-- ; e = (kindW[k] -> 1 : 0) };
     if :: sleeping[2 * k + e] -> d_step { moved[2 * k + e] = true; inKernel[2 * k + e] = false } :: else -> skip fi;
     d_step { k = 0; e = 0 }
#if N > 2
  :: atomic { budget > 0 && pending[2] -> k = 2; cancelled[k] = true; budget-- ; e = (kindW[k] -> 1 : 0) };
     if :: sleeping[2 * k + e] -> d_step { moved[2 * k + e] = true; inKernel[2 * k + e] = false } :: else -> skip fi;
     d_step { k = 0; e = 0 }
#endif
  od
}

init {
  atomic {
    run Slot(0, ROLE0); run Slot(1, ROLE1)
#if N > 2
    ; run Slot(2, ROLE2)
#endif
  }
}

#ifdef NEVER_SHARED
active proctype Sharing() { assert(!shared) }
#endif

#define GETS_W(r) [] (wantW[r] -> <> !wantW[r])
#define GETS_R(r) [] (wantR[r] -> <> !wantR[r])
#if N > 2
ltl writers { GETS_W(0) && GETS_W(1) && GETS_W(2) }
ltl readers { GETS_R(0) && GETS_R(1) && GETS_R(2) }
#else
ltl writers { GETS_W(0) && GETS_W(1) }
ltl readers { GETS_R(0) && GETS_R(1) }
#endif
