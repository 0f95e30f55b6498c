// SPDX-License-Identifier: MIT
/* Owns the manager's answers: one handler per method, authorised in one place first. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "awg.h"
#include "crypto.h"
#include "manager.h"
#include "overlap.h"
#include "redact.h"

/*
 * The engine runs unprivileged and sandboxed, so it is not trusted with the manager's one
 * thread: its status answer must come within this time and size (a client tunnel has a few
 * peers; 16 MiB is tens of thousands).
 */
#define UAPI_MAX (16u << 20)
#define UAPI_TIMEOUT_MS 2000

struct call {
	struct awg_manager *m;
	struct awg_server_client *c;
	const struct awg_mgr_msg *req;
	struct awg_mgr_msg *reply;
	bool redact;
	enum awg_mgr_role role;
};

static void ok(struct call *k, int fd)
{
	awg_server_reply(k->c, k->reply, fd);
}

__attribute__((format(printf, 3, 4)))
static void refuse(struct call *k, uint32_t status, const char *fmt, ...)
{
	struct awg_mgr_msg *r = k->reply;
	va_list ap;

	r->status = status;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	awg_server_reply(k->c, r, -1);
}

/* Resolves the request's name to the stored spelling; refuses (and returns false) otherwise. */
static bool stored_name(struct call *k, char name[AWG_MGR_NAME_MAX + 1])
{
	const char *why;

	if (!awg_store_name_valid(k->req->name, &why)) {
		refuse(k, EINVAL, "'%s' is not a valid tunnel name: %s", k->req->name, why);
		return false;
	}
	if (awg_store_find(&k->m->store, k->req->name, name) < 0) {
		refuse(k, ENOENT, "there is no tunnel named '%s'", k->req->name);
		return false;
	}
	return true;
}

/* Loads and parses a stored config. 0, or -errno with why. */
static int load_conf(struct awg_manager *m, const char *name, struct awg_conf *c, char *why,
		     size_t whylen)
{
	struct awg_parse_error err = { 0 };
	char *text = NULL;
	size_t len = 0;
	int ret = awg_store_load(&m->store, name, &text, &len);

	awg_conf_init(c);
	if (ret < 0) {
		snprintf(why, whylen, "cannot read the stored config of '%s': %s", name,
			 ret == -EBADMSG ? "it does not decrypt (renamed from another tunnel, "
					   "tampered with, or encrypted with another key)" :
			 strerror(-ret));
		return ret;
	}
	ret = awg_conf_parse(c, text, len, AWG_CONF_DIALECT_QUICK, &err);
	awg_wipe(text, len);
	free(text);
	if (ret < 0)
		snprintf(why, whylen, "the stored config of '%s' is invalid: line %u: %s", name,
			 err.line, err.msg);
	return ret;
}

static bool has_scripts(const struct awg_conf *c)
{
	return c->pre_up.n || c->post_up.n || c->pre_down.n || c->post_down.n;
}

/* Scripts run as root: only when the policy allows them (Windows' DangerousScriptExecution). */
static int check_policy(struct awg_manager *m, const char *name, const struct awg_conf *c,
			char *why, size_t whylen)
{
	struct awg_policy p;
	char pwhy[256] = "";

	if (!has_scripts(c))
		return 0;
	if (awg_policy_read(m->policy_path, &p, pwhy, sizeof(pwhy)) == 0 &&
	    p.dangerous_script_execution)
		return 0;
	snprintf(why, whylen, "tunnel '%s' has PreUp/PostUp/PreDown/PostDown scripts, which would "
		 "run as root; allow them with DangerousScriptExecution = 1 in %s", name,
		 m->policy_path);
	return -EPERM;
}

