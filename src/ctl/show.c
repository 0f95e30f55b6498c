// SPDX-License-Identifier: MIT
// awgctl list and status: the tunnel table and the awg-show-style status of each tunnel.
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "crypto.h"
#include "ctl.h"
#include "format.h"

/* Longer than any key text, placeholder text or formatted endpoint/prefix. */
#define TEXT_MAX (AWG_ADDR_STR_MAX + 64)

/* What status shows of one tunnel: the two replies and the parsed (redacted) config. */
struct tunnel_view {
	const char *name;
	struct awg_mgr_msg state;	/* State reply: state, error */
	struct awg_mgr_msg rt;		/* RuntimeConfig reply; flag = running */
	struct awg_conf conf;
	bool conf_ok;
	bool has_public;
	uint8_t public_key[AWG_KEY_LEN];
};

static int fetch_tunnels(struct ctl *ctl, struct awg_mgr_msg *reply)
{
	struct awg_mgr_msg req = { .code = AWG_MGR_TUNNELS };

	return awg_ctl_call(ctl, &req, reply, NULL) ? -1 : 0;
}

int awg_ctl_cmd_list(struct ctl *ctl, int argc, char **argv)
{
	struct awg_mgr_msg r;
	int width = 1;

	if (awg_ctl_args(argc, argv, NULL, NULL, 0, 0) < 0)
		return CTL_USAGE;
	if (fetch_tunnels(ctl, &r)) {
		awg_mgr_msg_free(&r);
		return CTL_FAIL;
	}
	for (uint32_t i = 0; i < r.n_tunnels; i++) {
		if ((int)strlen(r.tunnels[i].name) > width)
			width = (int)strlen(r.tunnels[i].name);
	}
	if (ctl->json)
		fputc('[', stdout);
	for (uint32_t i = 0; i < r.n_tunnels; i++) {
		const struct awg_mgr_tunnel *t = &r.tunnels[i];

		if (ctl->json) {
			fputs(i ? ",{\"name\":" : "{\"name\":", stdout);
			awg_json_string(stdout, t->name);
			printf(",\"state\":\"%s\",\"enabled\":%s}", awg_ctl_state_text(t->state),
			       t->enabled ? "true" : "false");
		} else {
			printf("%-*s  %-8s  %s\n", width, t->name, awg_ctl_state_text(t->state),
			       t->enabled ? "enabled" : "disabled");
		}
	}
	if (ctl->json)
		fputs("]\n", stdout);
	awg_mgr_msg_free(&r);
	return CTL_OK;
}

/* "(hidden, peer N)" for a placeholder, else the base64 key. */
static const char *peer_key_text(char buf[TEXT_MAX], const uint8_t key[AWG_KEY_LEN])
{
	uint64_t idx;

	if (awg_ctl_placeholder_index(key, &idx))
		snprintf(buf, TEXT_MAX, "(hidden, peer %" PRIu64 ")", idx);
	else
		awg_key_to_base64(buf, key);
	return buf;
}

static const char *cidr_text(char buf[TEXT_MAX], const struct awg_cidr *c)
{
	if (awg_format_cidr(buf, TEXT_MAX, c) < 0)
		snprintf(buf, TEXT_MAX, "(invalid)");
	return buf;
}

/* The config peer a runtime peer stands for: same key (both real, or both placeholders). */
static const struct awg_conf_peer *conf_peer(const struct tunnel_view *v,
					     const uint8_t key[AWG_KEY_LEN])
{
	return v->conf_ok ? awg_conf_peer_find(&v->conf, key) : NULL;
}

