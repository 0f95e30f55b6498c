// SPDX-License-Identifier: MIT
/*
 * Owns the crypto-pool scaling benchmark: how many full-size packets per second awgd's sealing
 * step gets through with 0..N crypto workers, batches shaped like the engine's (64 packets of
 * 1400 bytes, one awg_cryptopool_for per batch). No network: it shows what the pool adds on
 * this machine's idle cores, which the tunnel benchmark (both ends and iperf3 on the same
 * cores) cannot. Bounded: each setting runs for a fixed time.
 *
 * Usage: awg-bench-seal [SECONDS_PER_SETTING [MAX_WORKERS]]   (defaults 2 and cores - 1)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "cryptopool.h"

#define BATCH 64
#define PKT 1400

struct batch {
	uint8_t buf[BATCH][PKT + 16];
	uint8_t key[32];
	uint64_t counter;
};

static void seal_one(void *ctx, unsigned i)
{
	struct batch *b = ctx;

	awg_aead_encrypt(b->buf[i], b->buf[i], PKT, NULL, 0, b->counter + i, b->key);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0, base = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned max = argc > 2 ? (unsigned)atoi(argv[2]) : (unsigned)(cpus > 1 ? cpus - 1 : 0);
	struct batch *b = calloc(1, sizeof(*b));

	if (!b || awg_crypto_init() < 0 || secs <= 0 || secs > 60 ||
	    max > AWG_CRYPTOPOOL_MAX_WORKERS) {
		fprintf(stderr, "usage: awg-bench-seal [SECONDS (0-60] [MAX_WORKERS (0-%d)]]\n",
			AWG_CRYPTOPOOL_MAX_WORKERS);
		return 1;
	}
	memset(b->key, 0x42, sizeof(b->key));
	printf("| crypto workers | threads sealing | packets/s | Gbit/s | speed-up |\n");
	printf("|---:|---:|---:|---:|---:|\n");
	for (unsigned w = 0; w <= max; w++) {
		struct awg_cryptopool *p = NULL;
		unsigned long batches = 0;
		double t0, t, pps;

		if (awg_cryptopool_new(w, &p) < 0) {
			fprintf(stderr, "awg-bench-seal: cannot start %u workers\n", w);
			return 1;
		}
		t0 = now();
		do {
			awg_cryptopool_for(p, BATCH, seal_one, b);
			b->counter += BATCH;
			batches++;
		} while ((t = now()) - t0 < secs);
		awg_cryptopool_free(p);
		pps = (double)batches * BATCH / (t - t0);
		if (!w)
			base = pps;
		printf("| %u | %u | %.0f | %.2f | %.2fx |\n", w, w + 1, pps, pps * PKT * 8 / 1e9,
		       pps / base);
	}
	free(b);
	return 0;
}
