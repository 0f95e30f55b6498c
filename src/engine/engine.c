// SPDX-License-Identifier: MIT
/*
 * Owns a running interface: the two packet threads, the packet path between TUN, device and UDP,
 * and the mapping between the UAPI configuration model and the protocol device.
 *
 * Threads: the main thread reads the TUN (outbound packets), runs timers, UAPI and signals; the
 * receive thread reads the UDP sockets (inbound datagrams) and writes the TUN, and right after
 * that sends what the kernel answered at once, if the main thread is not at the TUN (e->tx_lock
 * decides). The kernel work of each direction (the syscalls) therefore runs on its own core.
 * The device is shared:
 * e->lock protects it, the configuration model and the socket set; each thread takes it only
 * around device calls, never around a syscall that can block, and queues what the device emits
 * in its own per-thread buffers (struct io), which it flushes after unlocking.
 *
 * Packet crypto runs without the lock: the device leaves transport payloads unsealed
 * (send_unsealed) and received ones unopened (awg_device_receive_begin), with a copy of the key,
 * and the thread seals or opens a whole batch after unlocking, spread over the crypto pool's
 * workers. Ordering per peer is kept because each direction has one thread at a time (the
 * receive thread; whoever holds e->tx_lock), which sends or finishes its batch in order once the
 * pool is done with it.
 */
#include "engine.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "crypto.h"
#include "cryptopool.h"
#include "log.h"
#include "offload.h"
#include "sandbox.h"
#include "sysenv.h"
#include "uapi.h"

#define DEFAULT_SOCKET_DIR "/var/run/amneziawg"
#define WG_SOCKET_DIR "/var/run/wireguard"
#define DEFAULT_MTU 1420
/* Busy-poll window of a busy packet thread (see wait_events). */
#define DEFAULT_POLL_US 100
/* Packets read from the TUN per wake-up before the loop looks at other fds again. */
#define TUN_BATCH 64
/* One TUN read or write: a vnet header and a packet of up to 64 KiB. */
#define TUN_BUF (AWG_VNET_HDR_LEN + AWG_OFFLOAD_MAX_PKT)
/* Flows GRO keeps open per receive batch. */
#define GRO_FLOWS 8

/* Decrypted packets waiting to be written to the TUN, in arrival order. */
#define TUNQ_MAX 64
/* Unsealed datagrams one io can hold: both send batches full. */
#define SEAL_MAX (2 * AWG_UDP_BATCH)
/* The main thread seals and sends once this many datagrams wait (GSO runs stay long). */
#define TX_FLUSH_AT 32
/* Received transport messages opened per unlocked step. */
#define RX_CHUNK 128