int awg_methods_canon(void *ctx, const char *name, const char *text, size_t len, char **out,
		      size_t *outlen, char *why, size_t whylen)
{
	struct awg_parse_error err = { 0 };
	struct awg_conf c;
	int ret;

	(void)ctx;
	(void)name;
	awg_conf_init(&c);
	ret = awg_conf_parse(&c, text, len, AWG_CONF_DIALECT_QUICK, &err);
	if (ret < 0) {
		if (err.line)
			snprintf(why, whylen, "line %u column %u: %s", err.line, err.column, err.msg);
		else
			snprintf(why, whylen, "%s", ret == -ENOMEM ? "out of memory" : err.msg);
		goto out;
	}
	ret = awg_conf_write(&c, out, outlen, AWG_CONF_WRITE_QUICK);
	if (ret < 0)
		snprintf(why, whylen, "cannot be written back as a config file");
	else if (*outlen > AWG_STORE_TEXT_MAX) {
		snprintf(why, whylen, "larger than %u KiB", AWG_STORE_TEXT_MAX >> 10);
		awg_wipe(*out, *outlen);
		free(*out);
		*out = NULL;
		ret = -EFBIG;
	}
out:
	awg_conf_free(&c);
	return ret < 0 ? (ret == -ENOMEM ? ret : -EINVAL) : 0;
}

int awg_methods_load(void *ctx, const char *name, char **text, size_t *len, char *why,
		     size_t whylen)
{
	struct awg_manager *m = ctx;
	struct awg_conf c;
	int ret = load_conf(m, name, &c, why, whylen);

	if (!ret)
		ret = check_policy(m, name, &c, why, whylen);
	awg_conf_free(&c);
	if (ret < 0)
		return ret;
	ret = awg_store_load(&m->store, name, text, len);
	if (ret < 0)
		snprintf(why, whylen, "cannot read the stored config of '%s': %s", name,
			 strerror(-ret));
	return ret;
}

/* Writes c (redacted first for operators) into the reply's config. */
static int put_config(struct call *k, struct awg_conf *c)
{
	char *text = NULL;
	size_t len = 0;
	int ret;

	if (k->redact)
		awg_redact_conf(c);
	ret = awg_conf_write(c, &text, &len, AWG_CONF_WRITE_QUICK);
	if (ret < 0)
		return ret;
	ret = awg_mgr_msg_set_config(k->reply, text, len);
	awg_wipe(text, len);
	free(text);
	return ret;
}

static void stored_config(struct call *k)
{
	char name[AWG_MGR_NAME_MAX + 1], why[AWG_MGR_ERROR_MAX + 1];
	struct awg_conf c;

	if (!stored_name(k, name))
		return;
	if (load_conf(k->m, name, &c, why, sizeof(why)) < 0) {
		awg_manager_log(k->m, "%s", why);
		awg_conf_free(&c);
		refuse(k, EIO, "%s", why);
		return;
	}
	if (put_config(k, &c) < 0)
		refuse(k, E2BIG, "the config of '%s' is too large to send", name);
	else
		ok(k, -1);
	awg_conf_free(&c);
}

