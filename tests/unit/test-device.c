// SPDX-License-Identifier: MIT
/*
 * Timers and packet staging of the device layer: two in-process devices wired back to back,
 * driven by the deterministic clock from one timer deadline to the next, as the engine's epoll
 * loop would be. Covers staging and flushing, retransmission and giving up, passive and
 * persistent keepalives, rekeying (also with AWG 3.0 timing overrides), key zeroing and routing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "device.h"
#include "harness.h"
#include "pair.h"

#define NS(s) ((uint64_t)((s) * 1e9))

enum { TYPE_INIT = 1, TYPE_RESPONSE = 2, TYPE_TRANSPORT = 4, KEEPALIVE_LEN = 32 };

static struct test_env te;
static struct pair_node na, nb;

static uint64_t now(void)
{
	return te.mono_ns;
}

static void advance(const struct awg_env *env, uint64_t ns)
{
	test_env_advance(env->ctx, ns);
}

/*
 * na and nb from a fresh test_env(seed); only a knows b's endpoint. p NULL: plain WireGuard
 * framing (so the logs can read message types). timing NULL: WireGuard defaults.
 */
static void setup(uint64_t seed, const struct awg_obfs_params *p,
		  const struct awg_timing_params *timing)
{
	test_env_init(&te, seed);
	pair_setup(&na, &nb, &(struct pair_opts){ .env = &te.env, .check = test_check,
						  .advance = advance, .obfs = p,
						  .timing = timing });
}

static void teardown(void)
{
	pair_teardown(&na, &nb);
}

/* A 64-byte IPv4 packet from `from`'s tunnel address to the other's, carrying id. */
static size_t packet(uint8_t buf[64], const struct pair_node *from, unsigned id)
{
	return pair_id_packet(buf, 64, from->ep.addr[3], from->other->ep.addr[3], id);
}

static int send_id(struct pair_node *from, unsigned id)
{
	uint8_t buf[64];

	return awg_device_send_packet(from->dev, from->peer, buf, packet(buf, from, id));
}

/* Times of the datagrams n sent in [from, to) that are of type (and, if len, of that size). */
static unsigned sent_times(const struct pair_node *n, uint32_t type, size_t len, uint64_t from,
			   uint64_t to, uint64_t *out, unsigned max)
{
	unsigned count = 0;

	for (unsigned i = 0; i < n->n_sent; i++) {
		const struct pair_sent *s = &n->sent[i];

		if (s->type != type || (len && s->len != len) || s->t < from || s->t >= to)
			continue;
		if (count < max && out)
			out[count] = s->t;
		count++;
	}
	return count;
}

static unsigned count_sent(const struct pair_node *n, uint32_t type, uint64_t from, uint64_t to)
{
	return sent_times(n, type, 0, from, to, NULL, 0);
}

static unsigned count_keepalives(const struct pair_node *n, uint64_t from, uint64_t to)
{
	return sent_times(n, TYPE_TRANSPORT, KEEPALIVE_LEN, from, to, NULL, 0);
}

/* a initiates and both sides end up with a confirmed session. */
static void handshake(void)
{
	CHECK_INT(awg_device_send_initiation(na.dev, na.peer), 0);
	pair_pump(&na, &nb, NULL, NULL);
	CHECK(na.peer->keypairs.current != NULL);
	CHECK(nb.peer->keypairs.current != NULL);
}

/* Packets sent before any session wait, trigger one initiation, and arrive in order. */
static void staged_delivered_in_order(void)
{
	struct awg_obfs_params p31;

	pair_params_31(&p31);
	for (int v = 0; v < 2; v++) {
		setup(1 + v, v ? &p31 : NULL, NULL);
		for (unsigned id = 1; id <= 5; id++)
			CHECK_INT(send_id(&na, id), 0);
		CHECK_INT(na.peer->n_staged, 5);
		if (!v)
			CHECK_INT(count_sent(&na, TYPE_INIT, 0, UINT64_MAX), 1);
		pair_pump(&na, &nb, NULL, NULL);
		CHECK_INT(na.peer->n_staged, 0);
		CHECK_INT(nb.n_delivered, 5);
		for (unsigned i = 0; i < nb.n_delivered; i++)
			CHECK_INT(nb.delivered[i], i + 1);
		/* With a session, packets go straight out. */
		CHECK_INT(send_id(&na, 6), 0);
		CHECK_INT(na.peer->n_staged, 0);
		pair_pump(&na, &nb, NULL, NULL);
		CHECK_INT(nb.n_delivered, 6);
		CHECK_INT(nb.delivered[5], 6);
		teardown();
	}
}

