// SPDX-License-Identifier: MIT
// awg show and awg showconf: the running configuration in wg's formats, plus the AWG keys.
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "awg.h"
#include "crypto.h"
#include "parse.h"

#define SHOW_FIELDS "public-key | private-key | listen-port | fwmark | peers | preshared-keys | " \
		    "endpoints | allowed-ips | latest-handshakes | transfer | " \
		    "persistent-keepalive | dump"

static const char *const range_names[] = {
	"content padding addition", "rekey after time", "rekey timeout", "reject after time",
	"keepalive timeout", "max handshake attempts",
};

static const char *const range_conf_names[] = {
	"ContentPaddingAddition", "RekeyAfterTime", "RekeyTimeout", "RejectAfterTime",
	"KeepaliveTimeout", "MaxHandshakeAttempts",
};

static void show_usage(const char *cmd)
{
	fprintf(stderr, "Usage: %s %s { <interface> | all | interfaces } [" SHOW_FIELDS "]\n",
		PROG_NAME, cmd);
}

/* The device's view with the derived public key; runtime text helpers below use it. */
struct device {
	const char *name;
	struct awg_conf conf;
	bool has_public;
	uint8_t public_key[AWG_KEY_LEN];
};

static int device_get(struct device *d, const char *name)
{
	int ret;

	d->name = name;
	awg_conf_init(&d->conf);
	ret = awg_ipc_get(name, &d->conf);
	if (ret)
		return ret;
	d->has_public = d->conf.has & AWG_CONF_HAS_PRIVATE_KEY;
	if (d->has_public)
		awg_x25519_public(d->public_key, d->conf.private_key);
	return 0;
}

static void device_put(struct device *d)
{
	awg_conf_free(&d->conf);
	awg_wipe(d->public_key, sizeof(d->public_key));
}

static const char *key_text(char buf[AWG_CRYPTO_KEY_B64_LEN + 1], const uint8_t key[AWG_KEY_LEN])
{
	awg_key_to_base64(buf, key);
	return buf;
}

static bool peer_has_psk(const struct awg_conf_peer *p)
{
	return (p->flags & AWG_PEER_HAS_PRESHARED_KEY) &&
	       !awg_is_zero(p->preshared_key, AWG_KEY_LEN);
}

static bool peer_has_endpoint(const struct awg_conf_peer *p)
{
	return (p->flags & AWG_PEER_HAS_ENDPOINT) && p->endpoint.ip.family;
}

static const char *endpoint_text(char buf[AWG_ADDR_STR_MAX], const struct awg_conf_peer *p)
{
	if (awg_format_endpoint(buf, AWG_ADDR_STR_MAX, &p->endpoint) < 0)
		snprintf(buf, AWG_ADDR_STR_MAX, "(invalid)");
	return buf;
}

static const char *cidr_addr(char buf[AWG_ADDR_STR_MAX], const struct awg_cidr *c)
{
	struct awg_ipaddr ip = { .family = c->family };

	memcpy(ip.addr, c->addr, sizeof(ip.addr));
	if (awg_format_ipaddr(buf, AWG_ADDR_STR_MAX, &ip) < 0)
		snprintf(buf, AWG_ADDR_STR_MAX, "(invalid)");
	return buf;
}

/* The H ranges are shown only when they differ from the WireGuard message types 1..4. */
static bool headers_custom(const struct awg_conf *c)
{
	for (unsigned i = 0; i < AWG_KIND_COUNT; i++) {
		if ((c->has & AWG_CONF_HAS_H(i)) &&
		    (c->obfs.h[i].lo != i + 1 || c->obfs.h[i].hi != i + 1))
			return true;
	}
	return false;
}

static bool hp_set(const struct awg_conf *c)
{
	return (c->has & AWG_CONF_HAS_HP_KEY) && !awg_is_zero(c->obfs.hp_key, AWG_KEY_LEN);
}

/* --- pretty output --- */

