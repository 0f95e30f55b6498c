// SPDX-License-Identifier: MIT
/* Tests the peer timers on a hand-driven clock: WireGuard defaults, then each AWG override. */
#include "harness.h"
#include "messages.h"
#include "timers.h"

#define S(x) ((uint64_t)(x) * 1000000000u)
#define MS(x) ((uint64_t)(x) * 1000000u)

struct rig {
	struct test_env te;
	struct awg_timing_params p;
	struct awg_timers t;
};

static void rig_init(struct rig *r, uint64_t seed)
{
	test_env_init(&r->te, seed);
	r->p = (struct awg_timing_params){ 0 };
	awg_timers_init(&r->t, &r->p, &r->te.env);
}

static uint64_t now(struct rig *r)
{
	return r->te.mono_ns;
}

static void advance_to(struct rig *r, uint64_t when)
{
	if (when > r->te.mono_ns)
		test_env_advance(&r->te, when - r->te.mono_ns);
}

static unsigned expire(struct rig *r)
{
	return awg_timers_expire(&r->t, now(r), &r->te.env);
}

static bool armed(struct rig *r, enum awg_timer_id id)
{
	return r->t.pending & (1u << id);
}

/* What the engine does for an initiation: rate-limit check, send, report. */
static bool send_initiation(struct rig *r)
{
	if (!awg_timers_initiation_allowed(&r->t, now(r)))
		return false;
	awg_timers_any_authenticated_packet_traversal(&r->t, now(r), &r->te.env);
	awg_timers_any_authenticated_packet_sent(&r->t);
	awg_timers_handshake_initiated(&r->t, now(r), &r->te.env);
	return true;
}

struct sequence {
	unsigned initiations;
	uint64_t min_gap, max_gap;
	bool gave_up;
	bool rate_limited;
};

/*
 * Starts a handshake nobody answers and follows the timers until they give up, recording the
 * number of initiations and the spacing between them.
 */
static struct sequence unanswered_handshake(struct rig *r)
{
	struct sequence s = { .min_gap = UINT64_MAX };
	uint64_t last;

	awg_timers_handshake_begin(&r->t, &r->te.env);
	CHECK(send_initiation(r));
	s.initiations = 1;
	last = now(r);
	while (s.initiations < 1000) {
		uint64_t d = awg_timers_next_deadline(&r->t);
		unsigned a;

		if (d == UINT64_MAX || !armed(r, AWG_TIMER_RETRANSMIT_HANDSHAKE))
			break;
		advance_to(r, d - 1);
		CHECK_INT(expire(r), 0);
		advance_to(r, d);
		a = expire(r);
		if (a & AWG_TIMERS_GIVE_UP) {
			s.gave_up = true;
			CHECK(!(a & AWG_TIMERS_SEND_INITIATION));
			break;
		}
		CHECK_INT(a, AWG_TIMERS_SEND_INITIATION | AWG_TIMERS_CLEAR_ENDPOINT_SRC);
		if (!send_initiation(r)) {
			s.rate_limited = true;
			break;
		}
		s.initiations++;
		if (now(r) - last < s.min_gap)
			s.min_gap = now(r) - last;
		if (now(r) - last > s.max_gap)
			s.max_gap = now(r) - last;
		last = now(r);
	}
	return s;
}

static void first_handshake_gives_up(void)
{
	struct rig r;
	struct sequence s;
	uint64_t gave_up_at;

	rig_init(&r, 1);
	CHECK_INT(awg_timers_next_deadline(&r.t), UINT64_MAX);
	s = unanswered_handshake(&r);
	gave_up_at = now(&r);
	/* spec §8.1: give up when attempts > MAX, i.e. MAX + 2 initiations in total */
	CHECK_INT(s.initiations, AWG_MAX_TIMER_HANDSHAKES + 2);
	CHECK(s.gave_up);
	CHECK(!s.rate_limited);
	CHECK(s.min_gap >= S(5));
	CHECK(s.max_gap <= S(5) + MS(333));
	CHECK(s.max_gap - s.min_gap > MS(100));	/* the jitter is really drawn */
	/* Nothing retries any more; the residue is erased 3 * 180 s later. */
	CHECK(!armed(&r, AWG_TIMER_RETRANSMIT_HANDSHAKE));
	CHECK_INT(awg_timers_next_deadline(&r.t), gave_up_at + S(540));
	advance_to(&r, gave_up_at + S(540));
	CHECK_INT(expire(&r), AWG_TIMERS_ZERO_KEYS);
	CHECK_INT(awg_timers_next_deadline(&r.t), UINT64_MAX);

	/* A new sequence (e.g. more data to send) starts counting from zero again. */
	s = unanswered_handshake(&r);
	CHECK_INT(s.initiations, AWG_MAX_TIMER_HANDSHAKES + 2);
}