/* Fills the runtime fields from the engine of a started tunnel. */
static void runtime(struct call *k, const char *name, const struct awg_conf *stored)
{
	struct awg_mgr_msg *r = k->reply;
	struct awg_conf live;
	uint64_t extra = 0;

	awg_sup_ifname(name, r->ifname);
	awg_conf_init(&live);
	if (awg_sup_state(k->m->sup, name, NULL) != AWG_MGR_STARTED ||
	    awg_ipc_get_bounded(r->ifname, &live, UAPI_MAX, UAPI_TIMEOUT_MS) < 0) {
		awg_conf_free(&live);
		return;
	}
	r->flag = 1;
	r->listen_port = live.listen_port;
	if (!k->redact && live.has & AWG_CONF_HAS_PRIVATE_KEY &&
	    awg_x25519_public(r->public_key, live.private_key))
		r->has_public_key = 1;
	r->total_peers = (uint32_t)live.n_peers;
	r->n_peers = live.n_peers < AWG_MGR_PEERS_MAX ? (uint32_t)live.n_peers : AWG_MGR_PEERS_MAX;
	r->peers = calloc(r->n_peers ? r->n_peers : 1, sizeof(*r->peers));
	if (!r->peers)
		r->n_peers = 0;
	for (uint32_t i = 0; i < r->n_peers; i++) {
		const struct awg_conf_peer *p = &live.peers[i];
		struct awg_mgr_peer *o = &r->peers[i];

		if (k->redact) {
			uint64_t idx = awg_redact_peer_index(stored, p->public_key, extra);

			extra += idx >= stored->n_peers;
			awg_redact_placeholder(o->public_key, idx);
		} else {
			memcpy(o->public_key, p->public_key, AWG_MGR_KEY_LEN);
		}
		if (p->flags & AWG_PEER_HAS_ENDPOINT &&
		    awg_format_endpoint(o->endpoint, sizeof(o->endpoint), &p->endpoint) < 0)
			o->endpoint[0] = 0;
		o->rx_bytes = p->rx_bytes;
		o->tx_bytes = p->tx_bytes;
		o->last_handshake_sec = p->last_handshake_sec;
		/* The engine is not trusted to keep the protocol's bounds. */
		o->last_handshake_nsec = p->last_handshake_nsec >= 0 &&
					 p->last_handshake_nsec < 1000000000 ?
					 (uint32_t)p->last_handshake_nsec : 0;
		o->keepalive = (uint16_t)p->keepalive.lo;
	}
	awg_conf_free(&live);
}

static void runtime_config(struct call *k)
{
	char name[AWG_MGR_NAME_MAX + 1], why[AWG_MGR_ERROR_MAX + 1];
	struct awg_conf c, keys;

	if (!stored_name(k, name))
		return;
	if (load_conf(k->m, name, &c, why, sizeof(why)) < 0) {
		awg_conf_free(&c);
		refuse(k, EIO, "%s", why);
		return;
	}
	/* The runtime placeholders follow the stored peer order, so keep the real keys for that. */
	awg_conf_init(&keys);
	for (size_t i = 0; i < c.n_peers; i++)
		awg_conf_peer_add(&keys, c.peers[i].public_key, NULL);
	runtime(k, name, &keys);
	awg_conf_free(&keys);
	if (put_config(k, &c) < 0)
		refuse(k, E2BIG, "the config of '%s' is too large to send", name);
	else
		ok(k, -1);
	awg_conf_free(&c);
}

/* Stops the running tunnels that intersect name's config; n of them go into after. */
static int stop_intersecting(struct call *k, const char *name, const struct awg_conf *c,
			     char (*after)[AWG_MGR_NAME_MAX + 1], size_t *n)
{
	char (*running)[AWG_MGR_NAME_MAX + 1] = calloc(AWG_MGR_TUNNELS_MAX, sizeof(*running));
	size_t nr;
	char why[AWG_MGR_ERROR_MAX + 1];

	*n = 0;
	if (!running)
		return -ENOMEM;
	nr = awg_sup_running(k->m->sup, running, AWG_MGR_TUNNELS_MAX);
	/* First pass only checks: refuse before stopping anything. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < nr; i++) {
			struct awg_conf o;
			bool hit;

			if (!strcmp(running[i], name))
				continue;
			hit = load_conf(k->m, running[i], &o, why, sizeof(why)) < 0 ||
			      awg_overlap(c, &o);
			awg_conf_free(&o);
			if (!hit)
				continue;
			if (pass == 0 && awg_sup_state(k->m->sup, running[i], NULL) ==
					 AWG_MGR_STARTING) {
				refuse(k, EBUSY, "Please allow the tunnel '%s' to finish activating",
				       running[i]);
				free(running);
				return -EBUSY;
			}
			if (pass == 1) {
				awg_manager_log(k->m, "tunnel %s: stopping it, it intersects %s",
						running[i], name);
				awg_sup_stop(k->m->sup, running[i]);
				awg_manager_set_enabled(k->m, running[i], false);
				memcpy(after[(*n)++], running[i], sizeof(*after));
			}
		}
	}
	free(running);
	return 0;
}

static void start(struct call *k)
{
	char name[AWG_MGR_NAME_MAX + 1], why[AWG_MGR_ERROR_MAX + 1];
	char (*after)[AWG_MGR_NAME_MAX + 1] = NULL;
	struct awg_conf c;
	size_t n = 0;
	int ret;

	if (!stored_name(k, name))
		return;
	if (load_conf(k->m, name, &c, why, sizeof(why)) < 0 ||
	    check_policy(k->m, name, &c, why, sizeof(why)) < 0) {
		awg_conf_free(&c);
		refuse(k, EINVAL, "%s", why);
		return;
	}
	after = calloc(AWG_MGR_TUNNELS_MAX, sizeof(*after));
	if (!after) {
		awg_conf_free(&c);
		refuse(k, ENOMEM, "out of memory");
		return;
	}
	ret = stop_intersecting(k, name, &c, after, &n);
	awg_conf_free(&c);
	if (ret == -EBUSY)
		goto out;
	awg_manager_set_enabled(k->m, name, true);
	ret = awg_sup_start(k->m->sup, name, (const char (*)[AWG_MGR_NAME_MAX + 1])after, n);
	if (ret == -ENOMEM)
		refuse(k, ENOMEM, "out of memory");
	else
		ok(k, -1);	/* -EALREADY: already running, which is what was asked */
out:
	free(after);
}

