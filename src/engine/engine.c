// SPDX-License-Identifier: MIT
/*
 * Owns a running interface: the event loop, the packet path between TUN, device and UDP, and
 * the mapping between the UAPI configuration model and the protocol device.
 */
#include "engine.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "crypto.h"
#include "log.h"
#include "sysenv.h"
#include "uapi.h"

#define DEFAULT_SOCKET_DIR "/var/run/amneziawg"
#define WG_SOCKET_DIR "/var/run/wireguard"
#define DEFAULT_MTU 1420
/* Packets read from the TUN per wake-up before the loop looks at other fds again. */
#define TUN_BATCH 64
#define TUN_BUF 65536

enum source_kind {
	SRC_TUN,
	SRC_UDP4,
	SRC_UDP6,
	SRC_LISTEN,
	SRC_CONN,
	SRC_SIGNAL,
	SRC_INOTIFY,
};

/* What an epoll event points to. */
struct source {
	enum source_kind kind;
	unsigned index;			/* SRC_LISTEN: listener number */
	struct awg_ipc_conn *conn;	/* SRC_CONN */
};

struct awg_engine {
	const struct awg_env *env;
	struct awg_conf conf;		/* the configuration as UAPI sees it */
	struct awg_device *dev;
	struct awg_tun tun;
	struct awg_udp udp;
	struct awg_udp_batch rx, tx4, tx6;
	struct awg_ipc ipc;
	int epfd, sigfd, inofd;
	bool stop;
	/* What was last pushed into the device, to apply only changes. */
	uint8_t applied_key[AWG_KEY_LEN];
	bool has_applied_key;
	struct awg_obfs_params applied_obfs;
	char *applied_ispec[AWG_ISPEC_SLOTS];
	uint8_t *tunbuf;
	struct source src_tun, src_udp4, src_udp6, src_sig, src_ino;
	struct source src_listen[AWG_IPC_MAX_LISTEN];
	struct source *src_conn[AWG_IPC_MAX_CONNS];
};

const char *awg_engine_ifname(const struct awg_engine *e)
{
	return e->tun.name;
}

/* ---- device callbacks: the packet path ---- */

static void flush_tx(struct awg_engine *e)
{
	if (e->tx4.n)
		awg_udp_flush(e->udp.fd4, &e->tx4);
	if (e->tx6.n)
		awg_udp_flush(e->udp.fd6, &e->tx6);
}

static void dev_send(void *ctx, struct awg_peer *peer, const struct awg_udp_addr *dst,
		     const uint8_t *dgram, size_t len)
{
	struct awg_engine *e = ctx;
	struct awg_udp_batch *b = dst->family == AWG_AF_INET ? &e->tx4 : &e->tx6;
	int fd = dst->family == AWG_AF_INET ? e->udp.fd4 : e->udp.fd6;

	(void)peer;
	if (fd < 0 || !dst->family)
		return;
	if (awg_udp_queue(b, dst, dgram, len))
		awg_udp_flush(fd, b);
}

static void dev_deliver(void *ctx, struct awg_peer *peer, const uint8_t *pkt, size_t len)
{
	struct awg_engine *e = ctx;

	(void)peer;
	/* A full TUN queue drops the packet, as a NIC would; TCP recovers. */
	if (write(e->tun.fd, pkt, len) < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		awg_info("TUN write: %s", strerror(errno));
}

static void dev_session(void *ctx, struct awg_peer *peer)
{
	char b64[AWG_CRYPTO_KEY_B64_LEN + 1];

	(void)ctx;
	if (awg_log_level() < AWG_LOG_VERBOSE)
		return;
	awg_key_to_base64(b64, peer->public_key);
	awg_info("peer %.8s...: session established", b64);
}

static const struct awg_device_ops dev_ops = {
	.send = dev_send, .deliver = dev_deliver, .session = dev_session,
};

static void on_tun(struct awg_engine *e)
{
	for (unsigned i = 0; i < TUN_BATCH; i++) {
		ssize_t n = read(e->tun.fd, e->tunbuf, TUN_BUF);
		struct awg_peer *peer;

		if (n <= 0)
			break;
		peer = awg_device_route(e->dev, e->tunbuf, (size_t)n);
		if (peer)
			awg_device_send_packet(e->dev, peer, e->tunbuf, (size_t)n);
	}
	flush_tx(e);
}

static void on_udp(struct awg_engine *e, int fd)
{
	/* A few batches per wake-up, so a flood on one socket cannot starve the rest. */
	for (int round = 0; round < 4; round++) {
		int n = awg_udp_recv(fd, &e->rx);

		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			struct awg_udp_addr src;
			size_t len;
			uint8_t *data = awg_udp_batch_data(&e->rx, (unsigned)i, &len);

			/* Empty datagrams (Go's junk bug) are skipped; the batch goes on. */
			if (!len)
				continue;
			awg_udp_batch_src(&e->rx, (unsigned)i, &src);
			awg_device_receive(e->dev, data, len, &src);
		}
		if (n < AWG_UDP_BATCH)
			break;
	}
	flush_tx(e);
}