static int view_load(struct ctl *ctl, struct tunnel_view *v, const char *name)
{
	struct awg_mgr_msg req = { .code = AWG_MGR_STATE };
	struct awg_parse_error perr = { 0 };

	memset(v, 0, sizeof(*v));
	v->name = name;
	awg_conf_init(&v->conf);
	if (!awg_ctl_name_ok(name))
		return -1;
	snprintf(req.name, sizeof(req.name), "%s", name);
	if (awg_ctl_call(ctl, &req, &v->state, NULL))
		return -1;
	req.code = AWG_MGR_RUNTIME_CONFIG;
	if (awg_ctl_call(ctl, &req, &v->rt, NULL))
		return -1;
	v->conf_ok = !awg_conf_parse(&v->conf, v->rt.config ? v->rt.config : "",
				     v->rt.config_len, AWG_CONF_DIALECT_QUICK, &perr);
	if (!v->conf_ok)
		awg_ctl_err("%s: the configuration from the manager does not parse: %u:%u: %s",
			    name, perr.line, perr.column, perr.msg);
	if (v->rt.flag && v->rt.has_public_key) {
		v->has_public = true;
		memcpy(v->public_key, v->rt.public_key, AWG_KEY_LEN);
	} else if (v->conf_ok && (v->conf.has & AWG_CONF_HAS_PRIVATE_KEY)) {
		/* Stopped, seen by an admin: the key the tunnel will have. */
		v->has_public = awg_x25519_public(v->public_key, v->conf.private_key);
	}
	return 0;
}

static void view_free(struct tunnel_view *v)
{
	awg_mgr_msg_free(&v->state);
	awg_mgr_msg_free(&v->rt);
	awg_conf_free(&v->conf);
}

static uint16_t listen_port(const struct tunnel_view *v)
{
	if (v->rt.flag)
		return v->rt.listen_port;
	return v->conf_ok && (v->conf.has & AWG_CONF_HAS_LISTEN_PORT) ? v->conf.listen_port : 0;
}

/* --- text --- */

static void field(const char *name, const char *value)
{
	printf("  %s: %s\n", name, value);
}

static void text_allowed_ips(const struct awg_conf_peer *p)
{
	char buf[TEXT_MAX];

	printf("  allowed ips: ");
	if (!p || !p->n_allowed_ips)
		printf("(none)");
	for (size_t i = 0; p && i < p->n_allowed_ips; i++)
		printf("%s%s", i ? ", " : "", cidr_text(buf, &p->allowed_ips[i]));
	printf("\n");
}

static void text_keepalive(unsigned secs)
{
	char buf[TEXT_MAX];

	if (!secs)
		return;
	awg_ctl_format_duration(buf, sizeof(buf), secs);
	printf("  persistent keepalive: every %s\n", buf);
}

static void text_conf_peer(const struct awg_conf_peer *p)
{
	char buf[TEXT_MAX];

	printf("\npeer: %s\n", peer_key_text(buf, p->public_key));
	if ((p->flags & AWG_PEER_HAS_ENDPOINT) && awg_format_endpoint(buf, TEXT_MAX, &p->endpoint) >= 0)
		field("endpoint", buf);
	text_allowed_ips(p);
	if (p->keepalive.lo == p->keepalive.hi)
		text_keepalive(p->keepalive.lo);
}

static void text_runtime_peer(const struct tunnel_view *v, const struct awg_mgr_peer *p)
{
	char buf[TEXT_MAX], rx[32], tx[32];

	printf("\npeer: %s\n", peer_key_text(buf, p->public_key));
	if (p->endpoint[0]) {
		snprintf(buf, sizeof(buf), "%s", p->endpoint);
		awg_ctl_printable(buf);
		field("endpoint", buf);
	}
	text_allowed_ips(conf_peer(v, p->public_key));
	awg_ctl_format_ago(buf, sizeof(buf), time(NULL), p->last_handshake_sec);
	field("latest handshake", buf);
	awg_ctl_format_bytes(rx, sizeof(rx), p->rx_bytes);
	awg_ctl_format_bytes(tx, sizeof(tx), p->tx_bytes);
	printf("  transfer: %s received, %s sent\n", rx, tx);
	text_keepalive(p->keepalive);
}

/* The kill switch the config asks for ("off", "on", "persistent"), auto resolved. */
static const char *kill_switch_mode(const struct tunnel_view *v)
{
	static const char *const names[] = {
		[AWG_KILL_SWITCH_OFF] = "off", [AWG_KILL_SWITCH_ON] = "on",
		[AWG_KILL_SWITCH_PERSISTENT] = "persistent",
	};

	return v->conf_ok ? names[awg_conf_kill_switch(&v->conf)] : "off";
}