static void stop(struct call *k)
{
	char name[AWG_MGR_NAME_MAX + 1];

	if (!stored_name(k, name))
		return;
	awg_manager_set_enabled(k->m, name, false);
	awg_sup_stop(k->m->sup, name);
	ok(k, -1);
}

static void wait_for_stop(struct call *k)
{
	char name[AWG_MGR_NAME_MAX + 1];
	struct awg_waiter *w;

	if (!stored_name(k, name))
		return;
	if (awg_sup_state(k->m->sup, name, NULL) == AWG_MGR_STOPPED) {
		ok(k, -1);
		return;
	}
	/* Waiters of clients that hung up go now, so their number stays bounded by the clients. */
	for (struct awg_waiter **pp = &k->m->waiters; *pp;) {
		w = *pp;
		if (awg_server_has(k->m->server, w->client)) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		free(w);
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		refuse(k, ENOMEM, "out of memory");
		return;
	}
	w->client = k->c->id;
	w->seq = k->req->seq;
	memcpy(w->name, name, sizeof(name));
	w->next = k->m->waiters;
	k->m->waiters = w;
	awg_server_park(k->c);
}

static void delete(struct call *k)
{
	char name[AWG_MGR_NAME_MAX + 1];
	int ret;

	if (!stored_name(k, name))
		return;
	awg_manager_set_enabled(k->m, name, false);
	awg_sup_stop(k->m->sup, name);
	ret = awg_store_delete(&k->m->store, name);
	if (ret < 0) {
		refuse(k, (uint32_t)-ret, "cannot delete '%s': %s", name, strerror(-ret));
		return;
	}
	if (awg_sup_state(k->m->sup, name, NULL) == AWG_MGR_STOPPED)
		awg_sup_forget(k->m->sup, name);
	awg_manager_log(k->m, "tunnel %s: deleted (uid %u)", name, (unsigned)k->c->uid);
	ok(k, -1);
}

static void state(struct call *k)
{
	char name[AWG_MGR_NAME_MAX + 1];
	const char *error;

	if (!stored_name(k, name))
		return;
	k->reply->state = (uint8_t)awg_sup_state(k->m->sup, name, &error);
	snprintf(k->reply->error, sizeof(k->reply->error), "%s", error);
	ok(k, -1);
}