/* ---- configuration model <-> device ---- */

static void udp_addr_from_endpoint(struct awg_udp_addr *a, const struct awg_endpoint *ep)
{
	memset(a, 0, sizeof(*a));
	if (ep->ip.family == AWG_FAMILY_INET) {
		a->family = AWG_AF_INET;
		memcpy(a->addr, ep->ip.addr, 4);
	} else if (ep->ip.family == AWG_FAMILY_INET6) {
		a->family = AWG_AF_INET6;
		memcpy(a->addr, ep->ip.addr, 16);
	}
	a->port = ep->port;
}

static void endpoint_from_udp_addr(struct awg_endpoint *ep, const struct awg_udp_addr *a)
{
	memset(ep, 0, sizeof(*ep));
	ep->ip.family = a->family == AWG_AF_INET ? AWG_FAMILY_INET : AWG_FAMILY_INET6;
	memcpy(ep->ip.addr, a->addr, a->family == AWG_AF_INET ? 4 : 16);
	ep->port = a->port;
	awg_format_ipaddr(ep->host, sizeof(ep->host), &ep->ip);
}

/* Copies what the device learned (roaming endpoints, counters, handshakes) into the model. */
static void refresh_conf(struct awg_engine *e)
{
	for (size_t i = 0; i < e->conf.n_peers; i++) {
		struct awg_conf_peer *p = &e->conf.peers[i];
		struct awg_peer *dp = awg_device_peer_find(e->dev, p->public_key);

		if (!dp)
			continue;
		if (dp->endpoint.family) {
			endpoint_from_udp_addr(&p->endpoint, &dp->endpoint);
			p->flags |= AWG_PEER_HAS_ENDPOINT;
		}
		p->rx_bytes = dp->rx_bytes;
		p->tx_bytes = dp->tx_bytes;
		p->last_handshake_sec = (int64_t)(dp->last_handshake_wall_ns / 1000000000u);
		p->last_handshake_nsec = (int64_t)(dp->last_handshake_wall_ns % 1000000000u);
	}
	e->conf.listen_port = e->udp.port;
	if (e->udp.port)
		e->conf.has |= AWG_CONF_HAS_LISTEN_PORT;
}

static void sync_private_key(struct awg_engine *e)
{
	bool want = (e->conf.has & AWG_CONF_HAS_PRIVATE_KEY) &&
		    !awg_is_zero(e->conf.private_key, AWG_KEY_LEN);

	if (want == e->has_applied_key &&
	    (!want || awg_equal(e->applied_key, e->conf.private_key, AWG_KEY_LEN)))
		return;
	if (awg_device_set_private_key(e->dev, want ? e->conf.private_key : NULL) < 0) {
		awg_err("cannot use the private key");
		return;
	}
	memcpy(e->applied_key, e->conf.private_key, AWG_KEY_LEN);
	e->has_applied_key = want;
}

static bool ispecs_changed(const struct awg_engine *e)
{
	for (int i = 0; i < AWG_ISPEC_SLOTS; i++) {
		const char *a = e->applied_ispec[i], *b = e->conf.ispec[i];

		if (!a != !b || (a && strcmp(a, b)))
			return true;
	}
	return false;
}

