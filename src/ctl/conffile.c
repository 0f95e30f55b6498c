// SPDX-License-Identifier: MIT
// awgctl import and export: configuration files and zips in, stored configurations out, plus
// the local check and the Create call that add and edit share.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zip.h>

#include "fdio.h"
#include "config.h"
#include "crypto.h"
#include "ctl.h"

/* Most files one import takes (positional arguments). */
#define IMPORT_FILES_MAX 256

int awg_ctl_validate(const char *label, const char *text, size_t len, struct awg_conf *conf)
{
	struct awg_parse_error perr = { 0 };
	int ret;

	awg_conf_init(conf);
	ret = awg_conf_parse(conf, text, len, AWG_CONF_DIALECT_QUICK, &perr);
	if (ret == -ENOMEM) {
		awg_ctl_err("%s: out of memory", label);
	} else if (ret && perr.line) {
		/* The parser's messages never quote a key (parse_error.h). */
		fprintf(stderr, "%s:%u:%u: %s\n", label, perr.line, perr.column ? perr.column : 1,
			perr.msg);
	} else if (ret) {
		fprintf(stderr, "%s: %s\n", label, perr.msg);
	}
	return ret;
}

int awg_ctl_create(struct ctl *ctl, const char *name, const char *text, size_t len,
		   bool overwrite)
{
	struct awg_mgr_msg req = { .code = AWG_MGR_CREATE, .flag = overwrite }, reply;
	int ret;

	snprintf(req.name, sizeof(req.name), "%s", name);
	ret = awg_mgr_msg_set_config(&req, text, len);
	if (ret) {
		awg_ctl_err("%s: %s", name, ret == -E2BIG ? "the configuration is too large"
							  : strerror(-ret));
		awg_mgr_msg_free(&req);
		return ret;
	}
	ret = awg_ctl_call(ctl, &req, &reply, NULL);
	awg_mgr_msg_free(&req);
	awg_mgr_msg_free(&reply);
	return ret;
}

/* The tunnel name of a file: its base name without a trailing ".conf" (any case). */
static void name_from_path(char out[AWG_MGR_NAME_MAX + 2], const char *path)
{
	const char *base = strrchr(path, '/');
	size_t len;

	base = base ? base + 1 : path;
	len = strlen(base);
	if (len > 5 && !strcasecmp(base + len - 5, ".conf"))
		len -= 5;
	/* One byte more than a name may have, so an over-long name is still refused. */
	if (len > AWG_MGR_NAME_MAX + 1)
		len = AWG_MGR_NAME_MAX + 1;
	memcpy(out, base, len);
	out[len] = '\0';
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcasecmp(s + a - b, suffix);
}

/* Checks and stores one configuration. 0 imported, -1 not (the reason printed). */
static int import_text(struct ctl *ctl, const char *label, const char *name, const char *text,
		       size_t len, bool force)
{
	struct awg_conf conf;
	int ret;

	if (!awg_ctl_name_ok(name))
		return -1;
	ret = awg_ctl_validate(label, text, len, &conf);
	awg_conf_free(&conf);
	if (ret)
		return -1;
	if (awg_ctl_create(ctl, name, text, len, force))
		return -1;
	printf("Imported tunnel '%s'\n", name);
	return 0;
}

static int import_file(struct ctl *ctl, const char *path, const char *name, bool force)
{
	char auto_name[AWG_MGR_NAME_MAX + 2];
	char *text = NULL;
	size_t len = 0;
	int ret;

	ret = awg_ctl_read_file(path, AWG_MGR_CONFIG_MAX, &text, &len);
	if (ret) {
		awg_ctl_err("%s: %s", strcmp(path, "-") ? path : "standard input",
			    ret == -EFBIG ? "too large for a configuration" : strerror(-ret));
		return -1;
	}
	if (!name) {
		name_from_path(auto_name, path);
		name = auto_name;
	}
	ret = import_text(ctl, strcmp(path, "-") ? path : "<stdin>", name, text, len, force);
	awg_wipe(text, len);
	free(text);
	return ret;
}

/* Reads one zip entry whole. 0 or -1 (printed). */
static int zip_entry_read(zip_t *za, zip_uint64_t i, const char *label, char **out, size_t *len)
{
	zip_stat_t st;
	zip_file_t *zf;
	zip_int64_t n;
	char *buf;

	if (zip_stat_index(za, i, 0, &st) || !(st.valid & ZIP_STAT_SIZE)) {
		awg_ctl_err("%s: %s", label, zip_strerror(za));
		return -1;
	}
	/* The size is the archive's claim; read at most that much plus one byte to catch a lie. */
	if (st.size > AWG_MGR_CONFIG_MAX) {
		awg_ctl_err("%s: too large for a configuration", label);
		return -1;
	}
	zf = zip_fopen_index(za, i, 0);
	if (!zf) {
		awg_ctl_err("%s: %s", label, zip_strerror(za));
		return -1;
	}
	buf = malloc(st.size + 2);
	if (!buf) {
		zip_fclose(zf);
		awg_ctl_err("%s: out of memory", label);
		return -1;
	}
	n = zip_fread(zf, buf, st.size + 1);
	if (n < 0 || (zip_uint64_t)n != st.size) {
		awg_ctl_err("%s: %s", label, n < 0 ? zip_file_strerror(zf) : "size mismatch");
		zip_fclose(zf);
		awg_wipe(buf, st.size + 2);
		free(buf);
		return -1;
	}
	zip_fclose(zf);
	buf[n] = '\0';
	*out = buf;
	*len = (size_t)n;
	return 0;
}

