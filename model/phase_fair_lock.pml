/*
 * Model of the lock: addon/lock/phase_fair_lock.h (phase-fair ticket readers-writer lock, PF-T),
 * the request slots of addon/lock/lock_window.cc (begin, poll, withdraw, endRead, endWrite,
 * watchCached) and the biased reads of addon/lock/read_bias.h. Each statement marked "C++:"
 * is one MPI call of the implementation (MPI_Fetch_and_op or MPI_Get_accumulate + flush,
 * or a load of this rank's own window); local steps are folded into the global step
 * before or after them (they commute with every other rank's steps). The C++ names this
 * file in its comments.
 *
 * Ranks loop forever: rank 0 writes, rank 1 reads and writes, rank 2 (RANKS=3) reads.
 * Writes end plainly or downgrade to a read; reads may be withdrawn while blocked; a read
 * hold may stay cached (biased reads) and is given back when revoked or idle. Writes
 * withdrawn while waiting complete their turn and drain and leave at once (C++:
 * writeWithdrawPoll), which is the model's zero-length write.
 *
 * Abstractions (exact for what the C++ compares):
 * - The counters wrap modulo 2^64 and are only compared for equality. readIn/readOut are
 *   kept modulo MR = 4: a writer compares readOut with the readIn it saw when it raised
 *   its bits, and readers outstanding then (entered, not left) are at most one per rank,
 *   3 (the writer's own rank has none, except with SLOTS); readers that enter later are
 *   blocked and cannot leave before the writer does, so readOut stays within 3 below that
 *   value, and MR > 3 keeps the equality exact. writeIn/writeOut are kept modulo MT: a
 *   waiting ticket is less than the number of writing ranks (w) ahead of writeOut, so
 *   MT >= w keeps "writeOut == ticket" exact; MT is even, so the phase bit (ticket & 1)
 *   is kept too: MT = 2 for 2 writing ranks, MT = 4 for 3 (ALL_BOTH).
 * - Each rank's revocation counter is only compared with the snapshot the rank took
 *   (readSeen_): revoked[i] is "it moved since the snapshot", set by writers and cleared
 *   by taking the snapshot. It cannot wrap around to look unmoved, unlike a small counter.
 * - The writer bits keep the rank tag: kPresent | phase | (rank + 1) << 2.
 *
 * Options: RANKS (2 or 3); NO_BIAS (biased reads off, as by default in the C++); ALL_BOTH
 * (every rank reads and writes); SLOTS (rank 1's read and write slots run as two processes:
 * a read may be held, cached or withdrawing while its write waits or holds, and the other
 * way round; downgrade is left out there);
 * NEVER_SHARED and BUG_NO_DRAIN (sanity: must fail); EARLY_WITHDRAW (the withdrawal that
 * hands the turn on early, an ABA this model found: must fail the no-starvation check).
 */
#ifndef RANKS
#define RANKS 3
#endif
#define MR 4
#ifdef ALL_BOTH
#define MT 4
#define ROLE0 BOTH
#define ROLE2 BOTH
#else
#define MT 2
#define ROLE0 WRITER
#define ROLE2 READER
#endif
#define PRES 2

byte rinCount = 0;  /* readIn = kReaderInc * rinCount + rinBits */
byte rinBits = 0;
byte routCount = 0; /* readOut / kReaderInc */
byte win = 0;       /* writeIn: tickets handed out */
byte wout = 0;      /* writeOut: tickets served */
#ifndef NO_BIAS
bool revoked[RANKS]; /* kRevokeSlot moved since the owner's readSeen_ snapshot */
#endif

/* Ghost state for the properties. */
byte readersIn = 0;
byte writersIn = 0;
bool wantR[RANKS], inR[RANKS], wantW[RANKS], inW[RANKS];
#ifdef NEVER_SHARED
bool shared = false; /* two ranks read at once, at some point */
#endif

#ifdef NEVER_SHARED
#define NOTE_SHARED if :: readersIn >= 2 -> shared = true :: else -> skip fi
#else
#define NOTE_SHARED skip
#endif