/* Beyond AWG_DEVICE_MAX_STAGED the oldest packets go; the rest keep their order. */
static void staged_bounded_drop_oldest(void)
{
	unsigned extra = 5, total = AWG_DEVICE_MAX_STAGED + extra;

	setup(3, NULL, NULL);
	nb.deaf = true;
	for (unsigned id = 1; id <= total; id++)
		CHECK_INT(send_id(&na, id), 0);
	CHECK_INT(na.peer->n_staged, AWG_DEVICE_MAX_STAGED);
	nb.deaf = false;
	test_env_advance(&te, NS(5.5));		/* the retransmission gets through */
	pair_run_until(&na, &nb, now());
	CHECK_INT(na.peer->n_staged, 0);
	CHECK_INT(nb.n_delivered, AWG_DEVICE_MAX_STAGED);
	for (unsigned i = 0; i < nb.n_delivered; i++)
		if (!CHECK_INT(nb.delivered[i], extra + 1 + i))
			break;
	/* Staged packets left at teardown are freed (ASan would report a leak). */
	nb.deaf = true;
	te.mono_ns += NS(200);
	for (unsigned id = 1; id <= 3; id++)
		CHECK_INT(send_id(&nb, id), 0);
	CHECK_INT(nb.peer->n_staged, 3);
	teardown();
}

/*
 * The responder may not send before the initiator confirms the keys: its packets wait for the
 * first transport message with the new keypair, then leave in order.
 */
static void responder_flushes_on_confirmation(void)
{
	setup(4, NULL, NULL);
	CHECK_INT(awg_device_send_initiation(na.dev, na.peer), 0);
	CHECK_INT(pair_deliver_one(&nb), 0);	/* b answers; its keypair waits as next */
	CHECK_INT(na.inbox_len, 1);
	for (unsigned id = 1; id <= 3; id++)
		CHECK_INT(send_id(&nb, id), 0);
	CHECK_INT(nb.peer->n_staged, 3);
	CHECK_INT(na.n_delivered, 0);
	/* b also tried its own initiation (no usable session); lose it. */
	CHECK_INT(na.inbox_len, 2);
	free(pair_pop_last(&na).data);
	CHECK_INT(pair_deliver_one(&na), 0);	/* the response; a confirms with a keepalive */
	CHECK_INT(nb.inbox_len, 1);
	CHECK_INT(nb.peer->n_staged, 3);
	CHECK_INT(pair_deliver_one(&nb), 0);
	CHECK_INT(nb.peer->n_staged, 0);
	CHECK_INT(na.inbox_len, 3);
	pair_pump(&na, &nb, NULL, NULL);
	CHECK_INT(na.n_delivered, 3);
	for (unsigned i = 0; i < na.n_delivered; i++)
		CHECK_INT(na.delivered[i], i + 1);
	teardown();
}

/*
 * b never answers: a retransmits every REKEY_TIMEOUT + jitter, gives up after
 * MAX_TIMER_HANDSHAKES retries (20 initiations in all) and drops its staged packet.
 */