static void handshake_complete_stops_retries(void)
{
	struct rig r;

	rig_init(&r, 2);
	awg_timers_handshake_begin(&r.t, &r.te.env);
	CHECK(send_initiation(&r));
	advance_to(&r, awg_timers_next_deadline(&r.t));
	CHECK(expire(&r) & AWG_TIMERS_SEND_INITIATION);
	CHECK(send_initiation(&r));
	CHECK_INT(r.t.handshake_attempts, 1);
	advance_to(&r, now(&r) + S(1));
	awg_timers_any_authenticated_packet_received(&r.t);
	awg_timers_session_derived(&r.t, now(&r));
	awg_timers_handshake_complete(&r.t, &r.te.env);
	CHECK_INT(r.t.handshake_attempts, 0);
	CHECK(!armed(&r, AWG_TIMER_RETRANSMIT_HANDSHAKE));
	CHECK_INT(awg_timers_next_deadline(&r.t), now(&r) + S(540));
}

static void initiation_rate_limit(void)
{
	struct rig r;
	uint64_t t0;

	rig_init(&r, 3);
	CHECK(awg_timers_initiation_allowed(&r.t, now(&r)));
	CHECK(send_initiation(&r));
	t0 = now(&r);
	CHECK(!awg_timers_initiation_allowed(&r.t, t0));
	CHECK(!awg_timers_initiation_allowed(&r.t, t0 + S(5) - 1));
	CHECK(awg_timers_initiation_allowed(&r.t, t0 + S(5)));
	CHECK_INT(awg_timers_initiation_spacing_ns(&r.p), S(5));

	/* AWG: the spacing is LO(rekey_timeout). */
	r.p.rekey_timeout = (struct awg_range){ 7, 9 };
	CHECK(!awg_timers_initiation_allowed(&r.t, t0 + S(7) - 1));
	CHECK(awg_timers_initiation_allowed(&r.t, t0 + S(7)));
	CHECK_INT(awg_timers_initiation_spacing_ns(&r.p), S(7));
}

static void keepalive_after_receiving(void)
{
	struct rig r;
	uint64_t t0;

	rig_init(&r, 4);
	t0 = now(&r);
	awg_timers_data_received(&r.t, t0, &r.te.env);
	CHECK_INT(awg_timers_next_deadline(&r.t), t0 + S(10));
	advance_to(&r, t0 + S(10) - 1);
	CHECK_INT(expire(&r), 0);
	advance_to(&r, t0 + S(10));
	CHECK_INT(expire(&r), AWG_TIMERS_SEND_KEEPALIVE);
	CHECK_INT(awg_timers_next_deadline(&r.t), UINT64_MAX);

	/* Sending anything back makes the keepalive unnecessary. */
	awg_timers_data_received(&r.t, now(&r), &r.te.env);
	advance_to(&r, now(&r) + S(3));
	awg_timers_any_authenticated_packet_sent(&r.t);
	advance_to(&r, now(&r) + S(20));
	CHECK_INT(expire(&r), 0);

	/* More data while it is pending: the deadline stays, and it re-arms once after firing. */
	t0 = now(&r);
	awg_timers_data_received(&r.t, t0, &r.te.env);
	advance_to(&r, t0 + S(4));
	awg_timers_data_received(&r.t, now(&r), &r.te.env);
	CHECK_INT(awg_timers_next_deadline(&r.t), t0 + S(10));
	advance_to(&r, t0 + S(10));
	CHECK_INT(expire(&r), AWG_TIMERS_SEND_KEEPALIVE);
	CHECK_INT(awg_timers_next_deadline(&r.t), t0 + S(20));
	advance_to(&r, t0 + S(20));
	CHECK_INT(expire(&r), AWG_TIMERS_SEND_KEEPALIVE);
	CHECK_INT(awg_timers_next_deadline(&r.t), UINT64_MAX);
}