/* Enter the read section (ghost): folded into the step that grants the read. */
#define ENTER_READ readersIn++; inR[i] = true; wantR[i] = false; NOTE_SHARED; assert(writersIn == 0)
#define ENTER_WRITE writersIn++; inW[i] = true; wantW[i] = false; assert(writersIn == 1 && readersIn == 0)

#ifdef SLOTS
/* A rank's read and write slots as two processes (C++: LockWindow::read_ and write_): the
 * read slot may be busy while the write slot runs, and the other way round. */
bool cachedR[RANKS];   /* read_.state == kCached */
bool writeBusy[RANKS]; /* write_.state != kIdle */
#define CACHED cachedR[i]
#define WRITE_BUSY writeBusy[i]
#define SET_WRITE_BUSY(v) writeBusy[i] = v
#else
#define CACHED cached
#define WRITE_BUSY false
#define SET_WRITE_BUSY(v) skip
#endif

#define READER 1
#define WRITER 2
#define BOTH 3

proctype Rank(byte i; byte role) {
  byte blocked = 0; /* readBlockedBits_ */
  byte ticket = 0;  /* ticket_, then only its phase bit */
  byte ahead = 0;   /* readersAhead_ */
  byte bits = 0;    /* writerBits_ */
#ifndef SLOTS
  bool cached = false; /* read_.state == kCached */
#endif

next:
  do
  :: role & READER -> /* C++: LockWindow::begin(kRead) */
    if
#ifndef NO_BIAS
    :: d_step { CACHED && !revoked[i] -> CACHED = false; wantR[i] = true; ENTER_READ };
      goto readHeld                   /* kCached -> kHeld: no MPI call */
    :: d_step { CACHED && revoked[i] -> CACHED = false; routCount = (routCount + 1) % MR }
      /* revoked: readEnd(now, true) gives the cached hold back */
#endif
    :: !CACHED -> skip
    fi;
#ifndef NO_BIAS
    revoked[i] = false;                /* C++: readSeen_ = bias_.snapshot() */
#endif
    d_step {                           /* C++: readBegin(): fetchAdd(kReadIn, kReaderInc) */
      wantR[i] = true;
      blocked = rinBits;
      rinCount = (rinCount + 1) % MR;
      if
      :: blocked == 0 -> ENTER_READ
      :: else -> skip
      fi
    }
    if
    :: blocked == 0 -> goto readHeld
    :: else -> skip
    fi;
    if                                 /* C++: readPoll(): load(kReadIn) != blocked bits */
    :: d_step { rinBits != blocked -> blocked = 0; ENTER_READ };
      goto readHeld
    :: d_step { rinBits != blocked -> blocked = 0; wantR[i] = false }
      /* C++: poll() of a kWithdrawing read: readPoll() true, then readEnd() */
      routCount = (routCount + 1) % MR;
      goto next
    fi;
readHeld:
    /* The read section; then C++: endRead() */
    if
#ifndef NO_BIAS
    :: d_step { !revoked[i] && !WRITE_BUSY -> readersIn--; inR[i] = false; CACHED = true }
      /* write_.state == kIdle && mayCache(): keep the hold (no MPI call) */
#endif
    :: d_step { readersIn--; inR[i] = false; routCount = (routCount + 1) % MR }
      /* C++: readEnd(): fetchAdd(kReadOut, kReaderInc) */
    fi

#ifndef NO_BIAS
  :: d_step { CACHED -> CACHED = false; routCount = (routCount + 1) % MR }
    /* C++: watchCached(): revoked (load of kRevokeSlot) or unused for kIdleRelease: readEnd() */
#endif

  :: role & WRITER -> /* C++: LockWindow::begin(kWrite) */
    if
    :: d_step { CACHED -> CACHED = false; routCount = (routCount + 1) % MR }
      /* our own cached read would be among the readers we wait for: readEnd() */
    :: !CACHED -> skip
    fi;
    d_step {                           /* C++: writeBegin(): fetchAdd(kWriteIn, 1) */
      wantW[i] = true;
      SET_WRITE_BUSY(true);
      ticket = win;
      win = (win + 1) % MT
    }
    /* C++: writePoll() stage kTurn: load(kWriteOut) == ticket_ */
    d_step { wout == ticket -> ticket = ticket & 1 };
#ifdef EARLY_WITHDRAW
    if
    :: skip
    :: d_step { wantW[i] = false; ticket = 0 } /* withdrawn: hand the turn on at once */
      d_step { wout = (wout + 1) % MT; SET_WRITE_BUSY(false) };
      goto next
    fi;
#endif
    d_step {                           /* C++: writePoll(): fetchAdd(kReadIn, writerBits_) */
      bits = PRES | ticket | ((i + 1) << 2);
      ticket = 0;
      ahead = rinCount;
      rinBits = bits
    }
    /* C++: writePoll() stage kDrain: load(kReadOut) == readersAhead_ */
    if
    :: d_step { routCount == ahead -> ahead = 0; ENTER_WRITE }
#ifndef NO_BIAS
    :: routCount != ahead ->
      /* C++: LockWindow::granted(): still draining, revoke the others' cached reads
       * (N-1 accumulates into their kRevokeSlot, then one local flush) */
      d_step {
        revoked[0] = revoked[0] || i != 0;
        revoked[1] = revoked[1] || i != 1
#if RANKS > 2
        ; revoked[2] = revoked[2] || i != 2
#endif
      };
      d_step { routCount == ahead -> ahead = 0; ENTER_WRITE }
#endif
#ifdef BUG_NO_DRAIN
    :: d_step { ahead = 0; ENTER_WRITE } /* a writer that does not wait for readers */
#endif
#ifdef EARLY_WITHDRAW
    :: d_step { wantW[i] = false; ahead = 0; rinBits = 0 } /* withdrawn mid-drain */
      d_step { wout = (wout + 1) % MT; SET_WRITE_BUSY(false) };
      goto next
#endif
    fi;
    /* The write section; then C++: endWrite(downgrade) */
    if
    :: d_step {                        /* C++: writeEnd(): fetchAdd(kReadIn, -writerBits_) */
        writersIn--; inW[i] = false; rinBits = 0; bits = 0
      }
      d_step { wout = (wout + 1) % MT; SET_WRITE_BUSY(false) } /* C++: writeEnd(): fetchAdd(kWriteOut, 1) */
#ifndef SLOTS
    :: /* C++: endWrite(true): downgrade() */
#ifndef NO_BIAS
      revoked[i] = false;              /* C++: readSeen_ = bias_.snapshot() */
#endif
      rinCount = (rinCount + 1) % MR;  /* C++: downgrade(): fetchAdd(kReadIn, kReaderInc) */
      d_step {                         /* C++: writeEnd(): fetchAdd(kReadIn, -writerBits_) */
        writersIn--; inW[i] = false; rinBits = 0; bits = 0;
        readersIn++; inR[i] = true; assert(writersIn == 0)
      }
      wout = (wout + 1) % MT;          /* C++: writeEnd(): fetchAdd(kWriteOut, 1) */
      goto readHeld                    /* read_.state = kHeld; endRead() follows */
#endif
    fi;
    goto next
  od
}

init {
  atomic {
    run Rank(0, ROLE0);
#ifdef SLOTS
    run Rank(1, READER); run Rank(1, WRITER)
#else
    run Rank(1, BOTH)
#endif
#if RANKS > 2
    ; run Rank(2, ROLE2)
#endif
  }
}

#ifdef NEVER_SHARED
/* Expected to fail: shows that readers do hold the lock together. */
active proctype Sharing() {
  assert(!shared)
}
#endif

/* No starvation: whoever asks gets in, or gives up (a withdrawn read), under weak
 * fairness. A rank that never asks (rank 0 never reads in the mixed configuration)
 * satisfies its part trivially. */
#define GETS_W(r) [] (wantW[r] -> <> inW[r])
#define GETS_R(r) [] (wantR[r] -> <> (inR[r] || !wantR[r]))
#if RANKS > 2
ltl writers { GETS_W(0) && GETS_W(1) && GETS_W(2) }
ltl readers { GETS_R(0) && GETS_R(1) && GETS_R(2) }
#else
ltl writers { GETS_W(0) && GETS_W(1) }
ltl readers { GETS_R(0) && GETS_R(1) }
#endif
