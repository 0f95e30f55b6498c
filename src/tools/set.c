// SPDX-License-Identifier: MIT
// awg set: the command-line configuration of wg set plus every AWG key, sent over UAPI.
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "awg.h"
#include "crypto.h"
#include "parse.h"

#define SET_USAGE "Usage: %s %s <interface> [listen-port <port>] [fwmark <mark>] " \
	"[private-key <file path>] [jc <count>] [jmin <size>] [jmax <size>] [s1..s4 <size>] " \
	"[h1..h4 <value or range>] [i1..i5 <tag spec>] [header-protection-key <file path>] " \
	"[content-padding-addition <range>] [rekey-after-time <range>] [rekey-timeout <range>] " \
	"[reject-after-time <range>] [keepalive-timeout <range>] " \
	"[max-handshake-attempts <range>] " \
	"[random-trailers on|off] [disable-cookies on|off] " \
	"[peer <base64 public key> [remove] [preshared-key <file path>] [endpoint <ip>:<port>] " \
	"[persistent-keepalive <interval seconds>] " \
	"[allowed-ips <ip1>/<cidr1>[,<ip2>/<cidr2>]...] ]...\n"

/* One device argument: its name, has-bit and how its value is parsed. */
enum arg_kind { A_PORT, A_FWMARK, A_PRIVKEY, A_JUNK, A_S, A_H, A_I, A_HPKEY, A_RANGE, A_BOOL };

struct dev_arg {
	const char *name;
	enum arg_kind kind;
	unsigned idx;
};

static const struct dev_arg dev_args[] = {
	{ "listen-port", A_PORT, 0 }, { "fwmark", A_FWMARK, 0 }, { "private-key", A_PRIVKEY, 0 },
	{ "jc", A_JUNK, 0 }, { "jmin", A_JUNK, 1 }, { "jmax", A_JUNK, 2 },
	{ "s1", A_S, 0 }, { "s2", A_S, 1 }, { "s3", A_S, 2 }, { "s4", A_S, 3 },
	{ "h1", A_H, 0 }, { "h2", A_H, 1 }, { "h3", A_H, 2 }, { "h4", A_H, 3 },
	{ "i1", A_I, 0 }, { "i2", A_I, 1 }, { "i3", A_I, 2 }, { "i4", A_I, 3 }, { "i5", A_I, 4 },
	{ "header-protection-key", A_HPKEY, 0 },
	{ "content-padding-addition", A_RANGE, 0 }, { "rekey-after-time", A_RANGE, 1 },
	{ "rekey-timeout", A_RANGE, 2 }, { "reject-after-time", A_RANGE, 3 },
	{ "keepalive-timeout", A_RANGE, 4 }, { "max-handshake-attempts", A_RANGE, 5 },
	{ "random-trailers", A_BOOL, 0 }, { "disable-cookies", A_BOOL, 1 },
};

static int bad(const char *what, const char *value)
{
	fprintf(stderr, "%s: `%s'\n", what, value);
	return -EINVAL;
}

static int set_junk(struct awg_conf *c, unsigned i, const char *v)
{
	uint32_t *f[] = { &c->obfs.jc, &c->obfs.jmin, &c->obfs.jmax };

	if (awg_parse_u32(v, strlen(v), 65535, f[i]))
		return bad("Junk parameter is not a number in 0-65535", v);
	c->has |= AWG_CONF_HAS_JC << i;
	return 0;
}