static void new_handshake_after_sending(void)
{
	struct rig r;
	uint64_t t0, d;
	unsigned a;

	rig_init(&r, 5);
	t0 = now(&r);
	awg_timers_data_sent(&r.t, t0, &r.te.env);
	d = awg_timers_next_deadline(&r.t);
	CHECK(d >= t0 + S(15) && d <= t0 + S(15) + MS(333));
	/* Further data does not push it back. */
	advance_to(&r, t0 + S(6));
	awg_timers_data_sent(&r.t, now(&r), &r.te.env);
	CHECK_INT(awg_timers_next_deadline(&r.t), d);
	/* Hearing anything back disarms it. */
	awg_timers_any_authenticated_packet_received(&r.t);
	CHECK_INT(awg_timers_next_deadline(&r.t), UINT64_MAX);

	/* Unanswered: a new handshake sequence, attempts restart from zero. */
	r.t.handshake_attempts = 7;
	t0 = now(&r);
	awg_timers_data_sent(&r.t, t0, &r.te.env);
	advance_to(&r, awg_timers_next_deadline(&r.t));
	a = expire(&r);
	CHECK_INT(a, AWG_TIMERS_SEND_INITIATION | AWG_TIMERS_CLEAR_ENDPOINT_SRC);
	CHECK_INT(r.t.handshake_attempts, 0);
}

static void zero_key_material(void)
{
	struct rig r;
	uint64_t t0;

	rig_init(&r, 6);
	t0 = now(&r);
	awg_timers_session_derived(&r.t, t0);
	CHECK_INT(awg_timers_next_deadline(&r.t), t0 + S(540));
	/* A new session pushes it back. */
	advance_to(&r, t0 + S(100));
	awg_timers_session_derived(&r.t, now(&r));
	CHECK_INT(awg_timers_next_deadline(&r.t), t0 + S(640));
	advance_to(&r, t0 + S(640) - 1);
	CHECK_INT(expire(&r), 0);
	advance_to(&r, t0 + S(640));
	CHECK_INT(expire(&r), AWG_TIMERS_ZERO_KEYS);

	/* Giving up does not postpone an already armed zeroing. */
	t0 = now(&r);
	awg_timers_session_derived(&r.t, t0);
	(void)unanswered_handshake(&r);
	CHECK(now(&r) > t0 + S(90));
	CHECK_INT(awg_timers_next_deadline(&r.t), t0 + S(540));
}

static void persistent_keepalive(void)
{
	struct rig r;
	uint64_t t0, lo = UINT64_MAX, hi = 0;

	rig_init(&r, 7);
	/* Off: traversals arm nothing. */
	awg_timers_any_authenticated_packet_traversal(&r.t, now(&r), &r.te.env);
	CHECK_INT(awg_timers_next_deadline(&r.t), UINT64_MAX);

	CHECK(awg_timers_persistent_keepalive_changed(&r.t, (struct awg_range){ 25, 25 }));
	CHECK(!awg_timers_persistent_keepalive_changed(&r.t, (struct awg_range){ 25, 25 }));
	t0 = now(&r);
	awg_timers_any_authenticated_packet_traversal(&r.t, t0, &r.te.env);
	CHECK_INT(awg_timers_next_deadline(&r.t), t0 + S(25));
	/* Every traversal restarts the interval. */
	advance_to(&r, t0 + S(20));
	awg_timers_any_authenticated_packet_traversal(&r.t, now(&r), &r.te.env);
	CHECK_INT(awg_timers_next_deadline(&r.t), t0 + S(45));
	advance_to(&r, t0 + S(45));
	CHECK_INT(expire(&r), AWG_TIMERS_SEND_KEEPALIVE);

	/* AWG 3.0 range: a fresh whole-second draw in [20, 30] every time it is armed. */
	CHECK(!awg_timers_persistent_keepalive_changed(&r.t, (struct awg_range){ 20, 30 }));
	for (int i = 0; i < 200; i++) {
		uint64_t d;

		awg_timers_any_authenticated_packet_traversal(&r.t, now(&r), &r.te.env);
		d = awg_timers_next_deadline(&r.t) - now(&r);
		CHECK_INT(d % S(1), 0);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
		advance_to(&r, now(&r) + d);
		CHECK_INT(expire(&r), AWG_TIMERS_SEND_KEEPALIVE);
	}
	CHECK_INT(lo, S(20));
	CHECK_INT(hi, S(30));

	/* Turning it off disarms it; on again asks for an immediate keepalive. */
	awg_timers_any_authenticated_packet_traversal(&r.t, now(&r), &r.te.env);
	CHECK(!awg_timers_persistent_keepalive_changed(&r.t, (struct awg_range){ 0, 0 }));
	CHECK_INT(awg_timers_next_deadline(&r.t), UINT64_MAX);
	CHECK(awg_timers_persistent_keepalive_changed(&r.t, (struct awg_range){ 1, 2 }));
}