static void sync_obfs(struct awg_engine *e)
{
	struct awg_parse_error err = { 0 };
	struct awg_obfs *o;

	if (!memcmp(&e->applied_obfs, &e->conf.obfs, sizeof(e->conf.obfs)) && !ispecs_changed(e))
		return;
	if (awg_obfs_new(&e->conf.obfs, (const char *const *)e->conf.ispec, &o, &err) < 0) {
		/* UAPI validated the group already; this only fails on memory. */
		awg_err("cannot apply the AmneziaWG parameters: %s", err.msg);
		return;
	}
	awg_device_set_obfs(e->dev, o);
	e->applied_obfs = e->conf.obfs;
	for (int i = 0; i < AWG_ISPEC_SLOTS; i++) {
		free(e->applied_ispec[i]);
		e->applied_ispec[i] = e->conf.ispec[i] ? strdup(e->conf.ispec[i]) : NULL;
	}
}

static void sync_allowed_ips(struct awg_engine *e, struct awg_peer *dp,
			     const struct awg_conf_peer *p)
{
	awg_allowedips_remove_by_peer(&e->dev->allowedips, dp);
	for (size_t i = 0; i < p->n_allowed_ips; i++) {
		const struct awg_cidr *c = &p->allowed_ips[i];
		int family = c->family == AWG_FAMILY_INET ? AWG_AF_INET : AWG_AF_INET6;

		if (awg_device_peer_allow(e->dev, dp, family, c->addr, c->cidr) < 0)
			awg_err("cannot add an allowed IP: out of memory");
	}
}

static void sync_peer(struct awg_engine *e, const struct awg_conf_peer *p)
{
	struct awg_peer *dp = awg_device_peer_find(e->dev, p->public_key);
	const uint8_t *psk = (p->flags & AWG_PEER_HAS_PRESHARED_KEY) ? p->preshared_key : NULL;
	struct awg_udp_addr ep;

	if (!dp && awg_device_peer_add(e->dev, p->public_key, psk, &dp) < 0) {
		awg_err("cannot add a peer");
		return;
	}
	awg_noise_handshake_set_psk(&dp->handshake, psk);
	if ((p->flags & AWG_PEER_HAS_ENDPOINT) && p->endpoint.ip.family) {
		udp_addr_from_endpoint(&ep, &p->endpoint);
		if (memcmp(&ep, &dp->endpoint, sizeof(ep))) {
			dp->endpoint = ep;
			dp->udp_window = AWG_OBFS_DEFAULT_UDP_WINDOW;
		}
	}
	sync_allowed_ips(e, dp, p);
	if (memcmp(&p->keepalive, &dp->persistent_keepalive, sizeof(p->keepalive)))
		awg_device_peer_set_keepalive(e->dev, dp, p->keepalive);
}

/* Makes the device match the model after a UAPI set. */
static void sync_device(struct awg_engine *e)
{
	awg_tun_refresh_mtu(&e->tun);
	e->dev->mtu = e->tun.mtu;
	sync_private_key(e);
	sync_obfs(e);
	awg_device_set_timing(e->dev, &e->conf.timing);
	for (size_t i = 0; i < e->conf.n_peers; i++)
		sync_peer(e, &e->conf.peers[i]);
	/* Peers the model no longer has (replace_peers, remove, key change). */
	for (size_t i = e->dev->num_peers; i-- > 0;) {
		struct awg_peer *dp = e->dev->peers[i];

		if (!awg_conf_peer_find(&e->conf, dp->public_key))
			awg_device_peer_remove(e->dev, dp);
	}
	flush_tx(e);
}

/* ---- UAPI ---- */

static int watch_fd(struct awg_engine *e, int fd, struct source *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	return 0;
}

static int watch_udp(struct awg_engine *e)
{
	int ret = 0;

	if (e->udp.fd4 >= 0)
		ret = watch_fd(e, e->udp.fd4, &e->src_udp4, EPOLLIN);
	if (!ret && e->udp.fd6 >= 0)
		ret = watch_fd(e, e->udp.fd6, &e->src_udp6, EPOLLIN);
	return ret;
}

