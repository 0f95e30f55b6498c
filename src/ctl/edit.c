// SPDX-License-Identifier: MIT
// awgctl add and edit: a configuration in a private temporary file, the user's editor, the
// check-and-edit-again loop, and wiping the file whatever happens.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdio.h"
#include "config.h"
#include "crypto.h"
#include "ctl.h"

/*
 * The temporary file of one session. Signals that would end awgctl only set stop_signal
 * while the file exists, so the file is always wiped; the session then ends as a failure.
 */
struct session {
	char path[PATH_MAX];
	bool have_file;
	struct sigaction old[4];
};

static const int caught[4] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void signals_catch(struct session *s)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	for (unsigned i = 0; i < 4; i++)
		sigaction(caught[i], &sa, &s->old[i]);
}

static void signals_restore(struct session *s)
{
	for (unsigned i = 0; i < 4; i++)
		sigaction(caught[i], &s->old[i], NULL);
}

static const char *tmp_dir(void)
{
	const char *d = getenv("XDG_RUNTIME_DIR");

	return d && d[0] == '/' ? d : "/tmp";
}

/* Creates the 0600 temp file (mkstemps) holding text. 0 or -1 (printed). */
static int tmp_create(struct session *s, const char *name, const char *text, size_t len)
{
	int fd, ret;

	if (snprintf(s->path, sizeof(s->path), "%s/awgctl-%s-XXXXXX.conf", tmp_dir(), name) >=
	    (int)sizeof(s->path)) {
		awg_ctl_err("temporary file name too long");
		return -1;
	}
	fd = mkstemps(s->path, 5);
	if (fd < 0) {
		awg_ctl_err("cannot create a temporary file in %s: %s", tmp_dir(), strerror(errno));
		return -1;
	}
	s->have_file = true;
	ret = awg_fd_write_all(fd, text, len);
	if (close(fd) && !ret)
		ret = -errno;
	if (ret) {
		awg_ctl_err("%s: %s", s->path, strerror(-ret));
		return -1;
	}
	return 0;
}

/* Overwrites the file (whatever inode the editor left at the path) with zeros and unlinks it. */
static void tmp_destroy(struct session *s)
{
	static const char zeros[4096];
	struct stat st;
	int fd;

	if (!s->have_file)
		return;
	fd = open(s->path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		if (!fstat(fd, &st) && S_ISREG(st.st_mode)) {
			for (off_t left = st.st_size; left > 0; left -= (off_t)sizeof(zeros)) {
				size_t n = left < (off_t)sizeof(zeros) ? (size_t)left : sizeof(zeros);

				if (awg_fd_write_all(fd, zeros, n))
					break;
			}
			fsync(fd);
		}
		close(fd);
	}
	unlink(s->path);
	s->have_file = false;
}