static void late_wakeup_combines_actions(void)
{
	struct rig r;
	unsigned a;

	rig_init(&r, 8);
	r.p.max_handshake_attempts = (struct awg_range){ 1, 1 };
	awg_timers_handshake_begin(&r.t, &r.te.env);
	CHECK(send_initiation(&r));
	r.t.handshake_attempts = 2;	/* the next retransmit gives up */
	awg_timers_persistent_keepalive_changed(&r.t, (struct awg_range){ 3, 3 });
	awg_timers_any_authenticated_packet_traversal(&r.t, now(&r), &r.te.env);
	awg_timers_data_received(&r.t, now(&r), &r.te.env);
	awg_timers_session_derived(&r.t, now(&r) - S(540));
	advance_to(&r, now(&r) + S(60));
	a = expire(&r);
	/* give-up cancelled the passive keepalive, but the persistent one still fires */
	CHECK_INT(a, AWG_TIMERS_GIVE_UP | AWG_TIMERS_ZERO_KEYS | AWG_TIMERS_SEND_KEEPALIVE);
	/* zeroing was still armed when giving up, so nothing re-armed it before it fired */
	CHECK_INT(awg_timers_next_deadline(&r.t), UINT64_MAX);

	awg_timers_stop(&r.t);
	CHECK_INT(awg_timers_next_deadline(&r.t), UINT64_MAX);
	awg_timers_data_sent(&r.t, now(&r), &r.te.env);
	awg_timers_data_received(&r.t, now(&r), &r.te.env);
	awg_timers_stop(&r.t);
	CHECK_INT(awg_timers_next_deadline(&r.t), UINT64_MAX);
	CHECK_INT(expire(&r), 0);
}

static void awg_rekey_timeout(void)
{
	struct rig r;
	struct sequence s;

	rig_init(&r, 9);
	r.p.rekey_timeout = (struct awg_range){ 7, 9 };
	s = unanswered_handshake(&r);
	CHECK_INT(s.initiations, AWG_MAX_TIMER_HANDSHAKES + 2);
	CHECK(s.min_gap >= S(7));
	CHECK(s.max_gap <= S(9) + MS(333));
	CHECK(s.max_gap - s.min_gap > S(1));	/* the whole seconds vary too */

	/* Fixed value: the retransmit interval is that value plus jitter. */
	rig_init(&r, 10);
	r.p.rekey_timeout = (struct awg_range){ 2, 2 };
	s = unanswered_handshake(&r);
	CHECK(s.min_gap >= S(2) && s.max_gap <= S(2) + MS(333));
}

static void awg_new_handshake_timeout(void)
{
	struct rig r;
	uint64_t lo = UINT64_MAX, hi = 0;

	rig_init(&r, 11);
	r.p.keepalive_timeout = (struct awg_range){ 3, 4 };
	r.p.rekey_timeout = (struct awg_range){ 7, 9 };
	for (int i = 0; i < 300; i++) {
		uint64_t d;

		awg_timers_data_sent(&r.t, now(&r), &r.te.env);
		d = awg_timers_next_deadline(&r.t) - now(&r);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
		awg_timers_any_authenticated_packet_received(&r.t);
	}
	/* HI(keepalive) + pick(rekey_timeout) + jitter: [4 + 7, 4 + 9 + 0.333] s */
	CHECK(lo >= S(11) && lo < S(11) + MS(100));
	CHECK(hi <= S(13) + MS(333) && hi > S(13) + MS(200));
}