static void retransmit_then_give_up(void)
{
	uint64_t t[32] = { 0 }, t0;
	unsigned n;

	setup(5, NULL, NULL);
	nb.deaf = true;
	t0 = now();
	CHECK_INT(send_id(&na, 1), 0);
	pair_run_until(&na, &nb, t0 + NS(200));
	n = sent_times(&na, TYPE_INIT, 0, 0, UINT64_MAX, t, 32);
	CHECK_INT(n, AWG_MAX_TIMER_HANDSHAKES + 2);
	CHECK_INT(t[0], t0);
	for (unsigned i = 1; i < n && i < 32; i++) {
		uint64_t gap = t[i] - t[i - 1];

		if (!CHECK(gap >= NS(5) && gap < NS(5.334)))
			fprintf(stderr, "    gap %u: %llu ns\n", i, (unsigned long long)gap);
	}
	CHECK_INT(na.peer->n_staged, 0);
	teardown();

	/* The same until just after the last initiation: the packet is still waiting. */
	setup(5, NULL, NULL);
	nb.deaf = true;
	t0 = now();
	CHECK_INT(send_id(&na, 1), 0);
	pair_run_until(&na, &nb, t[n - 1] - t[0] + t0 + NS(1));
	CHECK_INT(count_sent(&na, TYPE_INIT, 0, UINT64_MAX), AWG_MAX_TIMER_HANDSHAKES + 2);
	CHECK_INT(na.peer->n_staged, 1);
	pair_run_until(&na, &nb, t0 + NS(200));
	CHECK_INT(na.peer->n_staged, 0);
	CHECK_INT(count_sent(&na, TYPE_INIT, 0, UINT64_MAX), AWG_MAX_TIMER_HANDSHAKES + 2);
	teardown();
}

/* AWG 3.0 overrides: max_handshake_attempts and rekey_timeout shape the retry sequence. */
static void max_handshake_attempts_override(void)
{
	struct awg_timing_params tp = {
		.rekey_timeout = { 2, 2 },
		.max_handshake_attempts = { 3, 3 },
	};
	uint64_t t[16] = { 0 }, t0;
	unsigned n;

	setup(6, NULL, &tp);
	nb.deaf = true;
	t0 = now();
	CHECK_INT(send_id(&na, 1), 0);
	pair_run_until(&na, &nb, t0 + NS(60));
	n = sent_times(&na, TYPE_INIT, 0, 0, UINT64_MAX, t, 16);
	CHECK_INT(n, 3 + 2);
	for (unsigned i = 1; i < n && i < 16; i++)
		CHECK(t[i] - t[i - 1] >= NS(2) && t[i] - t[i - 1] < NS(2.334));
	CHECK_INT(na.peer->n_staged, 0);
	teardown();

	/* A range: each sequence draws its limit from it. */
	tp.max_handshake_attempts = (struct awg_range){ 1, 4 };
	setup(7, NULL, &tp);
	nb.deaf = true;
	CHECK_INT(send_id(&na, 1), 0);
	pair_run_until(&na, &nb, now() + NS(60));
	n = count_sent(&na, TYPE_INIT, 0, UINT64_MAX);
	CHECK(n >= 1 + 2 && n <= 4 + 2);
	CHECK_INT(na.peer->n_staged, 0);
	teardown();
}

/* Data received and nothing sent back: a keepalive after KEEPALIVE_TIMEOUT, and only one. */
static void keepalive_after_data_received(void)
{
	uint64_t t[4] = { 0 }, t0;

	setup(8, NULL, NULL);
	handshake();
	test_env_advance(&te, NS(1));
	t0 = now();
	CHECK_INT(send_id(&na, 1), 0);
	pair_run_until(&na, &nb, t0 + NS(60));
	CHECK_INT(nb.n_delivered, 1);
	CHECK_INT(sent_times(&nb, TYPE_TRANSPORT, KEEPALIVE_LEN, t0, UINT64_MAX, t, 4), 1);
	CHECK_INT(t[0], t0 + NS(10));
	/* The keepalive answered a's data: a starts no new handshake. */
	CHECK_INT(count_sent(&na, TYPE_INIT, t0, UINT64_MAX), 0);
	CHECK_INT(count_sent(&nb, TYPE_INIT, 0, UINT64_MAX), 0);
	teardown();

	/* A reply with data makes the keepalive unnecessary. */
	setup(9, NULL, NULL);
	handshake();
	test_env_advance(&te, NS(1));
	t0 = now();
	CHECK_INT(send_id(&na, 1), 0);
	pair_pump(&na, &nb, NULL, NULL);
	test_env_advance(&te, NS(3));
	CHECK_INT(send_id(&nb, 2), 0);
	pair_run_until(&na, &nb, t0 + NS(60));
	CHECK_INT(count_keepalives(&nb, t0, UINT64_MAX), 0);
	/* b's data was not answered, so a sends the keepalive 10 s after it. */
	CHECK_INT(sent_times(&na, TYPE_TRANSPORT, KEEPALIVE_LEN, t0, UINT64_MAX, t, 4), 1);
	CHECK_INT(t[0], t0 + NS(13));
	teardown();
}