static int set_dev_value(struct awg_conf *c, const struct dev_arg *a, const char *v)
{
	uint32_t u;
	bool b;

	switch (a->kind) {
	case A_PORT:
		if (awg_parse_port(v, strlen(v), &c->listen_port))
			return bad("Listen port is not a number in 0-65535", v);
		break;
	case A_FWMARK:
		if (awg_parse_fwmark(v, strlen(v), &c->fwmark))
			return bad("Fwmark is neither 0/off nor 0-0xffffffff", v);
		break;
	case A_PRIVKEY:
		if (awg_keys_read_file(c->private_key, v))
			return -EINVAL;
		break;
	case A_JUNK:
		return set_junk(c, a->idx, v);
	case A_S:
		if (awg_parse_u32(v, strlen(v), 65535, &u))
			return bad("Padding size is not a number in 0-65535", v);
		c->obfs.s[a->idx] = (uint16_t)u;
		c->has |= AWG_CONF_HAS_S(a->idx);
		return 0;
	case A_H:
		if (awg_parse_range(v, strlen(v), UINT32_MAX, &c->obfs.h[a->idx]))
			return bad("Magic header is neither N nor LO-HI (32-bit)", v);
		c->has |= AWG_CONF_HAS_H(a->idx);
		return 0;
	case A_I:
		if (strchr(v, '\n') || awg_conf_set_ispec(c, a->idx, v, strlen(v)))
			return bad("Invalid tag spec", v);
		c->has |= AWG_CONF_HAS_I(a->idx);
		return 0;
	case A_HPKEY:
		if (awg_keys_read_file(c->obfs.hp_key, v))
			return -EINVAL;
		c->obfs.hp_on = !awg_is_zero(c->obfs.hp_key, AWG_KEY_LEN);
		c->has |= AWG_CONF_HAS_HP_KEY;
		return 0;
	case A_RANGE:
		if (awg_parse_range(v, strlen(v), 65535, awg_conf_range(c, a->idx)))
			return bad("Value is neither N nor LO-HI (0-65535)", v);
		c->has |= AWG_CONF_HAS_CONTENT_PADDING << a->idx;
		return 0;
	case A_BOOL:
		if (awg_parse_bool(v, strlen(v), AWG_BOOL_TOOLS, &b))
			return bad("Value is neither on nor off", v);
		if (a->idx)
			c->obfs.disable_cookies = b;
		else
			c->obfs.random_trailers = b;
		c->has |= a->idx ? AWG_CONF_HAS_DISABLE_COOKIES : AWG_CONF_HAS_RANDOM_TRAILERS;
		return 0;
	}
	c->has |= a->kind == A_PORT ? AWG_CONF_HAS_LISTEN_PORT :
		  a->kind == A_FWMARK ? AWG_CONF_HAS_FWMARK : AWG_CONF_HAS_PRIVATE_KEY;
	return 0;
}

static const struct dev_arg *find_dev_arg(const char *name)
{
	for (size_t i = 0; i < sizeof(dev_args) / sizeof(dev_args[0]); i++) {
		if (!strcmp(name, dev_args[i].name))
			return &dev_args[i];
	}
	return NULL;
}

/* "a/b,c/d": replaces the allowed IPs; an empty list clears them. */
static int set_allowed_ips(struct awg_conf_peer *p, const char *v)
{
	const char *s = v;

	p->flags |= AWG_PEER_REPLACE_ALLOWED_IPS;
	while (*s) {
		const char *end = strchr(s, ',');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		const char *a = s;
		struct awg_cidr cidr;

		while (len && awg_char_is_space((unsigned char)*a)) {
			a++;
			len--;
		}
		while (len && awg_char_is_space((unsigned char)a[len - 1]))
			len--;
		if (len && (awg_parse_cidr(a, len, false, &cidr) ||
			    awg_conf_peer_add_allowed_ip(p, &cidr)))
			return bad("AllowedIP is not in the correct format", v);
		if (!end)
			break;
		s = end + 1;
	}
	return 0;
}

static int set_peer_value(struct awg_conf_peer *p, const char *name, const char *v)
{
	if (!strcmp(name, "endpoint")) {
		if (awg_parse_endpoint(v, strlen(v), false, &p->endpoint))
			return bad("Unable to parse endpoint", v);
		p->flags |= AWG_PEER_HAS_ENDPOINT;
	} else if (!strcmp(name, "allowed-ips")) {
		return set_allowed_ips(p, v);
	} else if (!strcmp(name, "persistent-keepalive")) {
		if (!strcmp(v, "off"))
			p->keepalive = (struct awg_range){ 0, 0 };
		else if (awg_parse_range(v, strlen(v), 65535, &p->keepalive))
			return bad("Persistent keepalive interval is neither 0/off nor 1-65535", v);
		p->flags |= AWG_PEER_HAS_KEEPALIVE;
	} else {
		if (awg_keys_read_file(p->preshared_key, v))
			return -EINVAL;
		p->flags |= AWG_PEER_HAS_PRESHARED_KEY;
	}
	return 0;
}