static void create(struct call *k)
{
	const struct awg_mgr_msg *q = k->req;
	char why[AWG_MGR_ERROR_MAX + 1] = "", *text = NULL, found[AWG_MGR_NAME_MAX + 1];
	const char *nwhy;
	size_t len = 0;
	int ret;

	if (!awg_store_name_valid(q->name, &nwhy)) {
		refuse(k, EINVAL, "'%s' is not a valid tunnel name: %s", q->name, nwhy);
		return;
	}
	if (!q->flag && awg_store_find(&k->m->store, q->name, found) == 0) {
		refuse(k, EEXIST, "a tunnel named '%s' already exists", found);
		return;
	}
	if (awg_methods_canon(k->m, q->name, q->config ? q->config : "", q->config_len, &text,
			      &len, why, sizeof(why)) < 0) {
		refuse(k, EINVAL, "the config of '%s' is invalid: %s", q->name, why);
		return;
	}
	ret = awg_store_save(&k->m->store, q->name, text, len, q->flag);
	awg_wipe(text, len);
	free(text);
	if (ret == -EEXIST) {
		refuse(k, EEXIST, "a tunnel named '%s' already exists", q->name);
		return;
	}
	if (ret < 0) {
		awg_manager_log(k->m, "cannot store tunnel %s: %s", q->name, strerror(-ret));
		refuse(k, (uint32_t)-ret, "cannot store '%s': %s", q->name, strerror(-ret));
		return;
	}
	awg_manager_log(k->m, "tunnel %s: %s (uid %u)", q->name, q->flag ? "saved" : "created",
			(unsigned)k->c->uid);
	snprintf(k->reply->name, sizeof(k->reply->name), "%s", q->name);
	ok(k, -1);
}

static void tunnels(struct call *k)
{
	char (*names)[AWG_STORE_NAME_MAX + 1] = NULL;
	struct awg_mgr_msg *r = k->reply;
	size_t n = 0;
	int ret = awg_store_list(&k->m->store, &names, &n);

	if (ret < 0) {
		refuse(k, (uint32_t)-ret, "cannot list the store: %s", strerror(-ret));
		return;
	}
	if (n > AWG_MGR_TUNNELS_MAX)
		n = AWG_MGR_TUNNELS_MAX;
	r->tunnels = calloc(n ? n : 1, sizeof(*r->tunnels));
	if (!r->tunnels) {
		free(names);
		refuse(k, ENOMEM, "out of memory");
		return;
	}
	r->n_tunnels = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		memcpy(r->tunnels[i].name, names[i], sizeof(r->tunnels[i].name));
		r->tunnels[i].state = (uint8_t)awg_sup_state(k->m->sup, names[i], NULL);
		r->tunnels[i].enabled = awg_manager_enabled(k->m, names[i]);
	}
	free(names);
	ok(k, -1);
}

static void quit(struct call *k)
{
	k->reply->flag = k->m->quit_called;
	ok(k, -1);
	if (k->m->quit_called)
		return;
	k->m->quit_called = true;
	/* The caller no longer hears about the shutdown it asked for. */
	k->c->subscribed = false;
	awg_manager_log(k->m, "quit requested by uid %u%s", (unsigned)k->c->uid,
			k->req->flag ? ", stopping every tunnel" : "");
	awg_manager_quit(k->m, k->req->flag, k->req->flag);
}

static void log_fd(struct call *k)
{
	int fd = openat(k->m->store.rootfd, "log.bin", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		refuse(k, EIO, "cannot open the log: %s", strerror(errno));
		return;
	}
	k->reply->value = AWG_RINGLOG_SIZE;
	ok(k, fd);
	close(fd);
}