/* Data sent and nothing heard back: a new handshake after KEEPALIVE + REKEY_TIMEOUT + jitter. */
static void new_handshake_after_data_unanswered(void)
{
	uint64_t t[4] = { 0 }, t0;

	setup(10, NULL, NULL);
	handshake();
	nb.deaf = true;
	test_env_advance(&te, NS(1));
	t0 = now();
	CHECK_INT(send_id(&na, 1), 0);
	pair_run_until(&na, &nb, t0 + NS(20));
	CHECK_INT(sent_times(&na, TYPE_INIT, 0, t0, UINT64_MAX, t, 4), 1);
	CHECK(t[0] >= t0 + NS(15) && t[0] < t0 + NS(15.334));
	/* Without loss, that handshake completes. */
	nb.deaf = false;
	pair_run_until(&na, &nb, t0 + NS(40));
	CHECK(count_sent(&na, TYPE_INIT, t0, UINT64_MAX) >= 2);
	CHECK_INT(count_sent(&nb, TYPE_RESPONSE, t0, UINT64_MAX), 1);
	CHECK(na.peer->keypairs.current->birth_ns > t0);
	teardown();
}

/*
 * Traffic both ways every `step`; returns the times a (the initiator) sent initiations after
 * the first handshake, and checks every packet arrived.
 */
static unsigned traffic(uint64_t step, uint64_t duration, uint64_t *t, unsigned max)
{
	uint64_t t0 = now();
	unsigned id = 0, lost = 0;

	while (now() < t0 + duration) {
		unsigned da = na.n_delivered, db = nb.n_delivered;

		CHECK_INT(send_id(&na, ++id), 0);
		pair_pump(&na, &nb, NULL, NULL);
		CHECK_INT(send_id(&nb, ++id), 0);
		pair_pump(&na, &nb, NULL, NULL);
		lost += (nb.n_delivered != db + 1) + (na.n_delivered != da + 1);
		pair_run_until(&na, &nb, now() + step);
	}
	CHECK_INT(lost, 0);
	CHECK_INT(count_sent(&nb, TYPE_INIT, 0, UINT64_MAX), 0);
	return sent_times(&na, TYPE_INIT, 0, t0 + 1, UINT64_MAX, t, max);
}

/* Under steady traffic the initiator rekeys once the keys are REKEY_AFTER_TIME old. */
static void rekey_after_time(void)
{
	uint64_t t[8] = { 0 }, t0;
	unsigned n;

	setup(11, NULL, NULL);
	handshake();
	t0 = now();
	n = traffic(NS(1), NS(130), t, 8);
	CHECK_INT(n, 1);
	CHECK_INT(t[0], t0 + NS(120));
	CHECK_INT(na.sessions, 2);
	CHECK_INT(na.peer->keypairs.current->birth_ns, t0 + NS(120));
	teardown();
}

/* rekey_after_time=3-4 (and initiations spaced 1 s): a rekey every 3 to 4 s, traffic flowing. */
static void rekey_after_time_override(void)
{
	struct awg_timing_params tp = {
		.rekey_after_time = { 3, 4 },
		.rekey_timeout = { 1, 1 },
	};
	uint64_t t[32] = { 0 }, t0, step = NS(0.25), lo = UINT64_MAX, hi = 0;
	unsigned n;

	setup(12, NULL, &tp);
	handshake();
	t0 = now();
	n = traffic(step, NS(30), t, 32);
	CHECK(n >= 30 / 4 && n <= 30 / 3);
	for (unsigned i = 0; i < n && i < 32; i++) {
		uint64_t gap = t[i] - (i ? t[i - 1] : t0);

		lo = gap < lo ? gap : lo;
		hi = gap > hi ? gap : hi;
	}
	CHECK(lo >= NS(3));
	CHECK(hi <= NS(4) + step);
	CHECK(lo < hi);			/* a fresh draw for each decision */
	CHECK_INT(na.sessions, n + 1);
	teardown();
}