static size_t pretty_time(char *buf, size_t len, uint64_t left)
{
	static const char *const units[] = { "year", "day", "hour", "minute", "second" };
	static const uint64_t secs[] = { 365 * 24 * 3600, 24 * 3600, 3600, 60, 1 };
	size_t off = 0;

	for (unsigned i = 0; i < 5; i++) {
		uint64_t v = left / secs[i];
		int n;

		left %= secs[i];
		if (!v)
			continue;
		n = snprintf(buf + off, len - off, "%s%" PRIu64 " " TERMINAL_FG_CYAN "%s%s"
			     TERMINAL_RESET, off ? ", " : "", v, units[i], v == 1 ? "" : "s");
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	return off;
}

static void print_ago(int64_t sec)
{
	time_t now = time(NULL);
	char buf[512];

	if (now == sec) {
		awg_terminal_printf("Now");
	} else if (now < sec) {
		awg_terminal_printf("(" TERMINAL_FG_RED "System clock wound backward; connection "
				    "problems may ensue." TERMINAL_RESET ")");
	} else {
		pretty_time(buf, sizeof(buf), (uint64_t)(now - sec));
		awg_terminal_printf("%s ago", buf);
	}
}

static void print_bytes(uint64_t b)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b / 1024;
	unsigned i = 0;

	if (b < 1024) {
		awg_terminal_printf("%u " TERMINAL_FG_CYAN "B" TERMINAL_RESET, (unsigned)b);
		return;
	}
	while (i < 3 && b >= (1024ull << (10 * (i + 1)))) {
		v /= 1024;
		i++;
	}
	awg_terminal_printf("%.2f " TERMINAL_FG_CYAN "%s" TERMINAL_RESET, v, units[i]);
}

static void pretty_field(const char *name, const char *value)
{
	awg_terminal_printf("  " TERMINAL_BOLD "%s" TERMINAL_RESET ": %s\n", name, value);
}

static void pretty_u32(const char *name, uint32_t v)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", v);
	pretty_field(name, buf);
}

static void pretty_range(const char *name, struct awg_range r)
{
	char buf[AWG_RANGE_STR_MAX];

	awg_format_range(buf, r);
	pretty_field(name, buf);
}

static void pretty_awg(const struct awg_conf *c)
{
	static const char *const junk_names[] = { "jc", "jmin", "jmax" };
	const uint32_t junk[] = { c->obfs.jc, c->obfs.jmin, c->obfs.jmax };
	char name[4];

	for (unsigned i = 0; i < 3; i++) {
		if ((c->has & (AWG_CONF_HAS_JC << i)) && junk[i])
			pretty_u32(junk_names[i], junk[i]);
	}
	for (unsigned i = 0; i < AWG_KIND_COUNT; i++) {
		snprintf(name, sizeof(name), "s%u", i + 1);
		if ((c->has & AWG_CONF_HAS_S(i)) && c->obfs.s[i])
			pretty_u32(name, c->obfs.s[i]);
	}
	for (unsigned i = 0; headers_custom(c) && i < AWG_KIND_COUNT; i++) {
		snprintf(name, sizeof(name), "h%u", i + 1);
		pretty_range(name, c->obfs.h[i]);
	}
	for (unsigned i = 0; i < AWG_ISPEC_SLOTS; i++) {
		snprintf(name, sizeof(name), "i%u", i + 1);
		if (c->ispec[i])
			pretty_field(name, c->ispec[i]);
	}
	if (hp_set(c))
		pretty_field("header protection key", "(hidden)");
	for (unsigned i = 0; i < AWG_CONF_RANGES; i++) {
		if ((c->has & (AWG_CONF_HAS_CONTENT_PADDING << i)) &&
		    !awg_range_is_zero(*awg_conf_range((struct awg_conf *)c, i)))
			pretty_range(range_names[i], *awg_conf_range((struct awg_conf *)c, i));
	}
	if ((c->has & AWG_CONF_HAS_RANDOM_TRAILERS) && c->obfs.random_trailers)
		pretty_field("random trailers", "on");
	if ((c->has & AWG_CONF_HAS_DISABLE_COOKIES) && c->obfs.disable_cookies)
		pretty_field("disable cookies", "on");
}

static void pretty_allowed_ips(const struct awg_conf_peer *p)
{
	char buf[AWG_ADDR_STR_MAX];

	awg_terminal_printf("  " TERMINAL_BOLD "allowed ips" TERMINAL_RESET ": ");
	if (!p->n_allowed_ips)
		awg_terminal_printf("(none)\n");
	for (size_t i = 0; i < p->n_allowed_ips; i++)
		awg_terminal_printf("%s" TERMINAL_FG_CYAN "/" TERMINAL_RESET "%u%s",
				    cidr_addr(buf, &p->allowed_ips[i]), p->allowed_ips[i].cidr,
				    i + 1 < p->n_allowed_ips ? ", " : "\n");
}