void awg_methods_request(void *ctx, struct awg_server_client *c, struct awg_mgr_msg *req)
{
	struct awg_manager *m = ctx;
	struct awg_mgr_msg reply = { .kind = AWG_MGR_REPLY, .code = req->code, .seq = req->seq };
	struct call k = { .m = m, .c = c, .req = req, .reply = &reply };
	char why[AWG_MGR_ERROR_MAX + 1] = "";
	enum awg_authz_verdict v;

	k.role = awg_authz_role(c->uid, m->policy_path, why, sizeof(why));
	v = awg_authz_check(k.role, req->code, k.role == AWG_MGR_ROLE_NONE ? NULL : why,
			    k.role == AWG_MGR_ROLE_NONE ? 0 : sizeof(why));
	if (v == AWG_AUTHZ_DENY) {
		awg_manager_log(m, "refused %s from uid %u (pid %ld): %s",
				awg_mgr_method_name(req->code), (unsigned)c->uid, (long)c->pid, why);
		refuse(&k, EACCES, "%s", why);
		/* Someone with no role at all gets the sentence, then the connection ends. */
		if (k.role == AWG_MGR_ROLE_NONE)
			awg_server_hangup(c);
		goto out;
	}
	k.redact = v == AWG_AUTHZ_REDACT;
	if (m->quitting && req->code != AWG_MGR_QUIT) {
		refuse(&k, ESHUTDOWN, "the manager is shutting down");
		goto out;
	}
	switch (req->code) {
	case AWG_MGR_STORED_CONFIG: stored_config(&k); break;
	case AWG_MGR_RUNTIME_CONFIG: runtime_config(&k); break;
	case AWG_MGR_START: start(&k); break;
	case AWG_MGR_STOP: stop(&k); break;
	case AWG_MGR_WAIT_FOR_STOP: wait_for_stop(&k); break;
	case AWG_MGR_DELETE: delete(&k); break;
	case AWG_MGR_STATE: state(&k); break;
	case AWG_MGR_GLOBAL_STATE:
		reply.state = (uint8_t)awg_sup_global(m->sup);
		ok(&k, -1);
		break;
	case AWG_MGR_CREATE: create(&k); break;
	case AWG_MGR_TUNNELS: tunnels(&k); break;
	case AWG_MGR_QUIT: quit(&k); break;
	case AWG_MGR_UPDATE_STATE:
		reply.state = (uint8_t)awg_updater_state(m->updater);
		ok(&k, -1);
		break;
	case AWG_MGR_UPDATE: {
		int ret = awg_updater_start(m->updater, why, sizeof(why));

		if (ret < 0)
			refuse(&k, (uint32_t)-ret, "%s", why);
		else
			ok(&k, -1);
		if (!ret)
			awg_manager_log(m, "update requested by uid %u", (unsigned)c->uid);
		break;
	}
	case AWG_MGR_SUBSCRIBE:
		c->subscribed = req->flag;
		ok(&k, -1);
		break;
	case AWG_MGR_LOG_FD: log_fd(&k); break;
	case AWG_MGR_ROLE:
		reply.state = (uint8_t)k.role;
		reply.value = (uint32_t)c->uid;
		ok(&k, -1);
		break;
	default:
		refuse(&k, ENOSYS, "unknown method %u", req->code);
	}
out:
	awg_mgr_msg_free(&reply);
}

void awg_methods_changed(struct awg_manager *m, const char *name, enum awg_mgr_state st,
			 const char *error)
{
	struct awg_mgr_msg ev = { .kind = AWG_MGR_EVENT, .code = AWG_MGR_EV_TUNNEL_CHANGE,
				  .state = (uint8_t)st };
	struct awg_waiter *done = NULL;

	snprintf(ev.name, sizeof(ev.name), "%s", name);
	snprintf(ev.error, sizeof(ev.error), "%s", error ? error : "");
	ev.global_state = (uint8_t)awg_sup_global(m->sup);
	awg_server_broadcast(m->server, &ev);
	if (st != AWG_MGR_STOPPED)
		return;
	/* Take the matching waiters off the list first: replying must not meet a list in flux. */
	for (struct awg_waiter **pp = &m->waiters; *pp;) {
		struct awg_waiter *w = *pp;

		if (strcmp(w->name, name)) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		w->next = done;
		done = w;
	}
	while (done) {
		struct awg_waiter *w = done;
		struct awg_mgr_msg r = { .kind = AWG_MGR_REPLY, .code = AWG_MGR_WAIT_FOR_STOP,
					 .seq = w->seq };

		done = w->next;
		awg_server_reply_to(m->server, w->client, &r);
		free(w);
	}
}