/* A started tunnel has its kill switch engaged: awg-tunnel does not come up without it. */
static bool kill_switch_active(const struct tunnel_view *v)
{
	return strcmp(kill_switch_mode(v), "off") && v->state.state == AWG_MGR_STARTED;
}

static void text_view(struct tunnel_view *v)
{
	char buf[TEXT_MAX];

	printf("tunnel: %s\n", v->name);
	field("state", awg_ctl_state_text(v->state.state));
	if (v->state.error[0]) {
		awg_ctl_printable(v->state.error);
		field("last error", v->state.error);
	}
	if (v->rt.flag && v->rt.ifname[0])
		field("interface", v->rt.ifname);
	if (v->has_public) {
		awg_key_to_base64(buf, v->public_key);
		field("public key", buf);
	} else if (v->conf_ok && !(v->conf.has & AWG_CONF_HAS_PRIVATE_KEY)) {
		field("public key", "(hidden)");
	}
	if (listen_port(v))
		printf("  listening port: %u\n", listen_port(v));
	if (v->conf_ok && v->conf.n_addresses) {
		printf("  addresses: ");
		for (size_t i = 0; i < v->conf.n_addresses; i++)
			printf("%s%s", i ? ", " : "", cidr_text(buf, &v->conf.addresses[i]));
		printf("\n");
	}
	if (strcmp(kill_switch_mode(v), "off"))
		printf("  kill switch: %s%s (%s)\n", kill_switch_mode(v),
		       v->conf.allow_lan ? ", LAN allowed" : "",
		       kill_switch_active(v) ? "active" : "when started");
	if (v->rt.flag) {
		for (uint32_t i = 0; i < v->rt.n_peers; i++)
			text_runtime_peer(v, &v->rt.peers[i]);
		if (v->rt.total_peers > v->rt.n_peers)
			printf("\n(%" PRIu32 " more peers not shown)\n",
			       v->rt.total_peers - v->rt.n_peers);
	} else {
		for (size_t i = 0; v->conf_ok && i < v->conf.n_peers; i++)
			text_conf_peer(&v->conf.peers[i]);
	}
}

/* --- JSON --- */

static void json_key(const char *name)
{
	printf(",\"%s\":", name);
}

static void json_str_or_null(const char *s)
{
	if (s && *s)
		awg_json_string(stdout, s);
	else
		fputs("null", stdout);
}

static void json_peer_key(const uint8_t key[AWG_KEY_LEN])
{
	char buf[TEXT_MAX];
	uint64_t idx;

	if (awg_ctl_placeholder_index(key, &idx)) {
		printf("\"public_key\":null,\"peer_index\":%" PRIu64, idx);
		return;
	}
	awg_key_to_base64(buf, key);
	printf("\"public_key\":\"%s\",\"peer_index\":null", buf);
}

static void json_allowed_ips(const struct awg_conf_peer *p)
{
	char buf[TEXT_MAX];

	json_key("allowed_ips");
	fputc('[', stdout);
	for (size_t i = 0; p && i < p->n_allowed_ips; i++) {
		fputs(i ? "," : "", stdout);
		awg_json_string(stdout, cidr_text(buf, &p->allowed_ips[i]));
	}
	fputc(']', stdout);
}

static void json_conf_peer(const struct awg_conf_peer *p)
{
	char buf[TEXT_MAX];

	fputc('{', stdout);
	json_peer_key(p->public_key);
	json_key("endpoint");
	json_str_or_null((p->flags & AWG_PEER_HAS_ENDPOINT) &&
			 awg_format_endpoint(buf, TEXT_MAX, &p->endpoint) >= 0 ? buf : NULL);
	json_allowed_ips(p);
	json_key("persistent_keepalive");
	printf("%u}", p->keepalive.lo == p->keepalive.hi ? p->keepalive.lo : 0);
}