static void pretty_peer(const struct awg_conf_peer *p)
{
	char k[AWG_CRYPTO_KEY_B64_LEN + 1], buf[AWG_ADDR_STR_MAX];

	awg_terminal_printf(TERMINAL_FG_YELLOW TERMINAL_BOLD "peer" TERMINAL_RESET ": "
			    TERMINAL_FG_YELLOW "%s" TERMINAL_RESET "\n",
			    key_text(k, p->public_key));
	if (peer_has_psk(p))
		pretty_field("preshared key", "(hidden)");
	if (peer_has_endpoint(p))
		pretty_field("endpoint", endpoint_text(buf, p));
	pretty_allowed_ips(p);
	if (p->last_handshake_sec) {
		awg_terminal_printf("  " TERMINAL_BOLD "latest handshake" TERMINAL_RESET ": ");
		print_ago(p->last_handshake_sec);
		awg_terminal_printf("\n");
	}
	if (p->rx_bytes || p->tx_bytes) {
		awg_terminal_printf("  " TERMINAL_BOLD "transfer" TERMINAL_RESET ": ");
		print_bytes(p->rx_bytes);
		awg_terminal_printf(" received, ");
		print_bytes(p->tx_bytes);
		awg_terminal_printf(" sent\n");
	}
	if (!awg_range_is_zero(p->keepalive)) {
		awg_terminal_printf("  " TERMINAL_BOLD "persistent keepalive" TERMINAL_RESET
				    ": every ");
		if (p->keepalive.lo == p->keepalive.hi) {
			pretty_time(buf, sizeof(buf), p->keepalive.lo);
			awg_terminal_printf("%s\n", buf);
		} else {
			awg_terminal_printf("%u-%u " TERMINAL_FG_CYAN "seconds" TERMINAL_RESET "\n",
					    p->keepalive.lo, p->keepalive.hi);
		}
	}
}

/* Peer order of wg show: most recent handshake first, stable otherwise. */
static size_t *sorted_peers(const struct awg_conf *c)
{
	size_t *idx = calloc(c->n_peers ? c->n_peers : 1, sizeof(*idx));

	if (!idx)
		return NULL;
	for (size_t i = 0; i < c->n_peers; i++) {
		int64_t hs = c->peers[i].last_handshake_sec;
		size_t j = i;

		while (j && c->peers[idx[j - 1]].last_handshake_sec < hs) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = i;
	}
	return idx;
}

static int pretty_print(const struct device *d)
{
	const struct awg_conf *c = &d->conf;
	char k[AWG_CRYPTO_KEY_B64_LEN + 1];
	size_t *idx = sorted_peers(c);

	if (!idx)
		return -ENOMEM;
	awg_terminal_printf(TERMINAL_RESET);
	awg_terminal_printf(TERMINAL_FG_GREEN TERMINAL_BOLD "interface" TERMINAL_RESET ": "
			    TERMINAL_FG_GREEN "%s" TERMINAL_RESET "\n", d->name);
	if (d->has_public)
		pretty_field("public key", key_text(k, d->public_key));
	if (c->has & AWG_CONF_HAS_PRIVATE_KEY)
		pretty_field("private key", "(hidden)");
	if (c->listen_port)
		pretty_u32("listening port", c->listen_port);
	if (c->fwmark) {
		snprintf(k, sizeof(k), "0x%x", c->fwmark);
		pretty_field("fwmark", k);
	}
	pretty_awg(c);
	if (c->n_peers)
		awg_terminal_printf("\n");
	for (size_t i = 0; i < c->n_peers; i++) {
		pretty_peer(&c->peers[idx[i]]);
		if (i + 1 < c->n_peers)
			awg_terminal_printf("\n");
	}
	free(idx);
	return 0;
}

/* --- one-field ("ugly") output --- */

static void print_maybe_key(const uint8_t key[AWG_KEY_LEN], bool have, const char *sep)
{
	char k[AWG_CRYPTO_KEY_B64_LEN + 1];

	printf("%s%s", have ? key_text(k, key) : "(none)", sep);
	awg_wipe(k, sizeof(k));
}

