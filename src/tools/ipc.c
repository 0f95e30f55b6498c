// SPDX-License-Identifier: MIT
// The UAPI client of awg(8): finds and talks to /var/run/{amneziawg,wireguard}/<if>.sock.
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fdio.h"
#include "awg.h"
#include "crypto.h"
#include "uapi.h"

/* Largest get response we accept (a device with many peers). */
#define RESPONSE_MAX (256u << 20)

static const char *const default_dirs[] = { "/var/run/amneziawg", "/var/run/wireguard" };

/* The socket directories, in lookup order: $AWG_SOCKET_DIR alone when set. */
static size_t socket_dirs(const char *dirs[2])
{
	const char *env = getenv("AWG_SOCKET_DIR");

	if (env && *env) {
		dirs[0] = env;
		return 1;
	}
	dirs[0] = default_dirs[0];
	dirs[1] = default_dirs[1];
	return 2;
}

static bool ifname_ok(const char *ifname)
{
	size_t n = strlen(ifname);

	return n && n < 16 && !strchr(ifname, '/') && strcmp(ifname, ".") && strcmp(ifname, "..");
}

static int connect_dir(const char *dir, const char *ifname)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, ret;

	ret = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s.sock", dir, ifname);
	if (ret < 0 || (size_t)ret >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A wedged engine must not hang the caller (awg-manager serves everyone from one thread). */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){ .tv_sec = 5 }, sizeof(struct timeval));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &(struct timeval){ .tv_sec = 5 }, sizeof(struct timeval));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

/* Connects to the first directory holding the interface's socket; -ENODEV when none does. */
static int connect_if(const char *ifname)
{
	const char *dirs[2];
	size_t n = socket_dirs(dirs);
	int fd = -ENODEV;

	if (!ifname_ok(ifname))
		return -ENODEV;
	for (size_t i = 0; i < n; i++) {
		fd = connect_dir(dirs[i], ifname);
		if (fd >= 0 || fd != -ENOENT)
			return fd;
	}
	return -ENODEV;
}

static bool response_done(const char *p, size_t len)
{
	return len >= 2 && p[len - 1] == '\n' && p[len - 2] == '\n';
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Reads until the blank line that ends a response, or EOF: at most max bytes, and, with
 * timeout_ms >= 0, within that time in all (an engine trickling bytes cannot hold the caller).
 * *out is owned (wipe it).
 */
static int read_response(int fd, char **out, size_t *len, size_t max, int timeout_ms)
{
	int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;
	struct awg_buf b = { 0 };
	char chunk[4096];

	while (!response_done(b.p, b.len)) {
		ssize_t r;

		if (timeout_ms >= 0) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			int64_t left = deadline - now_ms();

			if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
				awg_buf_discard(&b);
				return -ETIMEDOUT;
			}
		}
		r = read(fd, chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int ret = -errno;

			awg_buf_discard(&b);
			return ret;
		}
		if (!r)
			break;
		if (b.len + (size_t)r > max) {
			awg_buf_discard(&b);
			return -EMSGSIZE;
		}
		awg_buf_put(&b, chunk, (size_t)r);
	}
	awg_wipe(chunk, sizeof(chunk));
	return awg_buf_finish(&b, out, len);
}

static int transact(const char *ifname, const char *req, size_t reqlen, char **resp, size_t *len,
		    size_t max, int timeout_ms)
{
	int fd = connect_if(ifname);
	int ret;

	if (fd < 0)
		return fd;
	ret = awg_fd_send_all(fd, req, reqlen);
	if (!ret)
		ret = read_response(fd, resp, len, max, timeout_ms);
	close(fd);
	return ret;
}

static void free_secret(char *p, size_t len)
{
	if (!p)
		return;
	awg_wipe(p, len);
	free(p);
}

int awg_ipc_get_bounded(const char *ifname, struct awg_conf *c, size_t max, int timeout_ms)
{
	struct awg_parse_error perr = { 0 };
	char *resp = NULL;
	size_t len = 0;
	int ret;

	ret = transact(ifname, "get=1\n\n", 7, &resp, &len, max, timeout_ms);
	if (ret)
		return ret;
	if (!len)
		ret = -EPROTO;
	else
		ret = awg_uapi_parse_get(c, resp, len, &perr);
	free_secret(resp, len);
	return ret;
}

int awg_ipc_get(const char *ifname, struct awg_conf *c)
{
	return awg_ipc_get_bounded(ifname, c, RESPONSE_MAX, -1);
}

int awg_ipc_set(const char *ifname, const char *req, size_t reqlen)
{
	char *resp = NULL, *end;
	size_t len = 0;
	long e;
	int ret;

	ret = transact(ifname, req, reqlen, &resp, &len, RESPONSE_MAX, -1);
	if (ret)
		return ret;
	if (len < 7 || strncmp(resp, "errno=", 6)) {
		free(resp);
		return -EPROTO;
	}
	errno = 0;
	e = strtol(resp + 6, &end, 10);
	ret = (errno || *end != '\n') ? -EPROTO : (e > 0 ? -(int)e : (int)e);
	free(resp);
	return ret;
}

int awg_ipc_set_conf(const char *ifname, const struct awg_conf *c, unsigned flags)
{
	char *req = NULL;
	size_t len = 0;
	int ret;

	ret = awg_uapi_write_set(c, flags, &req, &len);
	if (ret)
		return ret;
	ret = awg_ipc_set(ifname, req, len);
	free_secret(req, len);
	return ret;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool listed(char **v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(v[i], name))
			return true;
	}
	return false;
}

/* Appends the interfaces of one directory whose socket is a socket. */
static int list_dir(const char *dir, char ***v, size_t *n, size_t *cap)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		struct stat st;
		char *name;

		if (len <= 5 || strcmp(de->d_name + len - 5, ".sock"))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) || !S_ISSOCK(st.st_mode))
			continue;
		name = strndup(de->d_name, len - 5);
		if (!name)
			goto nomem;
		if (!ifname_ok(name) || listed(*v, *n, name)) {
			free(name);
			continue;
		}
		if (*n == *cap) {
			size_t ncap = *cap ? *cap * 2 : 8;
			char **nv = realloc(*v, ncap * sizeof(*nv));

			if (!nv) {
				free(name);
				goto nomem;
			}
			*v = nv;
			*cap = ncap;
		}
		(*v)[(*n)++] = name;
	}
	closedir(d);
	return 0;
nomem:
	closedir(d);
	return -ENOMEM;
}

int awg_ipc_list(char ***out, size_t *n)
{
	const char *dirs[2];
	size_t ndirs = socket_dirs(dirs), cap = 0;
	char **v = NULL;
	int ret = 0;

	*n = 0;
	for (size_t i = 0; !ret && i < ndirs; i++)
		ret = list_dir(dirs[i], &v, n, &cap);
	if (ret) {
		awg_ipc_list_free(v, *n);
		*n = 0;
		return ret;
	}
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_names);
	*out = v;
	return 0;
}

void awg_ipc_list_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
