// The first N acquire+release pairs after sync() and nothing else, for
// bench/cold-instructions.mjs (which counts what they cost): `read`, `write`, or `floor`
// (the same loop shape without the library: an object resolved at once, await, release).
//
//   MPILOCK_BACKEND=local node bench/ranks/cold-loop.mjs N read|write|floor
const n = Number(process.argv[2] ?? 2000);
const kind = process.argv[3] ?? "read";

class Held {
  released = false;
  release() {
    this.released = true;
  }
}

if (kind === "floor") {
  const get = () => Promise.resolve(new Held());
  for (let i = 0; i < n; i++) {
    const lock = await get();
    try {
      // the critical section: empty
    } finally {
      lock.release();
    }
  }
} else {
  const { sync } = await import("../../dist/index.js");
  const ctrl = await sync();
  for (let i = 0; i < n; i++) {
    const lock = kind === "write" ? await ctrl.write() : await ctrl.read();
    try {
      // the critical section: empty
    } finally {
      lock.release();
    }
  }
  await ctrl.close();
}