/*
 * The initiator that only receives renews the session before it dies: at
 * pick(reject_after_time) - LO(keepalive_timeout) - LO(rekey_timeout), once per session.
 */
static void rekey_on_receive(void)
{
	struct awg_timing_params tp = {
		.rekey_after_time = { 1000, 1000 },	/* never on send */
		.reject_after_time = { 30, 30 },	/* 30 - 10 - 5 = 15 s */
	};
	uint64_t t[8] = { 0 }, t0;
	unsigned id = 0, n;

	setup(19, NULL, &tp);
	handshake();
	t0 = now();
	while (now() < t0 + NS(40)) {
		CHECK_INT(send_id(&nb, ++id), 0);
		pair_run_until(&na, &nb, now() + NS(1));
	}
	CHECK_INT(na.n_delivered, id);
	n = sent_times(&na, TYPE_INIT, 0, t0 + 1, UINT64_MAX, t, 8);
	CHECK_INT(n, 2);
	CHECK_INT(t[0], t0 + NS(15));
	CHECK_INT(t[1], t0 + NS(30));
	CHECK_INT(count_sent(&nb, TYPE_INIT, 0, UINT64_MAX), 0);
	teardown();
}

/* No new session for 3 * REJECT_AFTER_TIME: every key and its index are gone. */
static void zero_keys_after_reject(void)
{
	static const struct {
		struct awg_timing_params tp;
		uint64_t reject, zero;
	} cases[] = {
		{ .tp = { .rekey_after_time = { 0, 0 } }, .reject = NS(180), .zero = NS(540) },
		{ .tp = { .reject_after_time = { 20, 30 } }, .reject = NS(30), .zero = NS(90) },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		uint32_t ia, ib;
		uint64_t t0;

		setup(13 + c, NULL, &cases[c].tp);
		handshake();
		t0 = now();
		ia = na.peer->keypairs.current->local_index;
		ib = nb.peer->keypairs.current->local_index;
		/* The keypair itself dies at HI(reject_after_time). */
		CHECK_INT(na.peer->keypairs.current->reject_after_ns, cases[c].reject);
		CHECK_INT(nb.peer->keypairs.current->reject_after_ns, cases[c].reject);
		test_env_advance(&te, cases[c].reject);
		CHECK_INT(awg_device_send_data(na.dev, na.peer, NULL, 0), -ENOKEY);
		pair_run_until(&na, &nb, t0 + cases[c].zero - 1);
		CHECK(na.peer->keypairs.current != NULL);
		CHECK(awg_index_find(&na.dev->indices, ia) != NULL);
		CHECK(awg_index_find(&nb.dev->indices, ib) != NULL);
		pair_run_until(&na, &nb, t0 + cases[c].zero);
		CHECK(na.peer->keypairs.current == NULL);
		CHECK(nb.peer->keypairs.current == NULL);
		CHECK(awg_index_find(&na.dev->indices, ia) == NULL);
		CHECK(awg_index_find(&nb.dev->indices, ib) == NULL);
		CHECK_INT(na.dev->indices.count, 0);
		CHECK_INT(nb.dev->indices.count, 0);
		CHECK_INT(count_sent(&na, TYPE_INIT, t0 + 1, UINT64_MAX), 0);
		teardown();
	}
}