static int hook_listen_port(void *ctx, uint16_t port)
{
	struct awg_engine *e = ctx;
	int ret;

	if (port == e->udp.port && port != 0)
		return 0;
	flush_tx(e);
	/* Closing the old sockets removes them from epoll. */
	ret = awg_udp_bind(&e->udp, port);
	if (ret < 0) {
		awg_err("cannot listen on UDP port %u: %s", port, strerror(-ret));
		return -EADDRINUSE;
	}
	if (watch_udp(e) < 0)
		return -EADDRINUSE;
	awg_info("listening on UDP port %u", e->udp.port);
	return 0;
}

static int hook_fwmark(void *ctx, uint32_t mark)
{
	struct awg_engine *e = ctx;

	return awg_udp_set_fwmark(&e->udp, mark) < 0 ? -EADDRINUSE : 0;
}

static void hook_peer_removed(void *ctx, const uint8_t pub[AWG_KEY_LEN])
{
	struct awg_engine *e = ctx;
	struct awg_peer *dp = awg_device_peer_find(e->dev, pub);

	if (dp)
		awg_device_peer_remove(e->dev, dp);
}

static const struct awg_uapi_hooks uapi_hooks = {
	.listen_port = hook_listen_port,
	.fwmark = hook_fwmark,
	.peer_removed = hook_peer_removed,
};

static char *errno_reply(int err, size_t *len)
{
	char *r = malloc(32);

	if (r)
		*len = (size_t)snprintf(r, 32, "errno=%d\n\n", err);
	return r;
}

static void uapi_request(void *ctx, enum awg_uapi_op op, const char *payload, size_t len,
			 char **reply, size_t *reply_len)
{
	struct awg_engine *e = ctx;
	struct awg_parse_error err = { 0 };
	int ret;

	refresh_conf(e);
	if (op == AWG_UAPI_OP_GET) {
		if (awg_uapi_get(&e->conf, reply, reply_len) < 0)
			*reply = errno_reply(-ENOMEM, reply_len);
		return;
	}
	ret = awg_uapi_set(&e->conf, payload, len, &uapi_hooks, e, &err);
	if (ret < 0)
		awg_err("UAPI set failed (errno %d): %s", ret, err.msg);
	/* Keys applied before a failing line stay applied (spec §6.2): sync either way. */
	sync_device(e);
	*reply = errno_reply(ret, reply_len);
}

static void conn_opened(void *ctx, struct awg_ipc_conn *conn)
{
	struct awg_engine *e = ctx;
	struct source *src = calloc(1, sizeof(*src));
	unsigned slot;

	for (slot = 0; slot < AWG_IPC_MAX_CONNS && e->src_conn[slot]; slot++)
		;
	if (!src || slot == AWG_IPC_MAX_CONNS) {
		free(src);
		awg_ipc_conn_free(&e->ipc, conn);
		return;
	}
	src->kind = SRC_CONN;
	src->conn = conn;
	e->src_conn[slot] = src;
	if (watch_fd(e, conn->fd, src, EPOLLIN | EPOLLRDHUP) < 0)
		awg_err("epoll: %s", strerror(errno));
}

static void conn_closed(struct awg_engine *e, struct source *src)
{
	for (unsigned i = 0; i < AWG_IPC_MAX_CONNS; i++)
		if (e->src_conn[i] == src)
			e->src_conn[i] = NULL;
	awg_ipc_conn_free(&e->ipc, src->conn);
	free(src);
}

static void on_conn(struct awg_engine *e, struct source *src, uint32_t events)
{
	struct epoll_event ev = { .data.ptr = src };
	int r;

	if (events & EPOLLOUT)
		r = awg_ipc_conn_output(&e->ipc, src->conn);
	else
		r = awg_ipc_conn_input(&e->ipc, src->conn);
	if (r < 0) {
		conn_closed(e, src);
		return;
	}
	ev.events = r == 1 ? EPOLLOUT : EPOLLIN | EPOLLRDHUP;
	epoll_ctl(e->epfd, EPOLL_CTL_MOD, src->conn->fd, &ev);
}