/* Imports every *.conf of a zip. Returns the number of failures, or -1 if none was found. */
static int import_zip(struct ctl *ctl, const char *path, bool force)
{
	char name[AWG_MGR_NAME_MAX + 2], label[PATH_MAX + 64];
	int err, found = 0, failed = 0;
	zip_error_t ze;
	zip_int64_t n;
	zip_t *za;

	za = zip_open(path, ZIP_RDONLY, &err);
	if (!za) {
		zip_error_init_with_code(&ze, err);
		awg_ctl_err("%s: %s", path, zip_error_strerror(&ze));
		zip_error_fini(&ze);
		return 1;
	}
	n = zip_get_num_entries(za, 0);
	for (zip_int64_t i = 0; i < n; i++) {
		const char *entry = zip_get_name(za, (zip_uint64_t)i, 0);
		char *text = NULL;
		size_t len = 0;

		if (!entry || has_suffix(entry, "/"))
			continue;
		snprintf(label, sizeof(label), "%s:%s", path, entry);
		if (!has_suffix(entry, ".conf")) {
			fprintf(stderr, "%s: skipped (not a .conf file)\n", label);
			continue;
		}
		found++;
		name_from_path(name, entry);
		if (zip_entry_read(za, (zip_uint64_t)i, label, &text, &len)) {
			failed++;
			continue;
		}
		if (import_text(ctl, label, name, text, len, force))
			failed++;
		awg_wipe(text, len);
		free(text);
		/* A broken connection fails every later entry the same way: stop here. */
		if (ctl->conn_err)
			break;
	}
	zip_discard(za);
	if (!found) {
		awg_ctl_err("%s: no configuration files were found", path);
		return 1;
	}
	if (failed)
		printf("Imported %d of %d tunnels from %s\n", found - failed, found, path);
	else
		printf("Imported %d tunnel%s from %s\n", found, found == 1 ? "" : "s", path);
	return failed;
}

int awg_ctl_cmd_import(struct ctl *ctl, int argc, char **argv)
{
	const char *files[IMPORT_FILES_MAX], *name = NULL;
	bool force = false;
	const struct ctl_opt opts[] = {
		{ "--name", &name, NULL }, { "--force", NULL, &force }, { 0 }
	};
	int n, failed = 0;

	n = awg_ctl_args(argc, argv, opts, files, 1, IMPORT_FILES_MAX);
	if (n < 0)
		return CTL_USAGE;
	for (int i = 0; i < n; i++) {
		if (!strcmp(files[i], "-") && !name) {
			awg_ctl_err("import -: standard input needs --name NAME");
			return CTL_USAGE;
		}
		if (has_suffix(files[i], ".zip") && name) {
			awg_ctl_err("import: --name does not go with a zip (names come from its entries)");
			return CTL_USAGE;
		}
	}
	if (name && n > 1) {
		awg_ctl_err("import: --name needs exactly one file");
		return CTL_USAGE;
	}
	for (int i = 0; i < n; i++) {
		if (has_suffix(files[i], ".zip"))
			failed += import_zip(ctl, files[i], force) != 0;
		else
			failed += import_file(ctl, files[i], name, force) != 0;
		if (ctl->conn_err)
			return CTL_FAIL;
	}
	return failed ? CTL_FAIL : CTL_OK;
}

/* Writes data to fd, syncs and closes it. 0 or -errno. */
static int fill_and_close(int fd, const char *data, size_t len)
{
	int ret = awg_fd_write_all(fd, data, len);

	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

/* Creates path 0600 (never following a symlink) and writes data; unlinks it on failure. */
static int write_new(const char *path, const char *data, size_t len)
{
	int fd, ret;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ret = fill_and_close(fd, data, len);
	if (ret)
		unlink(path);
	return ret;
}

/* Replaces path atomically with a 0600 file holding data (a sibling temp file, renamed). */
static int write_replace(const char *path, const char *data, size_t len)
{
	char tmp[PATH_MAX];
	int fd, ret;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);	/* mode 0600 */
	if (fd < 0)
		return -errno;
	ret = fill_and_close(fd, data, len);
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

int awg_ctl_cmd_export(struct ctl *ctl, int argc, char **argv)
{
	struct awg_mgr_msg req = { .code = AWG_MGR_STORED_CONFIG }, reply;
	const char *pos[2] = { NULL, NULL };
	bool force = false;
	const struct ctl_opt opts[] = { { "--force", NULL, &force }, { 0 } };
	int ret, status = CTL_OK;

	if (awg_ctl_args(argc, argv, opts, pos, 1, 2) < 0)
		return CTL_USAGE;
	if (!awg_ctl_name_ok(pos[0]))
		return CTL_FAIL;
	snprintf(req.name, sizeof(req.name), "%s", pos[0]);
	if (awg_ctl_call(ctl, &req, &reply, NULL)) {
		awg_mgr_msg_free(&reply);
		return CTL_FAIL;
	}
	if (!pos[1] || !strcmp(pos[1], "-")) {
		/* write(2) straight from the reply: no stdio buffer keeps a copy of the keys. */
		fflush(stdout);
		ret = awg_fd_write_all(STDOUT_FILENO, reply.config, reply.config_len);
		if (ret && ret != -EPIPE)
			awg_ctl_err("writing to standard output: %s", strerror(-ret));
	} else {
		ret = force ? write_replace(pos[1], reply.config, reply.config_len)
			    : write_new(pos[1], reply.config, reply.config_len);
		if (ret == -EEXIST)
			awg_ctl_err("%s exists; use --force to replace it", pos[1]);
		else if (ret)
			awg_ctl_err("%s: %s", pos[1], strerror(-ret));
	}
	if (ret)
		status = CTL_FAIL;
	awg_mgr_msg_free(&reply);	/* wipes the config */
	return status;
}