/* Persistent keepalive: one at once when turned on, then every pick(range) of quiet. */
static void persistent_keepalive(void)
{
	uint64_t t[64] = { 0 }, t0, lo = UINT64_MAX, hi = 0;
	unsigned n;

	setup(15, NULL, NULL);
	handshake();
	test_env_advance(&te, NS(1));
	t0 = now();
	awg_device_peer_set_keepalive(na.dev, na.peer, (struct awg_range){ 2, 4 });
	CHECK_INT(count_keepalives(&na, t0, t0 + 1), 1);
	/* Changing the range while on sends nothing extra. */
	awg_device_peer_set_keepalive(na.dev, na.peer, (struct awg_range){ 2, 4 });
	CHECK_INT(count_keepalives(&na, t0, t0 + 1), 1);
	pair_run_until(&na, &nb, t0 + NS(60));
	n = sent_times(&na, TYPE_TRANSPORT, KEEPALIVE_LEN, t0, UINT64_MAX, t, 64);
	CHECK(n >= 60 / 4 && n <= 60 / 2 + 1);
	for (unsigned i = 1; i < n && i < 64; i++) {
		uint64_t gap = t[i] - t[i - 1];

		lo = gap < lo ? gap : lo;
		hi = gap > hi ? gap : hi;
	}
	CHECK(lo >= NS(2));
	CHECK(hi <= NS(4));
	CHECK(lo < hi);			/* re-drawn each time it is armed */
	CHECK_INT(count_keepalives(&nb, 0, UINT64_MAX), 0);
	/* Off: quiet. */
	awg_device_peer_set_keepalive(na.dev, na.peer, (struct awg_range){ 0, 0 });
	t0 = now();
	n = na.n_sent;
	pair_run_until(&na, &nb, t0 + NS(30));
	CHECK_INT(na.n_sent, n);
	teardown();

	/* Turned on with no session: the keepalive needs one, so a handshake starts. */
	setup(16, NULL, NULL);
	awg_device_peer_set_keepalive(na.dev, na.peer, (struct awg_range){ 25, 25 });
	CHECK_INT(count_sent(&na, TYPE_INIT, 0, UINT64_MAX), 1);
	pair_pump(&na, &nb, NULL, NULL);
	CHECK_INT(na.sessions, 1);
	CHECK_INT(nb.sessions, 1);
	/* b has no interval: only a keeps the path open. */
	t0 = now();
	pair_run_until(&na, &nb, t0 + NS(100));
	CHECK_INT(count_keepalives(&na, t0 + 1, UINT64_MAX), 4);
	CHECK_INT(count_keepalives(&nb, 0, UINT64_MAX), 0);
	teardown();
}

static void route_lookup(void)
{
	uint8_t v6net[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 1 };
	uint8_t pkt[64], pkt6[60] = { 0x60 };

	setup(17, NULL, NULL);
	CHECK_INT(awg_device_peer_allow(na.dev, na.peer, AWG_AF_INET6, v6net, 64), 0);
	packet(pkt, &na, 1);
	CHECK(awg_device_route(na.dev, pkt, sizeof(pkt)) == na.peer);
	CHECK(awg_device_route(nb.dev, pkt, sizeof(pkt)) == NULL);	/* 10.0.0.2 not b's */
	pkt[19] = 3;
	CHECK(awg_device_route(na.dev, pkt, sizeof(pkt)) == NULL);
	pkt[19] = 2;
	CHECK(awg_device_route(na.dev, pkt, 19) == NULL);		/* too short */
	pkt[0] = 0x55;
	CHECK(awg_device_route(na.dev, pkt, sizeof(pkt)) == NULL);	/* not IP */
	memcpy(pkt6 + 24, v6net, 16);
	pkt6[39] = 5;
	CHECK(awg_device_route(na.dev, pkt6, sizeof(pkt6)) == na.peer);
	CHECK(awg_device_route(na.dev, pkt6, 39) == NULL);
	pkt6[24 + 7] = 2;		/* fd00:0:0:2::5: outside the /64 */
	CHECK(awg_device_route(na.dev, pkt6, sizeof(pkt6)) == NULL);
	/* The source address does not route. */
	memset(pkt6 + 24, 0, 16);
	memcpy(pkt6 + 8, v6net, 16);
	CHECK(awg_device_route(na.dev, pkt6, sizeof(pkt6)) == NULL);
	teardown();
}