/* The daemon ends when its UAPI socket file is removed (like amneziawg-go). */
static void on_inotify(struct awg_engine *e)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n = read(e->inofd, buf, sizeof(buf));
	char want[IFNAMSIZ + 8];

	snprintf(want, sizeof(want), "%s.sock", e->tun.name);
	for (ssize_t off = 0; off < n;) {
		const struct inotify_event *ev = (const struct inotify_event *)(buf + off);

		if (ev->len && !strcmp(ev->name, want)) {
			awg_info("UAPI socket removed: shutting down");
			e->stop = true;
		}
		off += (ssize_t)(sizeof(*ev) + ev->len);
	}
}

/* ---- set-up and loop ---- */

static int setup_signals(struct awg_engine *e)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	e->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (e->sigfd < 0)
		return -errno;
	e->src_sig.kind = SRC_SIGNAL;
	return watch_fd(e, e->sigfd, &e->src_sig, EPOLLIN);
}

static int setup_ipc(struct awg_engine *e, const struct awg_engine_options *opt)
{
	const char *dir = opt->socket_dir ? opt->socket_dir : DEFAULT_SOCKET_DIR;
	int ret;

	awg_ipc_init(&e->ipc, uapi_request, e);
	if (opt->uapi_fd >= 0)
		ret = awg_ipc_listen_fd(&e->ipc, opt->uapi_fd);
	else
		ret = awg_ipc_listen_path(&e->ipc, dir, e->tun.name);
	if (ret < 0) {
		awg_err("UAPI socket %s/%s.sock: %s", dir, e->tun.name, strerror(-ret));
		return ret;
	}
	if (opt->wg_socket && (ret = awg_ipc_listen_path(&e->ipc, WG_SOCKET_DIR, e->tun.name)) < 0) {
		awg_err("UAPI socket %s/%s.sock: %s", WG_SOCKET_DIR, e->tun.name, strerror(-ret));
		return ret;
	}
	e->inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (e->inofd < 0)
		return -errno;
	for (unsigned i = 0; i < e->ipc.n_listen; i++) {
		char d[108], *slash;

		e->src_listen[i] = (struct source){ .kind = SRC_LISTEN, .index = i };
		if ((ret = watch_fd(e, e->ipc.listen_fd[i], &e->src_listen[i], EPOLLIN)) < 0)
			return ret;
		if (!e->ipc.path[i][0])
			continue;
		snprintf(d, sizeof(d), "%s", e->ipc.path[i]);
		slash = strrchr(d, '/');
		if (slash)
			*slash = 0;
		inotify_add_watch(e->inofd, d, IN_DELETE | IN_MOVED_FROM);
	}
	e->src_ino.kind = SRC_INOTIFY;
	return watch_fd(e, e->inofd, &e->src_ino, EPOLLIN);
}