static bool is_peer_arg(const char *name)
{
	return !strcmp(name, "endpoint") || !strcmp(name, "allowed-ips") ||
	       !strcmp(name, "persistent-keepalive") || !strcmp(name, "preshared-key");
}

static int add_peer(struct awg_conf *c, const char *b64)
{
	uint8_t pub[AWG_KEY_LEN];

	if (awg_parse_key_base64(pub, b64, strlen(b64)))
		return bad("Key is not the correct length or format", b64);
	if (awg_conf_peer_add(c, pub, NULL)) {
		fprintf(stderr, "%s: too many peers\n", PROG_NAME);
		return -ENOMEM;
	}
	return 0;
}

/* Parses the arguments after the interface name into c. Prints the error. 0 or -errno. */
static int parse_args(struct awg_conf *c, int argc, char *argv[])
{
	for (int i = 0; i < argc; i++) {
		struct awg_conf_peer *p = c->n_peers ? &c->peers[c->n_peers - 1] : NULL;
		const struct dev_arg *a = p ? NULL : find_dev_arg(argv[i]);
		bool takes_value = a || !strcmp(argv[i], "peer") || (p && is_peer_arg(argv[i]));
		int ret;

		if (takes_value && i + 1 == argc) {
			fprintf(stderr, "Missing value for argument: %s\n", argv[i]);
			return -EINVAL;
		}
		if (p && !strcmp(argv[i], "remove")) {
			p->flags |= AWG_PEER_REMOVE;
			continue;
		}
		if (!takes_value) {
			fprintf(stderr, "Invalid argument: %s\n", argv[i]);
			return -EINVAL;
		}
		if (a)
			ret = set_dev_value(c, a, argv[i + 1]);
		else if (!strcmp(argv[i], "peer"))
			ret = add_peer(c, argv[i + 1]);
		else
			ret = set_peer_value(p, argv[i], argv[i + 1]);
		if (ret)
			return ret;
		i++;
	}
	return 0;
}

static int resolve(struct awg_endpoint *ep)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *res, *ai;
	int ret;

	ret = getaddrinfo(ep->host, NULL, &hints, &res);
	if (ret) {
		fprintf(stderr, "%s: `%s'\n",
			ret == EAI_SYSTEM ? strerror(errno) : gai_strerror(ret), ep->host);
		return -EINVAL;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			ep->ip.family = AWG_FAMILY_INET;
			memcpy(ep->ip.addr, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
			break;
		}
		if (ai->ai_family == AF_INET6) {
			ep->ip.family = AWG_FAMILY_INET6;
			memcpy(ep->ip.addr, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
			break;
		}
	}
	freeaddrinfo(res);
	if (!ai || awg_format_ipaddr(ep->host, sizeof(ep->host), &ep->ip))
		return bad("Unable to resolve endpoint", ep->host);
	return 0;
}

int awg_set_resolve_endpoints(struct awg_conf *c)
{
	for (size_t i = 0; i < c->n_peers; i++) {
		struct awg_conf_peer *p = &c->peers[i];

		if (!(p->flags & AWG_PEER_HAS_ENDPOINT) || p->endpoint.ip.family)
			continue;
		if (resolve(&p->endpoint))
			return -EINVAL;
	}
	return 0;
}

void awg_set_report(const char *ifname, int ret)
{
	(void)ifname;
	fprintf(stderr, "Unable to modify interface: %s\n", strerror(-ret));
}

int awg_set_main(int argc, char *argv[])
{
	struct awg_conf c;
	int ret;

	if (argc < 3) {
		fprintf(stderr, SET_USAGE, PROG_NAME, argv[0]);
		return 1;
	}
	awg_conf_init(&c);
	ret = parse_args(&c, argc - 2, argv + 2);
	if (!ret)
		ret = awg_set_resolve_endpoints(&c);
	if (ret) {
		awg_conf_free(&c);
		return 1;
	}
	ret = awg_ipc_set_conf(argv[1], &c, 0);
	if (ret)
		awg_set_report(argv[1], ret);
	awg_conf_free(&c);
	return ret ? 1 : 0;
}