static void send_packet_errors(void)
{
	setup(18, NULL, NULL);
	CHECK_INT(send_id(&nb, 1), -EDESTADDRREQ);	/* b does not know a's endpoint */
	CHECK_INT(nb.peer->n_staged, 0);
	CHECK_INT(awg_device_set_private_key(na.dev, NULL), 0);
	CHECK_INT(send_id(&na, 1), -ENOKEY);
	CHECK_INT(na.peer->n_staged, 0);
	CHECK_INT(awg_device_next_deadline(na.dev), UINT64_MAX);
	/* Removing a peer frees its staged packets and its timers. */
	nb.peer->endpoint = na.ep;
	nb.deaf = true;
	na.deaf = true;
	CHECK_INT(send_id(&nb, 1), 0);
	CHECK_INT(nb.peer->n_staged, 1);
	CHECK(awg_device_next_deadline(nb.dev) != UINT64_MAX);
	awg_device_peer_remove(nb.dev, nb.peer);
	CHECK_INT(awg_device_next_deadline(nb.dev), UINT64_MAX);
	teardown();
}

/*
 * The deferred-crypto ops of the engine: transport datagrams arrive unsealed (the payload is
 * still the plaintext) and are sealed here, as the engine does after unlocking.
 */
static unsigned unsealed_seen, unsealed_plain_ok, unsealed_in_place;
static uint8_t owner_buf[AWG_DEVICE_MAX_DATAGRAM];

/* The owner's send slot: the device must build the datagram there (it is large enough). */
static uint8_t *tx_buf(void *ctx, struct awg_peer *peer, const struct awg_udp_addr *dst,
		       size_t *cap)
{
	(void)ctx, (void)peer, (void)dst;
	*cap = sizeof(owner_buf);
	return owner_buf;
}

static void send_unsealed(void *ctx, struct awg_peer *peer, const struct awg_udp_addr *dst,
			  const uint8_t *dgram, size_t len, const struct awg_seal *seal)
{
	uint8_t copy[AWG_DEVICE_MAX_DATAGRAM], *p = copy + seal->off;

	memcpy(copy, dgram, len);
	unsealed_seen++;
	unsealed_in_place += dgram == owner_buf;
	/* Sealed by hand: the payload must be our IPv4 packet, or a (padded) keepalive. */
	if (seal->off + seal->len + AWG_AUTHTAG_LEN == len &&
	    (p[0] == 0x45 || awg_is_zero(p, seal->len)))
		unsealed_plain_ok++;
	awg_aead_encrypt(p, p, seal->len, NULL, 0, seal->counter, seal->key);
	pair_send(ctx, peer, dst, copy, len);
}

static const struct awg_device_ops deferred_ops[2] = {
	{ .send = pair_send, .send_unsealed = send_unsealed, .deliver = pair_deliver,
	  .session = pair_session },
	{ .send = pair_send, .send_unsealed = send_unsealed, .tx_buf = tx_buf,
	  .deliver = pair_deliver, .session = pair_session },
};

/*
 * With send_unsealed, every transport datagram comes there (built in the owner's slot when it
 * offers one), and sealed later it is accepted.
 */
static void deferred_seal(void)
{
	struct awg_obfs_params p31;

	pair_params_31(&p31);
	for (int v = 0; v < 4; v++) {
		test_env_init(&te, 40 + v);
		pair_setup(&na, &nb, &(struct pair_opts){ .env = &te.env, .check = test_check,
							  .advance = advance,
							  .ops = &deferred_ops[v / 2],
							  .obfs = v % 2 ? &p31 : NULL });
		unsealed_seen = unsealed_plain_ok = unsealed_in_place = 0;
		handshake();
		for (unsigned id = 1; id <= 40; id++)
			CHECK_INT(send_id(&na, id), 0);
		pair_pump(&na, &nb, NULL, NULL);
		/* b's confirming keepalive (when it is the first to send) plus a's 40 packets. */
		CHECK(unsealed_seen >= 40);
		CHECK_INT(unsealed_plain_ok, unsealed_seen);
		CHECK_INT(unsealed_in_place, v / 2 ? unsealed_seen : 0);
		CHECK_INT(nb.n_delivered, 40);
		for (unsigned i = 0; i < 40 && i < nb.n_delivered; i++)
			CHECK_INT(nb.delivered[i], i + 1);
		/* (Decoys and junk of the AWG handshake are drops of their own kind.) */
		CHECK_INT(nb.dev->drops_by[AWG_DROP_DECRYPT] + nb.dev->drops_by[AWG_DROP_REPLAY] +
			  nb.dev->drops_by[AWG_DROP_INDEX], 0);
		teardown();
	}
}