int awg_engine_new(const struct awg_engine_options *opt, struct awg_engine **out)
{
	struct awg_engine *e;
	int ret;

	if (awg_crypto_init() < 0) {
		awg_err("cannot load libcrypto/libsodium algorithms");
		return -ENOSYS;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->env = awg_sysenv();
	e->epfd = e->sigfd = e->inofd = -1;
	e->tun.fd = -1;
	awg_conf_init(&e->conf);
	awg_obfs_params_init(&e->applied_obfs);
	awg_obfs_params_init(&e->conf.obfs);
	awg_udp_init(&e->udp);
	awg_ipc_init(&e->ipc, uapi_request, e);
	e->tunbuf = malloc(TUN_BUF);
	ret = e->tunbuf ? 0 : -ENOMEM;
	if (!ret)
		ret = awg_udp_batch_init(&e->rx);
	if (!ret)
		ret = awg_udp_batch_init(&e->tx4);
	if (!ret)
		ret = awg_udp_batch_init(&e->tx6);
	if (!ret)
		ret = awg_device_new(e->env, &dev_ops, e, &e->dev);
	if (ret < 0)
		goto err;
	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (e->epfd < 0) {
		ret = -errno;
		goto err;
	}
	ret = awg_tun_open(&e->tun, opt->ifname, opt->tun_fd, opt->mtu ? opt->mtu : DEFAULT_MTU);
	if (ret < 0) {
		awg_err("cannot create TUN interface %s: %s", opt->ifname, strerror(-ret));
		goto err;
	}
	e->dev->mtu = e->tun.mtu;
	e->src_tun.kind = SRC_TUN;
	e->src_udp4.kind = SRC_UDP4;
	e->src_udp6.kind = SRC_UDP6;
	if ((ret = watch_fd(e, e->tun.fd, &e->src_tun, EPOLLIN)) < 0)
		goto err;
	/* Like amneziawg-go once the interface is up: a random port until one is configured. */
	if ((ret = awg_udp_bind(&e->udp, 0)) < 0 || (ret = watch_udp(e)) < 0) {
		awg_err("cannot open UDP sockets: %s", strerror(-ret));
		goto err;
	}
	if ((ret = setup_signals(e)) < 0 || (ret = setup_ipc(e, opt)) < 0)
		goto err;
	awg_info("interface %s up (MTU %u), UDP port %u", e->tun.name, e->tun.mtu, e->udp.port);
	*out = e;
	return 0;
err:
	awg_engine_free(e);
	return ret;
}

void awg_engine_free(struct awg_engine *e)
{
	if (!e)
		return;
	for (unsigned i = 0; i < AWG_IPC_MAX_CONNS; i++)
		free(e->src_conn[i]);
	awg_ipc_close(&e->ipc);
	awg_device_free(e->dev);
	awg_udp_close(&e->udp);
	awg_tun_close(&e->tun);
	awg_udp_batch_free(&e->rx);
	awg_udp_batch_free(&e->tx4);
	awg_udp_batch_free(&e->tx6);
	for (int i = 0; i < AWG_ISPEC_SLOTS; i++)
		free(e->applied_ispec[i]);
	awg_conf_free(&e->conf);
	awg_wipe(e->applied_key, sizeof(e->applied_key));
	awg_wipe(&e->applied_obfs, sizeof(e->applied_obfs));
	free(e->tunbuf);
	if (e->epfd >= 0)
		close(e->epfd);
	if (e->sigfd >= 0)
		close(e->sigfd);
	if (e->inofd >= 0)
		close(e->inofd);
	free(e);
}

static int next_timeout_ms(struct awg_engine *e)
{
	uint64_t deadline = awg_device_next_deadline(e->dev), now;

	if (deadline == UINT64_MAX)
		return -1;
	now = awg_env_mono_ns(e->env);
	if (deadline <= now)
		return 0;
	/* Round up: waking early would only spin. */
	return (int)((deadline - now + 999999) / 1000000 > 60000 ? 60000
							       : (deadline - now + 999999) / 1000000);
}

static void dispatch(struct awg_engine *e, struct source *src, uint32_t events)
{
	struct signalfd_siginfo si;

	switch (src->kind) {
	case SRC_TUN:
		on_tun(e);
		break;
	case SRC_UDP4:
		on_udp(e, e->udp.fd4);
		break;
	case SRC_UDP6:
		on_udp(e, e->udp.fd6);
		break;
	case SRC_LISTEN:
		awg_ipc_accept(&e->ipc, src->index, conn_opened, e);
		break;
	case SRC_CONN:
		on_conn(e, src, events);
		break;
	case SRC_SIGNAL:
		if (read(e->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			awg_info("signal %u: shutting down", si.ssi_signo);
			e->stop = true;
		}
		break;
	case SRC_INOTIFY:
		on_inotify(e);
		break;
	}
}

int awg_engine_run(struct awg_engine *e)
{
	struct epoll_event evs[32];

	while (!e->stop) {
		int n = epoll_wait(e->epfd, evs, 32, next_timeout_ms(e));

		if (n < 0 && errno != EINTR) {
			awg_err("epoll_wait: %s", strerror(errno));
			return -errno;
		}
		/* Connection sources can be freed while dispatching; handle them after the rest. */
		for (int i = 0; i < n; i++)
			if (((struct source *)evs[i].data.ptr)->kind != SRC_CONN)
				dispatch(e, evs[i].data.ptr, evs[i].events);
		for (int i = 0; i < n; i++)
			if (((struct source *)evs[i].data.ptr)->kind == SRC_CONN)
				dispatch(e, evs[i].data.ptr, evs[i].events);
		awg_device_expire_timers(e->dev, awg_env_mono_ns(e->env));
		flush_tx(e);
	}
	return 0;
}
