/* SPDX-License-Identifier: MIT */
/*
 * Crypto worker threads: run the iterations of a loop of independent packet seals or opens on
 * several cores at once. The caller takes part and finds the results in place when the call
 * returns, so packet order is whatever order the caller sends or delivers them in afterwards:
 * per-peer ordering needs no help from here.
 */
#ifndef _AWG_ENGINE_CRYPTOPOOL_H
#define _AWG_ENGINE_CRYPTOPOOL_H

/* Hard cap on workers: beyond this the shared job counter, not crypto, would be the limit. */
#define AWG_CRYPTOPOOL_MAX_WORKERS 15

struct awg_cryptopool;

/*
 * Starts workers threads (0: every loop runs on the caller alone). The threads inherit the
 * caller's signal mask: create the pool after blocking signals. Returns 0 or -errno.
 */
int awg_cryptopool_new(unsigned workers, struct awg_cryptopool **out);
/* Stops and joins the workers. NULL is a no-op. */
void awg_cryptopool_free(struct awg_cryptopool *p);
unsigned awg_cryptopool_workers(const struct awg_cryptopool *p);

/*
 * Calls fn(ctx, i) for every i in [0, n) exactly once, spread over the caller and the workers,
 * and returns when all calls have returned. fn must not touch state shared between iterations
 * without its own synchronisation. Several threads may call this at once: one loop at a time
 * gets the workers, the others run on their callers (never waiting for each other).
 */
void awg_cryptopool_for(struct awg_cryptopool *p, unsigned n, void (*fn)(void *ctx, unsigned i),
			void *ctx);

#endif /* _AWG_ENGINE_CRYPTOPOOL_H */