static void json_runtime_peer(const struct tunnel_view *v, const struct awg_mgr_peer *p)
{
	fputc('{', stdout);
	json_peer_key(p->public_key);
	json_key("endpoint");
	json_str_or_null(p->endpoint);
	json_allowed_ips(conf_peer(v, p->public_key));
	json_key("latest_handshake");
	if (p->last_handshake_sec)
		printf("%" PRId64, p->last_handshake_sec);
	else
		fputs("null", stdout);
	printf(",\"rx_bytes\":%" PRIu64 ",\"tx_bytes\":%" PRIu64 ",\"persistent_keepalive\":%u}",
	       p->rx_bytes, p->tx_bytes, p->keepalive);
}

static void json_view(const struct tunnel_view *v)
{
	char buf[TEXT_MAX];

	fputs("{\"name\":", stdout);
	awg_json_string(stdout, v->name);
	printf(",\"state\":\"%s\"", awg_ctl_state_text(v->state.state));
	json_key("error");
	json_str_or_null(v->state.error);
	printf(",\"running\":%s", v->rt.flag ? "true" : "false");
	json_key("interface");
	json_str_or_null(v->rt.flag ? v->rt.ifname : NULL);
	json_key("public_key");
	if (v->has_public)
		awg_key_to_base64(buf, v->public_key);
	json_str_or_null(v->has_public ? buf : NULL);
	json_key("listen_port");
	printf("%u", listen_port(v));
	json_key("addresses");
	fputc('[', stdout);
	for (size_t i = 0; v->conf_ok && i < v->conf.n_addresses; i++) {
		fputs(i ? "," : "", stdout);
		awg_json_string(stdout, cidr_text(buf, &v->conf.addresses[i]));
	}
	fputc(']', stdout);
	printf(",\"kill_switch\":\"%s\",\"kill_switch_active\":%s,\"allow_lan\":%s",
	       kill_switch_mode(v), kill_switch_active(v) ? "true" : "false",
	       v->conf_ok && v->conf.allow_lan ? "true" : "false");
	json_key("total_peers");
	printf("%zu", v->rt.flag ? (size_t)v->rt.total_peers : v->conf.n_peers);
	json_key("peers");
	fputc('[', stdout);
	if (v->rt.flag) {
		for (uint32_t i = 0; i < v->rt.n_peers; i++) {
			fputs(i ? "," : "", stdout);
			json_runtime_peer(v, &v->rt.peers[i]);
		}
	} else {
		for (size_t i = 0; v->conf_ok && i < v->conf.n_peers; i++) {
			fputs(i ? "," : "", stdout);
			json_conf_peer(&v->conf.peers[i]);
		}
	}
	fputs("]}", stdout);
}

int awg_ctl_cmd_status(struct ctl *ctl, int argc, char **argv)
{
	struct awg_mgr_msg list = { 0 };
	struct tunnel_view v;
	const char *name = NULL;
	int status = CTL_OK;
	size_t shown = 0, n;

	if (awg_ctl_args(argc, argv, NULL, &name, 0, 1) < 0)
		return CTL_USAGE;
	if (!name && fetch_tunnels(ctl, &list)) {
		awg_mgr_msg_free(&list);
		return CTL_FAIL;
	}
	n = name ? 1 : list.n_tunnels;
	if (ctl->json)
		fputc('[', stdout);
	for (size_t i = 0; i < n; i++) {
		/* A tunnel may vanish between Tunnels and its status: report it, go on. */
		if (view_load(ctl, &v, name ? name : list.tunnels[i].name)) {
			view_free(&v);
			status = CTL_FAIL;
			if (ctl->conn_err)
				break;
			continue;
		}
		if (ctl->json) {
			fputs(shown ? "," : "", stdout);
			json_view(&v);
		} else {
			fputs(shown ? "\n" : "", stdout);
			text_view(&v);
		}
		shown++;
		view_free(&v);
	}
	if (ctl->json)
		fputs("]\n", stdout);
	awg_mgr_msg_free(&list);
	return status;
}