static void awg_keepalive_timeout(void)
{
	struct rig r;
	unsigned seen[8] = { 0 };

	rig_init(&r, 12);
	r.p.keepalive_timeout = (struct awg_range){ 3, 4 };
	for (int i = 0; i < 100; i++) {
		uint64_t d;

		awg_timers_data_received(&r.t, now(&r), &r.te.env);
		d = awg_timers_next_deadline(&r.t) - now(&r);
		if (CHECK(d % S(1) == 0 && d / S(1) < 8))
			seen[d / S(1)]++;
		awg_timers_any_authenticated_packet_sent(&r.t);
	}
	CHECK(seen[3] > 20 && seen[4] > 20);
	CHECK_INT(seen[3] + seen[4], 100);
}

static void awg_max_handshake_attempts(void)
{
	struct rig r;
	struct sequence s;
	unsigned seen[8] = { 0 };

	rig_init(&r, 13);
	r.p.max_handshake_attempts = (struct awg_range){ 2, 2 };
	awg_timers_init(&r.t, &r.p, &r.te.env);
	s = unanswered_handshake(&r);
	CHECK_INT(s.initiations, 4);
	CHECK(s.gave_up);

	r.p.max_handshake_attempts = (struct awg_range){ 0, 0 };	/* zero = default */
	s = unanswered_handshake(&r);
	CHECK_INT(s.initiations, AWG_MAX_TIMER_HANDSHAKES + 2);

	/* A range is re-drawn for every new sequence. */
	r.p.max_handshake_attempts = (struct awg_range){ 1, 3 };
	for (int i = 0; i < 60; i++) {
		s = unanswered_handshake(&r);
		if (CHECK(s.initiations >= 3 && s.initiations <= 5))
			seen[s.initiations]++;
		advance_to(&r, now(&r) + S(600));
		expire(&r);
	}
	CHECK(seen[3] && seen[4] && seen[5]);

	/* ... and at completion. */
	r.p.max_handshake_attempts = (struct awg_range){ 6, 6 };
	awg_timers_handshake_complete(&r.t, &r.te.env);
	CHECK_INT(r.t.max_handshake_attempts, 6);
}

static void awg_reject_after_time(void)
{
	struct rig r;
	uint64_t t0;

	rig_init(&r, 14);
	CHECK_INT(awg_timers_reject_after_ns(&r.p), S(180));
	t0 = now(&r);
	CHECK(!awg_timers_key_expired(&r.t, t0 + S(180) - 1, t0));
	CHECK(awg_timers_key_expired(&r.t, t0 + S(180), t0));

	r.p.reject_after_time = (struct awg_range){ 100, 200 };
	CHECK_INT(awg_timers_reject_after_ns(&r.p), S(200));
	CHECK(!awg_timers_key_expired(&r.t, t0 + S(200) - 1, t0));
	CHECK(awg_timers_key_expired(&r.t, t0 + S(200), t0));
	awg_timers_session_derived(&r.t, t0);
	CHECK_INT(awg_timers_next_deadline(&r.t), t0 + S(600));	/* 3 * HI */

	/* The largest range still fits; a deadline past the clock's end saturates. */
	r.p.reject_after_time = (struct awg_range){ UINT32_MAX, UINT32_MAX };
	awg_timers_session_derived(&r.t, t0);
	CHECK(awg_timers_next_deadline(&r.t) == t0 + 3 * S(UINT32_MAX));
	CHECK(!awg_timers_key_expired(&r.t, t0 + S(UINT32_MAX) - 1, t0));
	awg_timers_session_derived(&r.t, UINT64_MAX - S(10));
	CHECK(awg_timers_next_deadline(&r.t) == UINT64_MAX);
}

