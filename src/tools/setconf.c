// SPDX-License-Identifier: MIT
// awg setconf, addconf and syncconf: apply a configuration file over UAPI.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awg.h"
#include "crypto.h"
#include "uapi.h"

/* Largest configuration file accepted. */
#define CONF_MAX (64u << 20)

/* Reads the whole file (a path, /dev/stdin or a pipe). *out is owned (wipe it). 0 or -errno. */
static int read_file(const char *path, char **out, size_t *len)
{
	struct awg_buf b = { 0 };
	char chunk[4096];
	FILE *f = fopen(path, "r");
	size_t n;
	int ret = 0;

	if (!f)
		return -errno;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b.len + n > CONF_MAX) {
			ret = -EFBIG;
			break;
		}
		awg_buf_put(&b, chunk, n);
	}
	if (!ret && ferror(f))
		ret = -EIO;
	fclose(f);
	awg_wipe(chunk, sizeof(chunk));
	if (ret) {
		awg_buf_discard(&b);
		return ret;
	}
	awg_buf_put(&b, "", 0);
	return awg_buf_finish(&b, out, len);
}

/* Reads and parses the file into c. Prints the error. 0 or -errno. */
static int load(struct awg_conf *c, const char *path)
{
	struct awg_parse_error perr = { 0 };
	char *text = NULL;
	size_t len = 0;
	int ret;

	ret = read_file(path, &text, &len);
	if (ret) {
		fprintf(stderr, "%s: `%s': %s\n", PROG_NAME, path, strerror(-ret));
		return ret;
	}
	ret = awg_conf_parse(c, text ? text : "", len, AWG_CONF_DIALECT_TOOLS, &perr);
	if (text) {
		awg_wipe(text, len);
		free(text);
	}
	if (ret == -EINVAL)
		fprintf(stderr, "%s:%u:%u: %s\nConfiguration parsing error\n", path, perr.line,
			perr.column, perr.msg);
	else if (ret)
		fprintf(stderr, "%s: %s\n", path, strerror(-ret));
	return ret;
}

/*
 * syncconf: the file's device keys with setconf's defaults (no private key = none, fwmark 0),
 * allowed IPs replaced for the peers in the file, and the device's other peers removed, all
 * without replace_peers, so surviving peers keep their sessions.
 */
static int prepare_sync(struct awg_conf *c, const char *ifname)
{
	struct awg_conf cur;
	int ret;

	awg_conf_init(&cur);
	ret = awg_ipc_get(ifname, &cur);
	if (ret) {
		fprintf(stderr, "Unable to access interface: %s\n", strerror(-ret));
		goto out;
	}
	if (!(c->has & AWG_CONF_HAS_PRIVATE_KEY))
		memset(c->private_key, 0, sizeof(c->private_key));
	if (!(c->has & AWG_CONF_HAS_FWMARK))
		c->fwmark = 0;
	c->has |= AWG_CONF_HAS_PRIVATE_KEY | AWG_CONF_HAS_FWMARK;
	for (size_t i = 0; i < c->n_peers; i++)
		c->peers[i].flags |= AWG_PEER_REPLACE_ALLOWED_IPS;
	for (size_t i = 0; i < cur.n_peers; i++) {
		struct awg_conf_peer *p;

		if (awg_conf_peer_find(c, cur.peers[i].public_key))
			continue;
		ret = awg_conf_peer_add(c, cur.peers[i].public_key, &p);
		if (ret) {
			fprintf(stderr, "%s: %s\n", PROG_NAME, strerror(-ret));
			goto out;
		}
		p->flags |= AWG_PEER_REMOVE;
	}
out:
	awg_conf_free(&cur);
	return ret;
}

static void usage(const char *cmd)
{
	fprintf(stderr, "Usage: %s %s <interface> <configuration filename>\n", PROG_NAME, cmd);
}

int awg_setconf_main(int argc, char *argv[])
{
	bool sync = !strcmp(argv[0], "syncconf"), add = !strcmp(argv[0], "addconf");
	struct awg_conf c;
	int ret;

	if (argc != 3) {
		usage(argv[0]);
		return 1;
	}
	awg_conf_init(&c);
	ret = load(&c, argv[2]);
	if (!ret)
		ret = awg_set_resolve_endpoints(&c);
	if (!ret && sync)
		ret = prepare_sync(&c, argv[1]);
	if (ret) {
		awg_conf_free(&c);
		return 1;
	}
	ret = awg_ipc_set_conf(argv[1], &c, (sync || add) ? 0 : AWG_UAPI_SET_REPLACE);
	if (ret)
		awg_set_report(argv[1], ret);
	awg_conf_free(&c);
	return ret ? 1 : 0;
}
