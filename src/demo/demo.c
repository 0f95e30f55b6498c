// SPDX-License-Identifier: MIT
/*
 * awg-demo: the in-process main job. Two AmneziaWG devices with fresh keys and a full AWG 3.1
 * parameter set, wired back to back in memory, complete a handshake (with decoys, header
 * protection, trailers and padding) and exchange IP packets both ways; every packet is checked.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "device.h"
#include "sysenv.h"

#define QUEUE_MAX 64

struct wire_dgram {
	uint8_t *data;
	size_t len;
};

struct side {
	const char *name;
	struct awg_device *dev;
	struct awg_peer *peer;
	struct awg_udp_addr ep;
	struct side *other;
	struct wire_dgram queue[QUEUE_MAX];	/* datagrams in flight towards this side */
	size_t queued;
	const uint8_t *expect;			/* the packet the next delivery must equal */
	size_t expect_len;
	unsigned delivered, mismatched, sent_dgrams;
	size_t sent_bytes;
	bool verbose;
};

static void on_send(void *ctx, struct awg_peer *peer, const struct awg_udp_addr *dst,
		    const uint8_t *data, size_t len)
{
	struct side *s = ctx, *to = s->other;
	struct wire_dgram *d;

	(void)peer;
	(void)dst;
	s->sent_dgrams++;
	s->sent_bytes += len;
	if (s->verbose)
		printf("    %s -> %s: %zu-byte datagram\n", s->name, to->name, len);
	if (to->queued == QUEUE_MAX)
		return;		/* a full wire drops, like UDP */
	d = &to->queue[to->queued++];
	d->data = malloc(len);
	if (!d->data) {
		to->queued--;
		return;
	}
	memcpy(d->data, data, len);
	d->len = len;
}

static void on_deliver(void *ctx, struct awg_peer *peer, const uint8_t *pkt, size_t len)
{
	struct side *s = ctx;

	(void)peer;
	s->delivered++;
	if (len != s->expect_len || memcmp(pkt, s->expect, len))
		s->mismatched++;
}

static void on_session(void *ctx, struct awg_peer *peer)
{
	struct side *s = ctx;

	(void)peer;
	printf("  %s: session established\n", s->name);
}

static const struct awg_device_ops ops = {
	.send = on_send, .deliver = on_deliver, .session = on_session,
};

/* Moves every datagram in flight to its receiver until the wire is quiet. */
static unsigned run_wire(struct side *a, struct side *b)
{
	unsigned dropped = 0;

	while (a->queued || b->queued) {
		struct side *s = a->queued ? a : b;
		struct wire_dgram d = s->queue[0];

		memmove(s->queue, s->queue + 1, --s->queued * sizeof(s->queue[0]));
		if (awg_device_receive(s->dev, d.data, d.len, &s->other->ep) < 0) {
			dropped++;
			if (s->verbose)
				printf("    %s drops the %zu-byte datagram: %s\n", s->name, d.len,
				       awg_device_drop_name(s->dev->last_drop));
		}
		free(d.data);
	}
	return dropped;
}

/* The AWG 3.1 example of spec §7.4 with a fresh header-protection key. */
static void params_31(struct awg_obfs_params *p)
{
	awg_obfs_params_init(p);
	p->jc = 4, p->jmin = 40, p->jmax = 70;
	p->s[AWG_KIND_INIT] = 15;
	p->s[AWG_KIND_RESPONSE] = 18;
	p->s[AWG_KIND_COOKIE] = 20;
	p->s[AWG_KIND_TRANSPORT] = 23;
	p->h[AWG_KIND_INIT] = (struct awg_range){ 1020325451, 1020335451 };
	p->h[AWG_KIND_RESPONSE] = (struct awg_range){ 3288052141, 3288062141 };
	p->h[AWG_KIND_COOKIE] = (struct awg_range){ 1766607858, 1766617858 };
	p->h[AWG_KIND_TRANSPORT] = (struct awg_range){ 2528465083, 2528475083 };
	p->hp_on = true;
	awg_random_bytes(p->hp_key, sizeof(p->hp_key));
	p->content_padding = (struct awg_range){ 0, 64 };
	p->random_trailers = true;
}

static const char *const demo_ispecs[AWG_ISPEC_SLOTS] = {
	"<r 2><b 0x858000010001000000000669636c6f756403636f6d0000010001c00c000100010000105a00044d583737>",
};

static int side_init(struct side *s, const char *name, uint8_t host,
		     const struct awg_obfs_params *p, const char *const *ispecs,
		     uint8_t pub[AWG_PUBLIC_KEY_LEN])
{
	struct awg_parse_error err = { 0 };
	uint8_t priv[AWG_PRIVATE_KEY_LEN];
	struct awg_obfs *o;
	int ret;

	s->name = name;
	s->ep = (struct awg_udp_addr){ .family = AWG_AF_INET, .port = 51820 + host };
	s->ep.addr[0] = 127, s->ep.addr[3] = host;
	awg_x25519_generate(priv);
	ret = awg_device_new(awg_sysenv(), &ops, s, &s->dev);
	if (!ret)
		ret = awg_device_set_private_key(s->dev, priv);
	if (!ret && !awg_x25519_public(pub, priv))
		ret = -EINVAL;
	awg_wipe(priv, sizeof(priv));
	if (ret)
		return ret;
	ret = awg_obfs_new(p, ispecs, &o, &err);
	if (ret) {
		fprintf(stderr, "awg-demo: bad parameters: %s\n", err.msg);
		return ret;
	}
	awg_device_set_obfs(s->dev, o);
	s->dev->mtu = 1420;
	return 0;
}