static void rekey_on_send(void)
{
	struct rig r;
	uint64_t b;
	unsigned yes = 0;

	rig_init(&r, 15);
	b = now(&r);
	CHECK(!awg_timers_want_initiation_on_send(&r.t, b + S(120) - 1, b, 0, true, &r.te.env));
	CHECK(awg_timers_want_initiation_on_send(&r.t, b + S(120), b, 0, true, &r.te.env));
	/* Only the initiator rekeys on age; anyone rekeys on the message count. */
	CHECK(!awg_timers_want_initiation_on_send(&r.t, b + S(170), b, 0, false, &r.te.env));
	CHECK(!awg_timers_want_initiation_on_send(&r.t, b, b, AWG_REKEY_AFTER_MESSAGES, false,
						  &r.te.env));
	CHECK(awg_timers_want_initiation_on_send(&r.t, b, b, AWG_REKEY_AFTER_MESSAGES + 1, false,
						 &r.te.env));
	CHECK_INT(awg_timers_rekey_after_ns(&r.p, &r.te.env), S(120));

	/* AWG: pick(rekey_after_time), a fresh draw at each check. */
	r.p.rekey_after_time = (struct awg_range){ 60, 90 };
	CHECK(!awg_timers_want_initiation_on_send(&r.t, b + S(60) - 1, b, 0, true, &r.te.env));
	CHECK(awg_timers_want_initiation_on_send(&r.t, b + S(90), b, 0, true, &r.te.env));
	for (int i = 0; i < 100; i++)
		yes += awg_timers_want_initiation_on_send(&r.t, b + S(75), b, 0, true, &r.te.env);
	CHECK(yes > 20 && yes < 80);
}

static void rekey_on_receive(void)
{
	struct rig r;
	uint64_t b;

	rig_init(&r, 16);
	b = now(&r);
	/* 180 - 10 - 5 = 165 s, once per session, initiator only */
	CHECK_INT(awg_timers_rekey_on_receive_ns(&r.p, &r.te.env), S(165));
	CHECK(!awg_timers_want_initiation_on_receive(&r.t, b + S(165), b, false, &r.te.env));
	CHECK(!awg_timers_want_initiation_on_receive(&r.t, b + S(165) - 1, b, true, &r.te.env));
	CHECK(awg_timers_want_initiation_on_receive(&r.t, b + S(165), b, true, &r.te.env));
	CHECK(!awg_timers_want_initiation_on_receive(&r.t, b + S(170), b, true, &r.te.env));
	awg_timers_handshake_complete(&r.t, &r.te.env);
	CHECK(awg_timers_want_initiation_on_receive(&r.t, b + S(170), b, true, &r.te.env));

	/* AWG: pick(reject) - LO(keepalive) - LO(rekey_timeout) */
	r.p.reject_after_time = (struct awg_range){ 100, 100 };
	r.p.keepalive_timeout = (struct awg_range){ 20, 40 };
	r.p.rekey_timeout = (struct awg_range){ 10, 30 };
	CHECK_INT(awg_timers_rekey_on_receive_ns(&r.p, &r.te.env), S(70));
	r.p.reject_after_time = (struct awg_range){ 90, 110 };
	for (int i = 0; i < 50; i++) {
		uint64_t v = awg_timers_rekey_on_receive_ns(&r.p, &r.te.env);

		CHECK(v >= S(60) && v <= S(80));
	}
	/* floor 0: rekey at once */
	r.p.reject_after_time = (struct awg_range){ 25, 25 };
	CHECK_INT(awg_timers_rekey_on_receive_ns(&r.p, &r.te.env), 0);
	awg_timers_handshake_complete(&r.t, &r.te.env);
	CHECK(awg_timers_want_initiation_on_receive(&r.t, b, b, true, &r.te.env));
}

TEST_MAIN("timers", T(first_handshake_gives_up), T(handshake_complete_stops_retries),
	  T(initiation_rate_limit), T(keepalive_after_receiving), T(new_handshake_after_sending),
	  T(zero_key_material), T(persistent_keepalive), T(late_wakeup_combines_actions),
	  T(awg_rekey_timeout), T(awg_new_handshake_timeout), T(awg_keepalive_timeout),
	  T(awg_max_handshake_attempts), T(awg_reject_after_time), T(rekey_on_send),
	  T(rekey_on_receive))