static void print_allowed_ips(const struct awg_conf_peer *p, const char *sep)
{
	char buf[AWG_ADDR_STR_MAX];

	if (!p->n_allowed_ips)
		printf("(none)");
	for (size_t i = 0; i < p->n_allowed_ips; i++)
		printf("%s/%u%s", cidr_addr(buf, &p->allowed_ips[i]), p->allowed_ips[i].cidr,
		       i + 1 < p->n_allowed_ips ? sep : "");
}

static void print_keepalive(const struct awg_conf_peer *p)
{
	char buf[AWG_RANGE_STR_MAX];

	if (awg_range_is_zero(p->keepalive)) {
		printf("off\n");
		return;
	}
	awg_format_range(buf, p->keepalive);
	printf("%s\n", buf);
}

/* The AWG columns appended to the device line of dump when obfuscation is configured. */
static void dump_awg(const struct awg_conf *c)
{
	char buf[AWG_RANGE_STR_MAX];

	printf("\t%u\t%u\t%u", c->obfs.jc, c->obfs.jmin, c->obfs.jmax);
	for (unsigned i = 0; i < AWG_KIND_COUNT; i++)
		printf("\t%u", c->obfs.s[i]);
	for (unsigned i = 0; i < AWG_KIND_COUNT; i++) {
		awg_format_range(buf, c->obfs.h[i]);
		printf("\t%s", buf);
	}
	for (unsigned i = 0; i < AWG_ISPEC_SLOTS; i++)
		printf("\t%s", c->ispec[i] ? c->ispec[i] : "(none)");
}

static bool awg_active(const struct awg_conf *c)
{
	bool on = c->obfs.jc || c->obfs.jmin || c->obfs.jmax || headers_custom(c) || hp_set(c);

	for (unsigned i = 0; i < AWG_KIND_COUNT; i++)
		on = on || c->obfs.s[i];
	for (unsigned i = 0; i < AWG_ISPEC_SLOTS; i++)
		on = on || c->ispec[i];
	return on;
}

static void dump_peer(const struct device *d, const struct awg_conf_peer *p, bool with_if)
{
	char buf[AWG_ADDR_STR_MAX];

	if (with_if)
		printf("%s\t", d->name);
	print_maybe_key(p->public_key, true, "\t");
	print_maybe_key(p->preshared_key, peer_has_psk(p), "\t");
	printf("%s\t", peer_has_endpoint(p) ? endpoint_text(buf, p) : "(none)");
	print_allowed_ips(p, ",");
	printf("\t%" PRId64 "\t%" PRIu64 "\t%" PRIu64 "\t", p->last_handshake_sec, p->rx_bytes,
	       p->tx_bytes);
	print_keepalive(p);
}

static void dump(const struct device *d, bool with_if)
{
	const struct awg_conf *c = &d->conf;

	if (with_if)
		printf("%s\t", d->name);
	print_maybe_key(c->private_key, c->has & AWG_CONF_HAS_PRIVATE_KEY, "\t");
	print_maybe_key(d->public_key, d->has_public, "\t");
	printf("%u\t", c->listen_port);
	if (c->fwmark)
		printf("0x%x", c->fwmark);
	else
		printf("off");
	if (awg_active(c))
		dump_awg(c);
	printf("\n");
	for (size_t i = 0; i < c->n_peers; i++)
		dump_peer(d, &c->peers[i], with_if);
}

static void peer_field(const struct awg_conf_peer *p, const char *param)
{
	char buf[AWG_ADDR_STR_MAX];

	if (!strcmp(param, "peers")) {
		print_maybe_key(p->public_key, true, "\n");
		return;
	}
	print_maybe_key(p->public_key, true, "\t");
	if (!strcmp(param, "preshared-keys")) {
		print_maybe_key(p->preshared_key, peer_has_psk(p), "\n");
	} else if (!strcmp(param, "endpoints")) {
		printf("%s\n", peer_has_endpoint(p) ? endpoint_text(buf, p) : "(none)");
	} else if (!strcmp(param, "allowed-ips")) {
		print_allowed_ips(p, " ");
		printf("\n");
	} else if (!strcmp(param, "latest-handshakes")) {
		printf("%" PRId64 "\n", p->last_handshake_sec);
	} else if (!strcmp(param, "transfer")) {
		printf("%" PRIu64 "\t%" PRIu64 "\n", p->rx_bytes, p->tx_bytes);
	} else {
		print_keepalive(p);
	}
}