/* Runs $VISUAL / $EDITOR / vi on the file through the shell, as git does. 0 or -1 (printed). */
static int run_editor(const char *path)
{
	const char *editor = getenv("VISUAL");
	char cmd[PATH_MAX + 16];
	int status;
	pid_t pid;

	if (!editor || !*editor)
		editor = getenv("EDITOR");
	if (!editor || !*editor)
		editor = "vi";
	if (snprintf(cmd, sizeof(cmd), "%s \"$@\"", editor) >= (int)sizeof(cmd)) {
		awg_ctl_err("the editor command is too long");
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		awg_ctl_err("fork: %s", strerror(errno));
		return -1;
	}
	if (!pid) {
		execl("/bin/sh", "sh", "-c", cmd, editor, path, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			awg_ctl_err("waitpid: %s", strerror(errno));
			return -1;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		awg_ctl_err("the editor (%s) failed; nothing was changed", editor);
		return -1;
	}
	return 0;
}

/* "Edit again? [Y/n]" when stdin is a terminal; false otherwise or on "n". */
static bool ask_again(void)
{
	char line[16];
	size_t n = 0;
	char ch;

	if (!isatty(STDIN_FILENO) || stop_signal)
		return false;
	fputs("Edit again? [Y/n] ", stderr);
	fflush(stderr);
	for (;;) {
		ssize_t r = read(STDIN_FILENO, &ch, 1);

		if (r < 0 && errno == EINTR && !stop_signal)
			continue;
		if (r <= 0)
			return false;
		if (ch == '\n')
			break;
		if (n < sizeof(line) - 1)
			line[n++] = ch;
	}
	line[n] = '\0';
	return !n || line[0] == 'y' || line[0] == 'Y';
}

enum edit_result { EDIT_DONE, EDIT_UNCHANGED, EDIT_FAILED };

/*
 * The loop both commands share: editor, unchanged check against orig, local check, Create.
 * Returns what happened; the reasons are printed.
 */
static enum edit_result edit_loop(struct ctl *ctl, struct session *s, const char *name,
				  const char *orig, size_t orig_len, bool overwrite,
				  uint8_t pub[AWG_KEY_LEN], bool *has_pub)
{
	char label[AWG_MGR_NAME_MAX + 8];
	struct awg_conf conf;
	char *text;
	size_t len;
	int ret;

	snprintf(label, sizeof(label), "%s.conf", name);
	for (;;) {
		if (run_editor(s->path) || stop_signal)
			return EDIT_FAILED;
		ret = awg_ctl_read_file(s->path, AWG_MGR_CONFIG_MAX, &text, &len);
		if (ret) {
			awg_ctl_err("%s: %s", s->path,
				    ret == -EFBIG ? "too large for a configuration" : strerror(-ret));
			return EDIT_FAILED;
		}
		if (len == orig_len && !memcmp(text, orig, len)) {
			awg_wipe(text, len);
			free(text);
			return EDIT_UNCHANGED;
		}
		ret = awg_ctl_validate(label, text, len, &conf);
		*has_pub = !ret && (conf.has & AWG_CONF_HAS_PRIVATE_KEY) &&
			   awg_x25519_public(pub, conf.private_key);
		awg_conf_free(&conf);
		if (!ret)
			ret = awg_ctl_create(ctl, name, text, len, overwrite);
		awg_wipe(text, len);
		free(text);
		if (!ret)
			return EDIT_DONE;
		/* Only a configuration the user can fix is worth another round. */
		if ((ret != -EINVAL && ret != EINVAL) || ctl->conn_err || !ask_again())
			return EDIT_FAILED;
	}
}

static void print_done(const char *verb, const char *name, const uint8_t pub[AWG_KEY_LEN],
		       bool has_pub)
{
	char k[AWG_CRYPTO_KEY_B64_LEN + 1];

	if (!has_pub) {
		printf("%s tunnel '%s'\n", verb, name);
		return;
	}
	awg_key_to_base64(k, pub);
	printf("%s tunnel '%s' (public key %s)\n", verb, name, k);
}

/* The add template: the fresh private key, its public key in a comment, the rest commented. */
static int template_make(char **out, size_t *len, const char *name)
{
	uint8_t priv[AWG_KEY_LEN], pub[AWG_KEY_LEN];
	char kpriv[AWG_CRYPTO_KEY_B64_LEN + 1], kpub[AWG_CRYPTO_KEY_B64_LEN + 1];
	size_t cap = 1024;
	char *buf = malloc(cap);
	int n, ret = 0;

	if (!buf)
		return -ENOMEM;
	awg_x25519_generate(priv);
	if (!awg_x25519_public(pub, priv)) {
		ret = -EIO;
		goto out;
	}
	awg_key_to_base64(kpriv, priv);
	awg_key_to_base64(kpub, pub);
	n = snprintf(buf, cap,
		     "# New AmneziaWG tunnel '%s' (awg-quick format; '#' starts a comment).\n"
		     "# Its public key, for the peers: %s\n"
		     "# Fill in the addresses and the peers, then save and quit. Saved unchanged,\n"
		     "# this template creates nothing.\n"
		     "\n"
		     "[Interface]\n"
		     "PrivateKey = %s\n"
		     "# Address = 10.0.0.2/32, fd00::2/128\n"
		     "# DNS = 10.0.0.1\n"
		     "# ListenPort = 51820\n"
		     "\n"
		     "# [Peer]\n"
		     "# PublicKey = (the peer's public key)\n"
		     "# Endpoint = vpn.example.org:51820\n"
		     "# AllowedIPs = 0.0.0.0/0, ::/0\n"
		     "# PersistentKeepalive = 25\n", name, kpub, kpriv);
	if (n < 0 || (size_t)n >= cap)
		ret = -EOVERFLOW;
out:
	awg_wipe(priv, sizeof(priv));
	awg_wipe(kpriv, sizeof(kpriv));
	if (ret) {
		awg_wipe(buf, cap);
		free(buf);
		return ret;
	}
	*out = buf;
	*len = (size_t)n;
	return 0;
}

/* Runs one session around orig and reports; every path wipes the temp file. */
static int session_run(struct ctl *ctl, const char *name, const char *orig, size_t orig_len,
		       bool is_add)
{
	struct session s = { .have_file = false };
	uint8_t pub[AWG_KEY_LEN];
	bool has_pub = false;
	enum edit_result r = EDIT_FAILED;

	stop_signal = 0;
	signals_catch(&s);
	if (!tmp_create(&s, name, orig, orig_len))
		r = edit_loop(ctl, &s, name, orig, orig_len, !is_add, pub, &has_pub);
	tmp_destroy(&s);
	signals_restore(&s);
	if (stop_signal) {
		awg_ctl_err("interrupted (signal %d); nothing more was done", (int)stop_signal);
		return CTL_FAIL;
	}
	if (r == EDIT_UNCHANGED && is_add) {
		awg_ctl_err("the template was left unchanged; tunnel '%s' not created", name);
		return CTL_FAIL;
	}
	if (r == EDIT_UNCHANGED) {
		printf("no changes\n");
		return CTL_OK;
	}
	if (r == EDIT_DONE)
		print_done(is_add ? "Created" : "Saved", name, pub, has_pub);
	return r == EDIT_DONE ? CTL_OK : CTL_FAIL;
}

/*
 * Create is for admins only; the manager enforces that, but asking first spares an operator
 * typing a whole configuration into the editor for nothing.
 */
static int admin_only(struct ctl *ctl, const char *what)
{
	struct awg_mgr_msg req = { .code = AWG_MGR_ROLE }, reply;
	int ret = 0;

	if (awg_ctl_call(ctl, &req, &reply, NULL)) {
		ret = -1;
	} else if (reply.state != AWG_MGR_ROLE_ADMIN) {
		awg_ctl_err("you are not allowed to %s tunnels (%s)", what,
			    reply.state == AWG_MGR_ROLE_OPERATOR ? "operator" : "no role");
		ret = -1;
	}
	awg_mgr_msg_free(&reply);
	return ret;
}

/*
 * Asks before the editor opens, so nobody types a whole configuration for a name that is
 * taken (names are unique case-insensitively), or while the manager is unreachable.
 */
static int name_free(struct ctl *ctl, const char *name)
{
	struct awg_mgr_msg req = { .code = AWG_MGR_TUNNELS }, reply;
	int ret = 0;

	if (awg_ctl_call(ctl, &req, &reply, NULL)) {
		awg_mgr_msg_free(&reply);
		return -1;
	}
	for (uint32_t i = 0; i < reply.n_tunnels; i++) {
		if (!strcasecmp(reply.tunnels[i].name, name)) {
			awg_ctl_err("a tunnel named '%s' already exists (awgctl edit %s changes it)",
				    reply.tunnels[i].name, reply.tunnels[i].name);
			ret = -1;
		}
	}
	awg_mgr_msg_free(&reply);
	return ret;
}

int awg_ctl_cmd_add(struct ctl *ctl, int argc, char **argv)
{
	const char *name;
	char *tmpl;
	size_t len;
	int status;

	if (awg_ctl_args(argc, argv, NULL, &name, 1, 1) < 0)
		return CTL_USAGE;
	if (!awg_ctl_name_ok(name) || admin_only(ctl, "create") || name_free(ctl, name))
		return CTL_FAIL;
	if (template_make(&tmpl, &len, name)) {
		awg_ctl_err("cannot make a key");
		return CTL_FAIL;
	}
	status = session_run(ctl, name, tmpl, len, true);
	awg_wipe(tmpl, len);
	free(tmpl);
	return status;
}

int awg_ctl_cmd_edit(struct ctl *ctl, int argc, char **argv)
{
	struct awg_mgr_msg req = { .code = AWG_MGR_STORED_CONFIG }, reply;
	const char *name;
	int status;

	if (awg_ctl_args(argc, argv, NULL, &name, 1, 1) < 0)
		return CTL_USAGE;
	if (!awg_ctl_name_ok(name) || admin_only(ctl, "edit"))
		return CTL_FAIL;
	snprintf(req.name, sizeof(req.name), "%s", name);
	if (awg_ctl_call(ctl, &req, &reply, NULL)) {
		awg_mgr_msg_free(&reply);
		return CTL_FAIL;
	}
	/* The stored name may differ in case; Create then replaces that same tunnel. */
	status = session_run(ctl, name, reply.config ? reply.config : "", reply.config_len, false);
	awg_mgr_msg_free(&reply);
	return status;
}