/* Takes b's inbox into begun jobs (datagrams stay owned by dg). Returns how many began. */
static unsigned begin_all(struct pair_dgram *dg, struct awg_rx_job *jobs, unsigned max)
{
	unsigned n = 0;

	while (nb.inbox_len && n < max) {
		dg[n] = pair_pop(&nb);
		CHECK_INT(awg_device_receive_begin(nb.dev, dg[n].data, dg[n].len, &dg[n].src,
						   &jobs[n]), 1);
		n++;
	}
	return n;
}

/*
 * The receive path in three steps: opened in any order (as crypto workers would), finished in
 * arrival order; replays, forgeries and sessions that went away in between are dropped.
 */
static void split_receive(void)
{
	struct pair_dgram dg[8];
	struct awg_rx_job jobs[8], dup;
	unsigned n;

	setup(44, NULL, NULL);
	handshake();
	pair_drain(&nb);
	for (unsigned id = 1; id <= 5; id++)
		CHECK_INT(send_id(&na, id), 0);
	n = begin_all(dg, jobs, 8);
	CHECK_INT(n, 5);
	/* The key is a copy, and opening wipes it. */
	CHECK(!awg_is_zero(jobs[0].key, sizeof(jobs[0].key)));
	for (unsigned i = n; i-- > 0;)
		awg_device_rx_open(&jobs[i]);
	CHECK(awg_is_zero(jobs[0].key, sizeof(jobs[0].key)));
	for (unsigned i = 0; i < n; i++)
		CHECK(jobs[i].opened);
	/* A job the same as the third (a replayed datagram decrypted twice). */
	dup = jobs[2];
	for (unsigned i = 0; i < n; i++)
		CHECK_INT(awg_device_receive_finish(nb.dev, &jobs[i]), 0);
	CHECK_INT(awg_device_receive_finish(nb.dev, &dup), -EBADMSG);
	CHECK_INT(nb.dev->last_drop, AWG_DROP_REPLAY);
	CHECK_INT(nb.n_delivered, 5);
	for (unsigned i = 0; i < 5; i++)
		CHECK_INT(nb.delivered[i], i + 1);
	for (unsigned i = 0; i < n; i++)
		free(dg[i].data);

	/* A flipped ciphertext bit: not opened, dropped as a forgery, nothing delivered. */
	CHECK_INT(send_id(&na, 6), 0);
	n = begin_all(dg, jobs, 8);
	CHECK_INT(n, 1);
	jobs[0].msg[jobs[0].msg_len - 20] ^= 1;
	awg_device_rx_open(&jobs[0]);
	CHECK(!jobs[0].opened);
	CHECK_INT(awg_device_receive_finish(nb.dev, &jobs[0]), -EBADMSG);
	CHECK_INT(nb.dev->last_drop, AWG_DROP_DECRYPT);
	free(dg[0].data);

	/* The peer and its sessions go while the message is out being decrypted. */
	CHECK_INT(send_id(&na, 7), 0);
	n = begin_all(dg, jobs, 8);
	CHECK_INT(n, 1);
	awg_device_rx_open(&jobs[0]);
	CHECK(jobs[0].opened);
	awg_device_peer_remove(nb.dev, nb.peer);
	CHECK_INT(awg_device_receive_finish(nb.dev, &jobs[0]), -EBADMSG);
	CHECK_INT(nb.dev->last_drop, AWG_DROP_INDEX);
	CHECK_INT(nb.n_delivered, 5);
	free(dg[0].data);
	teardown();
}

TEST_MAIN("device", T(staged_delivered_in_order), T(staged_bounded_drop_oldest),
	  T(responder_flushes_on_confirmation), T(retransmit_then_give_up),
	  T(max_handshake_attempts_override), T(keepalive_after_data_received),
	  T(new_handshake_after_data_unanswered), T(rekey_after_time),
	  T(rekey_after_time_override), T(rekey_on_receive), T(zero_keys_after_reject),
	  T(persistent_keepalive), T(route_lookup), T(send_packet_errors), T(deferred_seal),
	  T(split_receive))