static const char *const peer_params[] = {
	"peers", "preshared-keys", "endpoints", "allowed-ips", "latest-handshakes", "transfer",
	"persistent-keepalive",
};

static bool is_peer_param(const char *param)
{
	for (size_t i = 0; i < sizeof(peer_params) / sizeof(peer_params[0]); i++) {
		if (!strcmp(param, peer_params[i]))
			return true;
	}
	return false;
}

static void device_field(const struct device *d, const char *param)
{
	const struct awg_conf *c = &d->conf;

	if (!strcmp(param, "public-key"))
		print_maybe_key(d->public_key, d->has_public, "\n");
	else if (!strcmp(param, "private-key"))
		print_maybe_key(c->private_key, c->has & AWG_CONF_HAS_PRIVATE_KEY, "\n");
	else if (!strcmp(param, "listen-port"))
		printf("%u\n", c->listen_port);
	else if (c->fwmark)
		printf("0x%x\n", c->fwmark);
	else
		printf("off\n");
}

static bool is_device_param(const char *param)
{
	return !strcmp(param, "public-key") || !strcmp(param, "private-key") ||
	       !strcmp(param, "listen-port") || !strcmp(param, "fwmark");
}

/* Prints one field of d; false (after the usage) for an unknown field. */
static bool ugly_print(const struct device *d, const char *param, bool with_if, const char *cmd)
{
	if (!strcmp(param, "dump")) {
		dump(d, with_if);
	} else if (is_device_param(param)) {
		if (with_if)
			printf("%s\t", d->name);
		device_field(d, param);
	} else if (is_peer_param(param)) {
		for (size_t i = 0; i < d->conf.n_peers; i++) {
			if (with_if)
				printf("%s\t", d->name);
			peer_field(&d->conf.peers[i], param);
		}
	} else {
		fprintf(stderr, "Invalid parameter: `%s'\n", param);
		show_usage(cmd);
		return false;
	}
	return true;
}

static int show_all(int argc, char *argv[])
{
	char **names = NULL;
	size_t n = 0;
	int ret = awg_ipc_list(&names, &n);

	if (ret) {
		fprintf(stderr, "Unable to list interfaces: %s\n", strerror(-ret));
		return 1;
	}
	ret = n ? 1 : 0;
	for (size_t i = 0; i < n; i++) {
		struct device d;
		int r = device_get(&d, names[i]);

		if (r) {
			fprintf(stderr, "Unable to access interface %s: %s\n", names[i],
				strerror(-r));
			device_put(&d);
			continue;
		}
		if (argc == 3 && !ugly_print(&d, argv[2], true, argv[0])) {
			device_put(&d);
			ret = 1;
			break;
		}
		if (argc != 3 && pretty_print(&d) == 0 && i + 1 < n)
			printf("\n");
		device_put(&d);
		ret = 0;
	}
	awg_ipc_list_free(names, n);
	return ret;
}

