/*
 * Model of the lock in addon/phase_fair_lock.h (the phase-fair ticket readers-writer
 * lock) with the biased reads of addon/read_bias.h and lock_window.cc, and the
 * withdrawal of waiting requests. Every statement marked "C++:" is one atomic MPI call
 * (MPI_Fetch_and_op + MPI_Win_flush) of the implementation, or one local step; the
 * C++ names the model in comments too ("model/phase_fair_lock.pml").
 *
 * Three ranks loop forever: a writer, a reader and a rank that does both, choosing
 * among read, write (released plainly or downgraded to a read), a request withdrawn
 * while waiting, and the progress thread's release of a cached read hold. Counters are kept modulo M: the C++ counters wrap
 * modulo 2^64 and are only ever compared for equality, like these.
 *
 * Checked by model/check.sh: mutual exclusion (assertions), no deadlock (invalid end
 * states), readers do share (a run where two read at once exists), and no starvation
 * of readers or writers under weak fairness (the LTL properties below).
 *
 * It found an ABA in an earlier withdrawal of writers (hand the turn on, or clear the
 * bits mid-drain): the next writer of the same phase raised the bits that readers blocked
 * two phases earlier were still waiting to see change, and each waited for the other.
 */
#ifndef RANKS
#define RANKS 3
#endif
#define N 3 /* revocation slots; ranks that do not run leave theirs alone */
#define M 4 /* > the most readers (N) or tickets outstanding at once */
#define PRES 2

byte rinCount = 0;  /* readIn = kReaderInc * rinCount + rinBits (rank tag left out) */
byte rinBits = 0;
byte routCount = 0; /* readOut */
byte win = 0;       /* writeIn: tickets handed out */
byte wout = 0;      /* writeOut: tickets served */
byte revoke[N];     /* each rank's revocation counter (kRevokeSlot in its window) */

/* Ghost state for the properties. */
byte readersIn = 0;
byte writersIn = 0;
bool wantR[N], inR[N], wantW[N], inW[N];
bool shared = false; /* two ranks read at once, at some point */

inline readEnd() {
  routCount = (routCount + 1) % M /* C++: readEnd(): fetchAdd(kReadOut, kReaderInc) */
}

inline writeEnd() {
  rinBits = 0;                    /* C++: writeEnd(): fetchAdd(kReadIn, -writerBits_) */
  wout = (wout + 1) % M           /* C++: writeEnd(): fetchAdd(kWriteOut, 1) */
}

inline readSection() {
  d_step {
    readersIn++;
    inR[i] = true;
    wantR[i] = false;
    if
    :: readersIn >= 2 -> shared = true
    :: else -> skip
    fi
  }
  assert(writersIn == 0);
  d_step { readersIn--; inR[i] = false }
}

#define READER 1
#define WRITER 2
#define BOTH 3

proctype Rank(byte i; byte role) {
  byte blocked, ticket, ahead, seen;
  bool cached = false;

  do
  :: true ->
  /* Forget what this round does not need from the last (keeps the state space small). */
  d_step { blocked = 0; ticket = 0; ahead = 0; if :: !cached -> seen = 0 :: else -> skip fi }
  if
  :: role & READER -> /* read() */
    wantR[i] = true;
    if
    :: cached && revoke[i] == seen ->
      skip                          /* C++: begin(read) on kCached, not revoked: no MPI call */
    :: else ->
      if
      :: cached -> readEnd(); cached = false  /* C++: revoked cached hold given back */
      :: else -> skip
      fi;
      seen = revoke[i];             /* C++: readSeen_ = bias_.snapshot() */
      d_step {                      /* C++: readBegin(): fetchAdd(kReadIn, kReaderInc) */
        blocked = rinBits;
        rinCount = (rinCount + 1) % M
      }
      if
      :: blocked != 0 ->
        if
        :: rinBits != blocked       /* C++: readPoll(): load(kReadIn) */
        :: rinBits != blocked ->    /* a withdrawn read completes, then leaves at once */
          wantR[i] = false;
          readEnd();
          goto next
        fi
      :: else -> skip
      fi
    fi;
    readSection();
    if
#ifndef NO_BIAS
    :: revoke[i] == seen -> cached = true  /* C++: endRead() caches (mayCache) */
#endif
    :: true -> readEnd(); cached = false   /* C++: endRead() releases */
    fi

  :: cached && revoke[i] != seen ->       /* C++: watchCached(): revoked, give it back */
    readEnd();
    cached = false

  :: cached ->                             /* C++: watchCached(): unused for kIdleRelease */
    readEnd();
    cached = false

  :: role & WRITER -> /* write() */
    wantW[i] = true;
    if
    :: cached -> readEnd(); cached = false /* C++: begin(write) drops its own cached read */
    :: else -> skip
    fi;
    d_step {                               /* C++: writeBegin(): fetchAdd(kWriteIn, 1) */
      ticket = win;
      win = (win + 1) % M
    }
    /* A withdrawn write completes its turn and drain and leaves at once
     * (C++: writeWithdrawPoll()): the model's zero-length write covers it. Handing the
     * turn on early, or leaving mid-drain, can deadlock (-DEARLY_WITHDRAW, liveness run). */
    if
    :: wout == ticket                      /* C++: writePoll(): load(kWriteOut) */
#ifdef EARLY_WITHDRAW
    :: wout == ticket ->
      wantW[i] = false;
      wout = (wout + 1) % M;
      goto next
#endif
    fi;
    d_step {                               /* C++: writePoll(): fetchAdd(kReadIn, bits) */
      ahead = rinCount;
      rinBits = PRES | (ticket & 1)
    }
    if
    :: routCount != ahead ->               /* C++: LockWindow::granted(): revoke the others */
      d_step {                             /* (N-1 accumulates, then one flush) */
        revoke[0] = (revoke[0] + (i != 0)) % M;
        revoke[1] = (revoke[1] + (i != 1)) % M;
        revoke[2] = (revoke[2] + (i != 2)) % M
      }
    :: else -> skip
    fi;
    if
    :: routCount == ahead                  /* C++: writePoll(): load(kReadOut) */
#ifdef EARLY_WITHDRAW
    :: true ->
      wantW[i] = false;
      writeEnd();
      goto next
#endif
    fi;
    d_step { writersIn++; inW[i] = true; wantW[i] = false }
    assert(writersIn == 1 && readersIn == 0);
    d_step { writersIn--; inW[i] = false };
    if
    :: writeEnd()                          /* C++: endWrite(false) */
    :: /* C++: endWrite(true): downgrade() */
      seen = revoke[i];
      rinCount = (rinCount + 1) % M;       /* fetchAdd(kReadIn, kReaderInc), bits still set */
      writeEnd();
      readSection();
      readEnd()
    fi
  fi;
next:
    skip
  od
}

init {
  atomic {
    run Rank(0, WRITER);
    run Rank(1, BOTH)
#if RANKS > 2
    ; run Rank(2, READER)
#endif
  }
}

#ifdef NEVER_SHARED
/* Expected to fail: shows that readers do hold the lock together. */
active proctype Sharing() {
  assert(!shared)
}
#endif

/* No starvation: whoever asks gets in (under weak fairness). */
ltl writer0 { [] (wantW[0] -> <> (inW[0] || !wantW[0])) }
ltl reader0 { [] (wantR[0] -> <> (inR[0] || !wantR[0])) }