enum source_kind {
	SRC_TUN,
	SRC_WAKE,
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

/* A queued datagram whose payload is still to be encrypted (see struct awg_seal). */
struct seal_job {
	uint8_t *payload;		/* inside a send batch slot */
	size_t len;
	uint64_t counter;
	uint8_t key[AWG_KEY_LEN];	/* a copy, wiped once used */
};

/* What one thread has queued while holding the lock, sent after releasing it. */
struct io {
	struct awg_udp_batch tx4, tx6;
	struct seal_job *seal;		/* SEAL_MAX entries; every one refers to tx4 or tx6 */
	unsigned n_seal;
	struct awg_cryptopool *pool;	/* borrowed from the engine */
	uint8_t *tunq;			/* TUNQ_MAX * TUN_BUF bytes (mmap: touched pages only) */
	size_t tunq_len[TUNQ_MAX];
	unsigned tunq_n;
	uint64_t tun_writes;		/* packets written to the TUN so far */
	/* With a vnet-header TUN: coalesces decrypted TCP/UDP packets into super-packets. */
	struct awg_gro gro;
	uint8_t *gro_area;		/* AWG_GRO_AREA_LEN(GRO_FLOWS) bytes */
	bool use_gro;
};

/* The io of the calling thread: device callbacks queue into it. */
static _Thread_local struct io *cur_io;

struct awg_engine {
	const struct awg_env *env;
	pthread_mutex_t lock;		/* protects everything below up to "unlocked" */
	struct awg_conf conf;		/* the configuration as UAPI sees it */
	struct awg_device *dev;
	struct awg_tun tun;
	struct awg_udp udp;
	unsigned udp_gen;		/* bumped when the sockets change */
	int dead_fds[8];		/* replaced sockets, closed by the receive thread */
	unsigned n_dead;
	uint64_t main_deadline;		/* when the main thread plans to wake up */
	uint64_t mtu_checked_ns;		/* last look at the interface MTU */
	struct awg_ipc ipc;
	/* unlocked: */
	struct io main_io, rx_io;
	struct awg_cryptopool *pool;	/* started by awg_engine_run (after a daemon fork) */
	int crypto_threads;		/* the option: -1 auto */
	uint64_t poll_ns;		/* busy-poll window before sleeping (0: off) */
	bool sandbox;			/* enter the seccomp sandbox in awg_engine_run */
	struct awg_udp_batch rx;	/* receive thread only */
	struct awg_rx_job *rx_jobs;	/* receive thread only: RX_CHUNK entries */
	int epfd, sigfd, inofd;
	int main_wake, rx_wake;		/* eventfds */
	int rx_epfd;			/* receive thread only */
	pthread_t rx_thread;
	bool rx_started;
	atomic_bool stop;
	/* What was last pushed into the device, to apply only changes. */
	uint8_t applied_key[AWG_KEY_LEN];
	bool has_applied_key;
	struct awg_obfs_params applied_obfs;
	char *applied_ispec[AWG_ISPEC_SLOTS];
	/*
	 * Held by the thread moving packets from the TUN to UDP (on_tun), read to flush: keeps
	 * the send order of each peer and owns the two buffers below.
	 */
	pthread_mutex_t tx_lock;
	uint8_t *tunbuf;		/* TUN_BATCH reads of TUN_BUF bytes */
	uint8_t *split_scratch;		/* AWG_OFFLOAD_SCRATCH_LEN: segments of a super-packet */
	struct source src_tun, src_sig, src_ino, src_wake;
	struct source src_listen[AWG_IPC_MAX_LISTEN];
	struct source *src_conn[AWG_IPC_MAX_CONNS];
};

const char *awg_engine_ifname(const struct awg_engine *e)
{
	return e->tun.name;
}

/* ---- device callbacks: the packet path ---- */

static int io_init(struct io *io)
{
	int ret = awg_udp_batch_init(&io->tx4);

	if (!ret)
		ret = awg_udp_batch_init(&io->tx6);
	io->seal = calloc(SEAL_MAX, sizeof(*io->seal));
	if (!io->seal)
		ret = -ENOMEM;
	io->tunq = mmap(NULL, (size_t)TUNQ_MAX * TUN_BUF, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (io->tunq == MAP_FAILED) {
		io->tunq = NULL;
		ret = -ENOMEM;
	}
	io->gro_area = mmap(NULL, AWG_GRO_AREA_LEN(GRO_FLOWS), PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (io->gro_area == MAP_FAILED) {
		io->gro_area = NULL;
		ret = -ENOMEM;
	}
	return ret;
}

/* Turns GRO on for a vnet-header TUN (UDP coalescing only when the kernel took USO). */
static int io_use_gro(struct io *io, const struct awg_tun *tun)
{
	io->use_gro = tun->vnet_hdr;
	if (!io->use_gro)
		return 0;
	return awg_gro_init(&io->gro, io->gro_area, AWG_GRO_AREA_LEN(GRO_FLOWS), tun->uso);
}

static void io_free(struct io *io)
{
	awg_udp_batch_free(&io->tx4);
	awg_udp_batch_free(&io->tx6);
	if (io->seal)
		awg_wipe(io->seal, SEAL_MAX * sizeof(*io->seal));
	free(io->seal);
	io->seal = NULL;
	if (io->tunq)
		munmap(io->tunq, (size_t)TUNQ_MAX * TUN_BUF);
	io->tunq = NULL;
	if (io->gro_area)
		munmap(io->gro_area, AWG_GRO_AREA_LEN(GRO_FLOWS));
	io->gro_area = NULL;
}

static void seal_one(void *ctx, unsigned i)
{
	struct seal_job *j = &((struct io *)ctx)->seal[i];

	awg_aead_encrypt(j->payload, j->payload, j->len, NULL, 0, j->counter, j->key);
	awg_wipe(j->key, sizeof(j->key));
}

/* Encrypts every queued payload, on the pool's workers too. Must run before a send. */
static void io_seal(struct io *io)
{
	if (!io->n_seal)
		return;
	awg_cryptopool_for(io->pool, io->n_seal, seal_one, io);
	io->n_seal = 0;
}

/* Sends a full batch; its payloads must be sealed first (they may sit in either batch). */
static void send_full(struct io *io, int fd, struct awg_udp_batch *b)
{
	io_seal(io);
	awg_udp_flush(fd, b);
}

/*
 * A datagram larger than the path MTU is lost every time (amneziawg-go with S4 = 23 at MTU 1420
 * sends 1503-byte datagrams and passes almost nothing): say so plainly, at most every 10 s.
 */
static void report_too_big(struct awg_engine *e, struct awg_udp_batch *b)
{
	static _Atomic uint64_t last_ns;
	uint64_t now = awg_env_mono_ns(e->env), prev = atomic_load(&last_ns);

	if (!b->too_big)
		return;
	if (now - prev >= 10000000000ull && atomic_compare_exchange_strong(&last_ns, &prev, now))
		awg_err("%llu datagram(s) of up to %zu bytes refused by the kernel as too large for "
			"the path (EMSGSIZE): the interface MTU %u plus this configuration's "
			"per-packet overhead does not fit; lower the MTU (awg-tunnel computes one)",
			(unsigned long long)b->too_big, b->too_big_len, e->tun.mtu);
	b->too_big = 0;
	b->too_big_len = 0;
}

/* Sends and writes what io holds. fd4/fd6: the sockets as read under the lock. */
static void io_flush(struct awg_engine *e, struct io *io, int fd4, int fd6)
{
	io_seal(io);
	if (io->tx4.n)
		awg_udp_flush(fd4, &io->tx4);
	if (io->tx6.n)
		awg_udp_flush(fd6, &io->tx6);
	report_too_big(e, &io->tx4);
	report_too_big(e, &io->tx6);
	io->tun_writes += io->tunq_n;
	for (unsigned i = 0; i < io->tunq_n; i++)
		/* A full TUN queue drops the packet, as a NIC would; TCP recovers. */
		if (write(e->tun.fd, io->tunq + (size_t)i * TUN_BUF, io->tunq_len[i]) < 0 &&
		    errno != EAGAIN && errno != EWOULDBLOCK)
			awg_info("TUN write: %s", strerror(errno));
	io->tunq_n = 0;
}

/* Must hold e->lock (the sockets may change otherwise). */
static void flush_tx(struct awg_engine *e)
{
	io_flush(e, cur_io, e->udp.fd4, e->udp.fd6);
}

/* Must hold e->lock: device callbacks run inside device calls. */
static void dev_send(void *ctx, struct awg_peer *peer, const struct awg_udp_addr *dst,
		     const uint8_t *dgram, size_t len)
{
	struct awg_engine *e = ctx;
	struct io *io = cur_io;
	struct awg_udp_batch *b = dst->family == AWG_AF_INET ? &io->tx4 : &io->tx6;
	int fd = dst->family == AWG_AF_INET ? e->udp.fd4 : e->udp.fd6;

	(void)peer;
	if (fd < 0 || !dst->family)
		return;
	/* Runs of equal-sized datagrams to one peer go out as one UDP GSO send. */
	if (!b->gso_refused)
		b->gso = e->udp.gso;
	if (awg_udp_queue(b, dst, dgram, len))
		send_full(io, fd, b);
}

/* Must hold e->lock. A transport datagram to queue now and encrypt after unlocking. */
static void dev_send_unsealed(void *ctx, struct awg_peer *peer, const struct awg_udp_addr *dst,
			      const uint8_t *dgram, size_t len, const struct awg_seal *seal)
{
	struct awg_engine *e = ctx;
	struct io *io = cur_io;
	struct awg_udp_batch *b = dst->family == AWG_AF_INET ? &io->tx4 : &io->tx6;
	int fd = dst->family == AWG_AF_INET ? e->udp.fd4 : e->udp.fd6;
	unsigned slot = b->n;
	struct seal_job *j;
	bool full;

	(void)peer;
	if (fd < 0 || !dst->family)
		return;
	if (!b->gso_refused)
		b->gso = e->udp.gso;
	full = awg_udp_queue(b, dst, dgram, len);
	if (b->n == slot)
		return;		/* not queued (too large); never the case for a full batch */
	j = &io->seal[io->n_seal++];
	j->payload = (uint8_t *)b->iov[slot].iov_base + seal->off;
	j->len = seal->len;
	j->counter = seal->counter;
	memcpy(j->key, seal->key, sizeof(j->key));
	if (full)
		send_full(io, fd, b);
}

/* Queues one TUN write (a frame with vnet header when the TUN has them). Must hold e->lock. */
static void tunq_add(void *ctx, uint8_t *frame, size_t len)
{
	struct awg_engine *e = ctx;
	struct io *io = cur_io;

	if (len > TUN_BUF)
		return;
	if (io->tunq_n == TUNQ_MAX)
		io_flush(e, io, e->udp.fd4, e->udp.fd6);
	memcpy(io->tunq + (size_t)io->tunq_n * TUN_BUF, frame, len);
	io->tunq_len[io->tunq_n++] = len;
}

static void dev_deliver(void *ctx, struct awg_peer *peer, const uint8_t *pkt, size_t len)
{
	struct io *io = cur_io;

	(void)peer;
	if (io->use_gro)
		awg_gro_add(&io->gro, pkt, len, tunq_add, ctx);
	else
		tunq_add(ctx, (uint8_t *)pkt, len);
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

/* Must hold e->lock. The next send slot for dst: the device builds the datagram right there. */
static uint8_t *dev_tx_buf(void *ctx, struct awg_peer *peer, const struct awg_udp_addr *dst,
			   size_t *cap)
{
	struct awg_engine *e = ctx;
	struct io *io = cur_io;

	(void)peer;
	if ((dst->family == AWG_AF_INET ? e->udp.fd4 : e->udp.fd6) < 0 || !dst->family)
		return NULL;
	*cap = AWG_UDP_SLOT;
	return awg_udp_next_slot(dst->family == AWG_AF_INET ? &io->tx4 : &io->tx6);
}

static const struct awg_device_ops dev_ops = {
	.send = dev_send, .send_unsealed = dev_send_unsealed, .tx_buf = dev_tx_buf,
	.deliver = dev_deliver, .session = dev_session,
};

/* Must hold e->lock: one outbound IP packet to the peer that routes it. */
static void send_one(void *ctx, uint8_t *pkt, size_t len)
{
	struct awg_engine *e = ctx;
	struct awg_peer *peer = awg_device_route(e->dev, pkt, len);

	if (peer)
		awg_device_send_packet(e->dev, peer, pkt, len);
}

/*
 * Must hold e->tx_lock (not e->lock). Reads a batch of outbound packets without the device
 * lock; frame by frame, routes and frames them under it; seals and sends without it whenever
 * enough datagrams wait. Usually the main thread; see rx_try_tun for the other caller.
 */
static void on_tun(struct awg_engine *e)
{
	size_t lens[TUN_BATCH];
	unsigned n = 0;
	int fd4, fd6;

	for (; n < TUN_BATCH; n++) {
		ssize_t r = read(e->tun.fd, e->tunbuf + (size_t)n * TUN_BUF, TUN_BUF);

		if (r <= 0)
			break;
		lens[n] = (size_t)r;
	}
	for (unsigned i = 0; i < n; i++) {
		uint8_t *frame = e->tunbuf + (size_t)i * TUN_BUF;
		struct io *io = cur_io;

		pthread_mutex_lock(&e->lock);
		awg_sysenv_clock_hold();
		/* A super-packet from TSO/USO becomes MTU-sized packets, each sent on. */
		if (e->tun.vnet_hdr)
			awg_offload_split(frame, lens[i], e->split_scratch,
					  AWG_OFFLOAD_SCRATCH_LEN, send_one, e);
		else
			send_one(e, frame, lens[i]);
		awg_sysenv_clock_release();
		fd4 = e->udp.fd4, fd6 = e->udp.fd6;
		pthread_mutex_unlock(&e->lock);
		/* Sockets replaced meanwhile stay open until the receive thread retires them. */
		if (i == n - 1 || io->tx4.n + io->tx6.n >= TX_FLUSH_AT)
			io_flush(e, io, fd4, fd6);
	}
}

static void open_one(void *ctx, unsigned i)
{
	awg_device_rx_open(&((struct awg_rx_job *)ctx)[i]);
}

/*
 * Receive thread, must hold e->lock: the first step of every datagram of the received batch
 * from *next on, until RX_CHUNK transport messages wait to be opened. Returns how many do.
 */
static unsigned rx_begin(struct awg_engine *e, unsigned n, unsigned *next)
{
	unsigned k = 0;

	for (; *next < n && k < RX_CHUNK; (*next)++) {
		struct awg_udp_addr src;
		size_t len;
		uint8_t *data = awg_udp_batch_data(&e->rx, *next, &len);

		/* Empty datagrams (Go's junk bug) are skipped; the batch goes on. */
		if (!len)
			continue;
		awg_udp_batch_src(&e->rx, *next, &src);
		if (awg_device_receive_begin(e->dev, data, len, &src, &e->rx_jobs[k]) == 1)
			k++;
	}
	return k;
}

/*
 * Receive thread: one batch from fd. The device sees it in chunks under the lock (classify
 * and find the keys; then, after the chunk was opened without the lock, check and deliver in
 * arrival order), and the decrypted packets are written after unlocking.
 */
static int rx_batch(struct awg_engine *e, int fd)
{
	uint64_t deadline;
	int n = awg_udp_recv(fd, &e->rx), fd4, fd6;
	unsigned next = 0, k;
	bool wake;

	if (n <= 0)
		return n;
	pthread_mutex_lock(&e->lock);
	for (;;) {
		awg_sysenv_clock_hold();
		k = rx_begin(e, (unsigned)n, &next);
		awg_sysenv_clock_release();
		if (!k)
			break;
		pthread_mutex_unlock(&e->lock);
		awg_cryptopool_for(e->pool, k, open_one, e->rx_jobs);
		pthread_mutex_lock(&e->lock);
		awg_sysenv_clock_hold();
		for (unsigned j = 0; j < k; j++)
			awg_device_receive_finish(e->dev, &e->rx_jobs[j]);
		awg_sysenv_clock_release();
	}
	if (e->rx_io.use_gro)
		awg_gro_flush(&e->rx_io.gro, tunq_add, e);
	/* A timer armed here may be due before the main thread's planned wake-up. */
	deadline = awg_device_next_deadline(e->dev);
	wake = deadline < e->main_deadline;
	if (wake)
		e->main_deadline = deadline;
	fd4 = e->udp.fd4, fd6 = e->udp.fd6;
	pthread_mutex_unlock(&e->lock);
	io_flush(e, &e->rx_io, fd4, fd6);
	if (wake)
		eventfd_write(e->main_wake, 1);
	return n;
}

/* ---- configuration model <-> device ---- */

/* The config model and the core share family values and the 16-byte address layout. */
_Static_assert(AWG_FAMILY_INET == AWG_AF_INET && AWG_FAMILY_INET6 == AWG_AF_INET6,
	       "config and core family values");

static void udp_addr_from_endpoint(struct awg_udp_addr *a, const struct awg_endpoint *ep)
{
	memset(a, 0, sizeof(*a));
	a->family = ep->ip.family;
	memcpy(a->addr, ep->ip.addr, sizeof(a->addr));
	a->port = ep->port;
}

static void endpoint_from_udp_addr(struct awg_endpoint *ep, const struct awg_udp_addr *a)
{
	memset(ep, 0, sizeof(*ep));
	ep->ip.family = (uint8_t)a->family;
	memcpy(ep->ip.addr, a->addr, sizeof(ep->ip.addr));
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
	/* Handed-over sockets carry the parent's mark, whatever UAPI was told. */
	if (e->udp.adopted && e->udp.fwmark) {
		e->conf.fwmark = e->udp.fwmark;
		e->conf.has |= AWG_CONF_HAS_FWMARK;
	}
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

		if (awg_device_peer_allow(e->dev, dp, c->family, c->addr, c->cidr) < 0)
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

/*
 * Must hold e->lock. The receive thread may be using the old sockets: they are handed to it to
 * close (retire) instead of being closed here.
 */
static void retire_fd(struct awg_engine *e, int fd)
{
	if (fd < 0)
		return;
	if (e->n_dead < sizeof(e->dead_fds) / sizeof(e->dead_fds[0]))
		e->dead_fds[e->n_dead++] = fd;
	else
		close(fd);	/* cannot happen: the receive thread empties the list at once */
}

static int hook_listen_port(void *ctx, uint16_t port)
{
	struct awg_engine *e = ctx;
	int old4 = e->udp.fd4, old6 = e->udp.fd6, ret;

	if (port == e->udp.port && port != 0)
		return 0;
	/* Sockets from the parent (awg-tunnel) stay: it chose the port and holds the privilege. */
	if (e->udp.adopted) {
		awg_err("listen_port=%u refused: the sockets were handed over bound to port %u",
			port, e->udp.port);
		return -EADDRINUSE;
	}
	flush_tx(e);
	e->udp.fd4 = e->udp.fd6 = -1;
	ret = awg_udp_bind(&e->udp, port);
	if (ret < 0) {
		e->udp.fd4 = old4, e->udp.fd6 = old6;
		awg_err("cannot listen on UDP port %u: %s", port, strerror(-ret));
		return -EADDRINUSE;
	}
	retire_fd(e, old4);
	retire_fd(e, old6);
	e->udp_gen++;
	eventfd_write(e->rx_wake, 1);
	awg_info("listening on UDP port %u", e->udp.port);
	return 0;
}

static int hook_fwmark(void *ctx, uint32_t mark)
{
	struct awg_engine *e = ctx;

	if (e->udp.adopted && mark == e->udp.fwmark)
		return 0;

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

	pthread_mutex_lock(&e->lock);
	refresh_conf(e);
	if (op == AWG_UAPI_OP_GET) {
		if (awg_uapi_get(&e->conf, reply, reply_len) < 0)
			*reply = errno_reply(-ENOMEM, reply_len);
		pthread_mutex_unlock(&e->lock);
		return;
	}
	ret = awg_uapi_set(&e->conf, payload, len, &uapi_hooks, e, &err);
	if (ret < 0)
		awg_err("UAPI set failed (errno %d): %s", ret, err.msg);
	/* Keys applied before a failing line stay applied (spec §6.2): sync either way. */
	sync_device(e);
	pthread_mutex_unlock(&e->lock);
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
			atomic_store(&e->stop, true);
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
	sigaddset(&set, SIGUSR1);
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

/*
 * The crypto workers. Auto: one per core beyond the two the packet threads use. On two cores a
 * worker only competes with them: bench/throughput.sh measured 15% less throughput with one.
 */
static int setup_pool(struct awg_engine *e, int threads)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int ret;

	if (threads < 0)
		threads = cpus > 2 ? (int)(cpus - 2) : 0;
	ret = awg_cryptopool_new((unsigned)threads, &e->pool);
	if (ret < 0) {
		awg_err("cannot start crypto threads: %s", strerror(-ret));
		return ret;
	}
	e->main_io.pool = e->rx_io.pool = e->pool;
	awg_info("crypto threads: %u besides the 2 packet threads", awg_cryptopool_workers(e->pool));
	return 0;
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
	e->crypto_threads = opt->crypto_threads;
	e->sandbox = opt->sandbox;
	e->poll_ns = (uint64_t)(opt->poll_us < 0 ? DEFAULT_POLL_US : opt->poll_us) * 1000;
	e->epfd = e->sigfd = e->inofd = -1;
	e->tun.fd = -1;
	awg_conf_init(&e->conf);
	awg_obfs_params_init(&e->applied_obfs);
	awg_obfs_params_init(&e->conf.obfs);
	awg_udp_init(&e->udp);
	awg_ipc_init(&e->ipc, uapi_request, e);
	pthread_mutex_init(&e->lock, NULL);
	pthread_mutex_init(&e->tx_lock, NULL);
	e->main_wake = e->rx_wake = e->rx_epfd = -1;
	e->tunbuf = mmap(NULL, (size_t)TUN_BATCH * TUN_BUF, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (e->tunbuf == MAP_FAILED)
		e->tunbuf = NULL;
	e->split_scratch = malloc(AWG_OFFLOAD_SCRATCH_LEN);
	ret = e->tunbuf && e->split_scratch ? 0 : -ENOMEM;
	e->rx_jobs = calloc(RX_CHUNK, sizeof(*e->rx_jobs));
	if (!e->rx_jobs)
		ret = -ENOMEM;
	if (!ret)
		ret = awg_udp_batch_init(&e->rx);
	if (!ret)
		ret = io_init(&e->main_io);
	if (!ret)
		ret = io_init(&e->rx_io);
	if (!ret)
		ret = awg_device_new(e->env, &dev_ops, e, &e->dev);
	if (ret < 0)
		goto err;
	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	e->rx_epfd = epoll_create1(EPOLL_CLOEXEC);
	e->main_wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	e->rx_wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (e->epfd < 0 || e->rx_epfd < 0 || e->main_wake < 0 || e->rx_wake < 0) {
		ret = -errno;
		goto err;
	}
	e->src_wake.kind = SRC_WAKE;
	if ((ret = watch_fd(e, e->main_wake, &e->src_wake, EPOLLIN)) < 0)
		goto err;
	ret = awg_tun_open(&e->tun, opt->ifname, opt->tun_fd, opt->mtu ? opt->mtu : DEFAULT_MTU,
			   !opt->no_offload);
	if (ret < 0) {
		awg_err("cannot create TUN interface %s: %s", opt->ifname, strerror(-ret));
		goto err;
	}
	if ((ret = io_use_gro(&e->rx_io, &e->tun)) < 0 || (ret = io_use_gro(&e->main_io, &e->tun)) < 0)
		goto err;
	awg_info("TUN offloads: %s", e->tun.vnet_hdr ? (e->tun.uso ? "TSO, USO, GRO" : "TSO, GRO")
						       : "off");
	e->dev->mtu = e->tun.mtu;
	e->src_tun.kind = SRC_TUN;
	if ((ret = watch_fd(e, e->tun.fd, &e->src_tun, EPOLLIN)) < 0)
		goto err;
	/* Like amneziawg-go once the interface is up: a random port until one is configured. */
	if (opt->no_offload)
		e->udp.no_offload = true;
	if (opt->udp_fd4 >= 0 || opt->udp_fd6 >= 0)
		ret = awg_udp_adopt(&e->udp, opt->udp_fd4, opt->udp_fd6);
	else
		ret = awg_udp_bind(&e->udp, 0);
	if (ret < 0) {
		awg_err("cannot %s UDP sockets: %s",
			opt->udp_fd4 >= 0 || opt->udp_fd6 >= 0 ? "use the given" : "open",
			strerror(-ret));
		goto err;
	}
	awg_info("UDP offloads: GSO %s, GRO %s", e->udp.gso ? "on" : "off",
		 e->udp.gro ? "on" : "off");
	if ((ret = setup_signals(e)) < 0 || (ret = setup_ipc(e, opt)) < 0)
		goto err;

	awg_info("interface %s up (MTU %u), UDP port %u", e->tun.name, e->tun.mtu, e->udp.port);
	*out = e;
	return 0;
err:
	awg_engine_free(e);
	return ret;
}

static void stop_rx_thread(struct awg_engine *e);

static void close_fds(struct awg_engine *e)
{
	int fds[] = { e->epfd, e->rx_epfd, e->main_wake, e->rx_wake, e->sigfd, e->inofd };

	for (unsigned i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

void awg_engine_free(struct awg_engine *e)
{
	if (!e)
		return;
	stop_rx_thread(e);
	awg_cryptopool_free(e->pool);
	e->pool = NULL;
	for (unsigned i = 0; i < e->n_dead; i++)
		close(e->dead_fds[i]);
	for (unsigned i = 0; i < AWG_IPC_MAX_CONNS; i++)
		free(e->src_conn[i]);
	awg_ipc_close(&e->ipc);
	awg_device_free(e->dev);
	awg_udp_close(&e->udp);
	awg_tun_close(&e->tun);
	awg_udp_batch_free(&e->rx);
	if (e->rx_jobs)
		awg_wipe(e->rx_jobs, RX_CHUNK * sizeof(*e->rx_jobs));
	free(e->rx_jobs);
	io_free(&e->main_io);
	io_free(&e->rx_io);
	for (int i = 0; i < AWG_ISPEC_SLOTS; i++)
		free(e->applied_ispec[i]);
	awg_conf_free(&e->conf);
	awg_wipe(e->applied_key, sizeof(e->applied_key));
	awg_wipe(&e->applied_obfs, sizeof(e->applied_obfs));
	if (e->tunbuf)
		munmap(e->tunbuf, (size_t)TUN_BATCH * TUN_BUF);
	free(e->split_scratch);
	close_fds(e);
	pthread_mutex_destroy(&e->lock);
	pthread_mutex_destroy(&e->tx_lock);
	free(e);
	/* The calling (main) thread's cipher contexts hold the last session keys. */
	awg_crypto_thread_cleanup();
}

/* Must hold e->lock. Records the planned wake-up for the receive thread. */
static int next_timeout_ms(struct awg_engine *e)
{
	uint64_t deadline = awg_device_next_deadline(e->dev), now, ms;

	e->main_deadline = deadline;
	if (deadline == UINT64_MAX)
		return -1;
	now = awg_env_mono_ns(e->env);
	if (deadline <= now)
		return 0;
	/* Round up: waking early would only spin. */
	ms = (deadline - now + 999999) / 1000000;
	return ms > 60000 ? 60000 : (int)ms;
}

/*
 * Must hold e->lock. `ip link set mtu` (awg-quick does it after configuring us) changes what
 * padding may fill (spec §4.3.4): look at the interface at most once a second while busy.
 */
static void refresh_mtu(struct awg_engine *e)
{
	uint64_t now = awg_env_mono_ns(e->env);

	if (now - e->mtu_checked_ns < 1000000000u)
		return;
	e->mtu_checked_ns = now;
	if (awg_tun_refresh_mtu(&e->tun) == 0)
		e->dev->mtu = e->tun.mtu;
}

/* Must hold e->lock: brings the receive thread's epoll set up to date with the sockets. */
static void rx_sync_sockets(struct awg_engine *e, unsigned *gen, int *fd4, int *fd6)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (*gen == e->udp_gen)
		return;
	for (unsigned i = 0; i < e->n_dead; i++) {
		epoll_ctl(e->rx_epfd, EPOLL_CTL_DEL, e->dead_fds[i], NULL);
		close(e->dead_fds[i]);
	}
	e->n_dead = 0;
	*fd4 = e->udp.fd4;
	*fd6 = e->udp.fd6;
	ev.data.u32 = 4;
	if (*fd4 >= 0)
		epoll_ctl(e->rx_epfd, EPOLL_CTL_ADD, *fd4, &ev);
	ev.data.u32 = 6;
	if (*fd6 >= 0)
		epoll_ctl(e->rx_epfd, EPOLL_CTL_ADD, *fd6, &ev);
	*gen = e->udp_gen;
}

/*
 * epoll_wait, but a busy thread (its last wait was shorter than the poll window) first polls
 * for up to e->poll_ns: under load the next event is usually microseconds away, and sleeping
 * for it costs two context switches (measured: 5-10% more throughput on two cores).
 * sched_yield() between polls leaves the core to anything runnable. A thread that waited
 * longer than the window last time blocks at once, so an idle or lightly used tunnel spends
 * nothing on polling.
 */
static int wait_events(const struct awg_engine *e, int epfd, struct epoll_event *evs, int max,
		       int timeout, uint64_t *last_wait)
{
	uint64_t t0 = awg_env_mono_ns(e->env);
	int n;

	if (timeout && *last_wait < e->poll_ns) {
		do {
			n = epoll_wait(epfd, evs, max, 0);
			if (n)
				goto out;
			sched_yield();
		} while (awg_env_mono_ns(e->env) - t0 < e->poll_ns);
	}
	n = epoll_wait(epfd, evs, max, timeout);
out:
	*last_wait = awg_env_mono_ns(e->env) - t0;
	return n;
}

/*
 * Receive thread, after writing packets to the TUN: an answer the kernel made at once (an
 * ICMP echo reply, a TCP ACK or SYN-ACK) is already waiting there. Sending it from this thread,
 * which is running anyway, saves waking the main thread for it: on an idle VM that wake-up was
 * the largest part of a ping's round trip. Skipped when the main thread is at it already.
 */
static void rx_try_tun(struct awg_engine *e)
{
	if (pthread_mutex_trylock(&e->tx_lock))
		return;
	on_tun(e);
	pthread_mutex_unlock(&e->tx_lock);
}

static void *rx_main(void *arg)
{
	struct awg_engine *e = arg;
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 0 }, evs[4];
	unsigned gen = ~0u;
	int fd4 = -1, fd6 = -1;
	uint64_t last_wait = UINT64_MAX, written = 0;

	cur_io = &e->rx_io;
	epoll_ctl(e->rx_epfd, EPOLL_CTL_ADD, e->rx_wake, &ev);
	while (!atomic_load(&e->stop)) {
		int n;

		pthread_mutex_lock(&e->lock);
		rx_sync_sockets(e, &gen, &fd4, &fd6);
		pthread_mutex_unlock(&e->lock);
		n = wait_events(e, e->rx_epfd, evs, 4, -1, &last_wait);
		for (int i = 0; i < n; i++) {
			eventfd_t v;
			int fd = evs[i].data.u32 == 4 ? fd4 : fd6;

			if (evs[i].data.u32 == 0) {
				eventfd_read(e->rx_wake, &v);
				continue;
			}
			/*
			 * A few batches per wake-up, so one busy socket cannot starve the other. A
			 * batch that did not fill every message slot emptied the socket.
			 */
			for (int round = 0; round < 4; round++)
				if (rx_batch(e, fd) <= 0 || e->rx.n < AWG_UDP_BATCH)
					break;
		}
		if (e->rx_io.tun_writes != written) {
			written = e->rx_io.tun_writes;
			rx_try_tun(e);
		}
	}
	awg_crypto_thread_cleanup();
	return NULL;
}

static int start_rx_thread(struct awg_engine *e)
{
	int ret = pthread_create(&e->rx_thread, NULL, rx_main, e);

	if (ret)
		return -ret;
	e->rx_started = true;
	return 0;
}

static void stop_rx_thread(struct awg_engine *e)
{
	if (!e->rx_started)
		return;
	atomic_store(&e->stop, true);
	eventfd_write(e->rx_wake, 1);
	pthread_join(e->rx_thread, NULL);
	e->rx_started = false;
}

/* SIGUSR1 and shutdown (verbose): what was dropped from the network, and why. */
static void log_drops(struct awg_engine *e)
{
	pthread_mutex_lock(&e->lock);
	awg_info("datagrams dropped: %llu", (unsigned long long)e->dev->drops);
	for (int i = 1; i < AWG_DROP_COUNT; i++)
		if (e->dev->drops_by[i])
			awg_info("  %llu %s", (unsigned long long)e->dev->drops_by[i],
				 awg_device_drop_name((enum awg_device_drop)i));
	pthread_mutex_unlock(&e->lock);
}

static void dispatch(struct awg_engine *e, struct source *src, uint32_t events)
{
	struct signalfd_siginfo si;

	switch (src->kind) {
	case SRC_TUN:
		pthread_mutex_lock(&e->tx_lock);
		on_tun(e);
		pthread_mutex_unlock(&e->tx_lock);
		break;
	case SRC_WAKE: {
		eventfd_t v;

		eventfd_read(e->main_wake, &v);
		break;
	}
	case SRC_LISTEN:
		awg_ipc_accept(&e->ipc, src->index, conn_opened, e);
		break;
	case SRC_CONN:
		on_conn(e, src, events);
		break;
	case SRC_SIGNAL:
		if (read(e->sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
			break;
		if (si.ssi_signo == SIGUSR1) {
			log_drops(e);
			break;
		}
		awg_info("signal %u: shutting down", si.ssi_signo);
		atomic_store(&e->stop, true);
		break;
	case SRC_INOTIFY:
		on_inotify(e);
		break;
	}
}

int awg_engine_run(struct awg_engine *e)
{
	struct epoll_event evs[32];
	uint64_t last_wait = UINT64_MAX;
	int ret;

	cur_io = &e->main_io;
	/* Signals are blocked already, so the receive thread and the workers never take one. */
	ret = setup_pool(e, e->crypto_threads);
	if (ret < 0)
		return ret;
	ret = start_rx_thread(e);
	if (ret < 0) {
		awg_err("cannot start the receive thread: %s", strerror(-ret));
		return ret;
	}
	/* Every thread exists now: the filter covers them all (TSYNC). */
	if (e->sandbox) {
		ret = awg_sandbox_enter();
		if (ret < 0) {
			awg_err("cannot enter the seccomp sandbox: %s", strerror(-ret));
			atomic_store(&e->stop, true);
			stop_rx_thread(e);
			return ret;
		}
		awg_info("seccomp sandbox on");
	}
	while (!atomic_load(&e->stop)) {
		int n, timeout, fd4, fd6;

		pthread_mutex_lock(&e->lock);
		timeout = next_timeout_ms(e);
		pthread_mutex_unlock(&e->lock);
		n = wait_events(e, e->epfd, evs, 32, timeout, &last_wait);
		if (n < 0 && errno != EINTR) {
			awg_err("epoll_wait: %s", strerror(errno));
			ret = -errno;
			break;
		}
		/* Connection sources can be freed while dispatching; handle them after the rest. */
		for (int i = 0; i < n; i++)
			if (((struct source *)evs[i].data.ptr)->kind != SRC_CONN)
				dispatch(e, evs[i].data.ptr, evs[i].events);
		for (int i = 0; i < n; i++)
			if (((struct source *)evs[i].data.ptr)->kind == SRC_CONN)
				dispatch(e, evs[i].data.ptr, evs[i].events);
		pthread_mutex_lock(&e->lock);
		refresh_mtu(e);
		awg_device_expire_timers(e->dev, awg_env_mono_ns(e->env));
		fd4 = e->udp.fd4, fd6 = e->udp.fd6;
		pthread_mutex_unlock(&e->lock);
		io_flush(e, &e->main_io, fd4, fd6);
	}
	stop_rx_thread(e);
	log_drops(e);
	return ret;
}