/* An IPv4/UDP-shaped packet 10.0.0.src -> 10.0.0.dst of len bytes. */
static void make_packet(uint8_t *buf, size_t len, uint8_t src, uint8_t dst, unsigned seq)
{
	memset(buf, 0, 20);
	buf[0] = 0x45;
	buf[2] = (uint8_t)(len >> 8), buf[3] = (uint8_t)len;
	buf[8] = 64, buf[9] = 17;
	buf[12] = 10, buf[15] = src;
	buf[16] = 10, buf[19] = dst;
	awg_random_bytes(buf + 20, len - 20);
	buf[20] = (uint8_t)seq;
}

static int exchange(struct side *from, struct side *to, unsigned count)
{
	static uint8_t pkt[1420];
	unsigned before = to->delivered;

	for (unsigned i = 0; i < count; i++) {
		size_t len = 28 + (i * 97) % (sizeof(pkt) - 28);
		int ret;

		make_packet(pkt, len, from == to->other ? (uint8_t)from->ep.addr[3] : 0,
			    (uint8_t)to->ep.addr[3], i);
		to->expect = pkt, to->expect_len = len;
		ret = awg_device_send_data(from->dev, from->peer, pkt, len);
		if (ret < 0) {
			fprintf(stderr, "awg-demo: %s cannot send: %s\n", from->name, strerror(-ret));
			return ret;
		}
		run_wire(from, to);
	}
	printf("  %s -> %s: %u packets sent, %u delivered intact, %u corrupted\n", from->name,
	       to->name, count, to->delivered - before, to->mismatched);
	return to->delivered - before == count && !to->mismatched ? 0 : -EIO;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: awg-demo [--plain] [--packets N] [--quiet]\n"
		"\n"
		"Runs two AmneziaWG peers in one process, wired back to back in memory: a\n"
		"handshake through the full AWG 3.1 obfuscation layer (decoy I1 packet, 4 junk\n"
		"datagrams, S1-S4 random prefixes, ranged H1-H4 magic headers, header protection,\n"
		"random trailers, content padding), then N IP packets each way, each checked.\n"
		"\n"
		"  --plain      use plain WireGuard framing instead (no obfuscation)\n"
		"  --packets N  packets to send in each direction (default 1000)\n"
		"  --quiet      do not print the handshake datagrams\n"
		"  --help       this text\n"
		"\n"
		"Exit status: 0 when every packet arrived intact, 1 otherwise.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "plain", no_argument, NULL, 'p' },
		{ "packets", required_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint8_t pub_a[32], pub_b[32], ip[4] = { 10, 0, 0, 0 };
	struct side a = { 0 }, b = { 0 };
	struct awg_obfs_params p;
	unsigned long packets = 1000;
	bool plain = false, quiet = false;
	char b64[AWG_CRYPTO_KEY_B64_LEN + 1], *end;
	int c, ret = 1;

	while ((c = getopt_long(argc, argv, "pn:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			plain = true;
			break;
		case 'n':
			errno = 0;
			packets = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || packets > 10000000) {
				fprintf(stderr, "awg-demo: --packets: '%s' is not a count (0..10000000)\n",
					optarg);
				return 2;
			}
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (awg_crypto_init() < 0) {
		fprintf(stderr, "awg-demo: cannot load the crypto libraries\n");
		return 1;
	}
	if (plain)
		awg_obfs_params_init(&p);
	else
		params_31(&p);
	a.other = &b, b.other = &a;
	a.verbose = b.verbose = !quiet;
	if (side_init(&a, "alice", 1, &p, plain ? NULL : demo_ispecs, pub_a) ||
	    side_init(&b, "bob", 2, &p, plain ? NULL : demo_ispecs, pub_b))
		goto out;
	if (awg_device_peer_add(a.dev, pub_b, NULL, &a.peer) ||
	    awg_device_peer_add(b.dev, pub_a, NULL, &b.peer))
		goto out;
	ip[3] = 2;
	awg_device_peer_allow(a.dev, a.peer, AWG_AF_INET, ip, 32);
	ip[3] = 1;
	awg_device_peer_allow(b.dev, b.peer, AWG_AF_INET, ip, 32);
	a.peer->endpoint = b.ep;

	awg_key_to_base64(b64, pub_a);
	printf("awg-demo: %s framing\n  alice public key %s\n",
	       plain ? "plain WireGuard" : "AmneziaWG 3.1", b64);
	awg_key_to_base64(b64, pub_b);
	printf("  bob   public key %s\n", b64);
	printf("  handshake:\n");
	if (awg_device_send_initiation(a.dev, a.peer) < 0)
		goto out;
	run_wire(&a, &b);
	if (!a.peer->keypairs.current || !b.peer->keypairs.current) {
		fprintf(stderr, "awg-demo: handshake did not complete\n");
		goto out;
	}
	a.verbose = b.verbose = false;
	if (exchange(&a, &b, (unsigned)packets) || exchange(&b, &a, (unsigned)packets))
		goto out;
	printf("  on the wire: alice sent %u datagrams (%zu bytes), bob %u (%zu bytes)\n",
	       a.sent_dgrams, a.sent_bytes, b.sent_dgrams, b.sent_bytes);
	printf("awg-demo: OK\n");
	ret = 0;
out:
	if (ret)
		printf("awg-demo: FAILED\n");
	awg_device_free(a.dev);
	awg_device_free(b.dev);
	return ret;
}