static int show_interfaces(int argc, char *argv[])
{
	char **names = NULL;
	size_t n = 0;
	int ret;

	if (argc > 2) {
		show_usage(argv[0]);
		return 1;
	}
	ret = awg_ipc_list(&names, &n);
	if (ret) {
		fprintf(stderr, "Unable to list interfaces: %s\n", strerror(-ret));
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		printf("%s%c", names[i], i + 1 < n ? ' ' : '\n');
	awg_ipc_list_free(names, n);
	return 0;
}

static bool is_help(const char *arg)
{
	return !strcmp(arg, "-h") || !strcmp(arg, "--help") || !strcmp(arg, "help");
}

int awg_show_main(int argc, char *argv[])
{
	struct device d;
	int ret;

	if (argc > 3) {
		show_usage(argv[0]);
		return 1;
	}
	if (argc == 1 || !strcmp(argv[1], "all"))
		return show_all(argc, argv);
	if (!strcmp(argv[1], "interfaces"))
		return show_interfaces(argc, argv);
	if (argc == 2 && is_help(argv[1])) {
		show_usage(argv[0]);
		return 0;
	}
	ret = device_get(&d, argv[1]);
	if (ret) {
		fprintf(stderr, "Unable to access interface: %s\n", strerror(-ret));
		device_put(&d);
		return 1;
	}
	if (argc == 3)
		ret = ugly_print(&d, argv[2], false, argv[0]) ? 0 : 1;
	else
		ret = pretty_print(&d) ? 1 : 0;
	device_put(&d);
	return ret;
}

/* --- showconf --- */

static void conf_key(const char *name, const uint8_t key[AWG_KEY_LEN])
{
	char k[AWG_CRYPTO_KEY_B64_LEN + 1];

	printf("%s = %s\n", name, key_text(k, key));
	awg_wipe(k, sizeof(k));
}

static void conf_range(const char *name, struct awg_range r)
{
	char buf[AWG_RANGE_STR_MAX];

	awg_format_range(buf, r);
	printf("%s = %s\n", name, buf);
}

static void conf_awg(const struct awg_conf *c)
{
	static const char *const junk_names[] = { "Jc", "Jmin", "Jmax" };
	const uint32_t junk[] = { c->obfs.jc, c->obfs.jmin, c->obfs.jmax };
	char name[4];

	for (unsigned i = 0; i < 3; i++) {
		if ((c->has & (AWG_CONF_HAS_JC << i)) && junk[i])
			printf("%s = %u\n", junk_names[i], junk[i]);
	}
	for (unsigned i = 0; i < AWG_KIND_COUNT; i++) {
		if ((c->has & AWG_CONF_HAS_S(i)) && c->obfs.s[i])
			printf("S%u = %u\n", i + 1, c->obfs.s[i]);
	}
	for (unsigned i = 0; headers_custom(c) && i < AWG_KIND_COUNT; i++) {
		snprintf(name, sizeof(name), "H%u", i + 1);
		conf_range(name, c->obfs.h[i]);
	}
	for (unsigned i = 0; i < AWG_ISPEC_SLOTS; i++) {
		if (c->ispec[i])
			printf("I%u = %s\n", i + 1, c->ispec[i]);
	}
	if (hp_set(c))
		conf_key("HeaderProtectionKey", c->obfs.hp_key);
	for (unsigned i = 0; i < AWG_CONF_RANGES; i++) {
		if ((c->has & (AWG_CONF_HAS_CONTENT_PADDING << i)) &&
		    !awg_range_is_zero(*awg_conf_range((struct awg_conf *)c, i)))
			conf_range(range_conf_names[i], *awg_conf_range((struct awg_conf *)c, i));
	}
	if ((c->has & AWG_CONF_HAS_RANDOM_TRAILERS) && c->obfs.random_trailers)
		printf("RandomTrailers = on\n");
	if ((c->has & AWG_CONF_HAS_DISABLE_COOKIES) && c->obfs.disable_cookies)
		printf("DisableCookies = on\n");
}

static void conf_peer(const struct awg_conf_peer *p)
{
	char buf[AWG_ADDR_STR_MAX];

	printf("[Peer]\n");
	conf_key("PublicKey", p->public_key);
	if (peer_has_psk(p))
		conf_key("PresharedKey", p->preshared_key);
	if (p->n_allowed_ips) {
		printf("AllowedIPs = ");
		print_allowed_ips(p, ", ");
		printf("\n");
	}
	if (peer_has_endpoint(p))
		printf("Endpoint = %s\n", endpoint_text(buf, p));
	if (!awg_range_is_zero(p->keepalive))
		conf_range("PersistentKeepalive", p->keepalive);
}

int awg_showconf_main(int argc, char *argv[])
{
	struct device d;
	int ret;

	if (argc != 2 || is_help(argv[1])) {
		fprintf(stderr, "Usage: %s %s <interface>\n", PROG_NAME, argv[0]);
		return 1;
	}
	ret = device_get(&d, argv[1]);
	if (ret) {
		fprintf(stderr, "Unable to access interface: %s\n", strerror(-ret));
		device_put(&d);
		return 1;
	}
	printf("[Interface]\n");
	if (d.conf.listen_port)
		printf("ListenPort = %u\n", d.conf.listen_port);
	if (d.conf.fwmark)
		printf("FwMark = 0x%x\n", d.conf.fwmark);
	if (d.conf.has & AWG_CONF_HAS_PRIVATE_KEY)
		conf_key("PrivateKey", d.conf.private_key);
	conf_awg(&d.conf);
	printf("\n");
	for (size_t i = 0; i < d.conf.n_peers; i++) {
		conf_peer(&d.conf.peers[i]);
		if (i + 1 < d.conf.n_peers)
			printf("\n");
	}
	device_put(&d);
	return fflush(stdout) ? 1 : 0;
}
