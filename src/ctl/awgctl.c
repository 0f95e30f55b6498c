// SPDX-License-Identifier: MIT
// awgctl: global options, --help, command dispatch, the shared call helpers, and the commands
// that are one request each (start, stop, wait, delete, role).
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "ctl.h"
#include "format.h"

static const char usage_text[] =
"NAME\n"
"    awgctl - control AmneziaWG tunnels through awg-manager\n"
"\n"
"SYNOPSIS\n"
"    awgctl [--socket PATH] [--json] COMMAND [ARGUMENTS]\n"
"    awgctl -h | --help\n"
"\n"
"DESCRIPTION\n"
"    awgctl talks to awg-manager, the root service that stores tunnel configurations and\n"
"    runs the tunnels, over its Unix socket. It needs no privileges: the manager decides\n"
"    per request what the caller may do. Administrators may do everything; operators may\n"
"    list, start, stop and watch tunnels and read redacted configurations (no private or\n"
"    preshared keys, peers shown as \"(hidden, peer N)\"). When the manager refuses, its\n"
"    reason is printed as \"awgctl: <reason>\".\n"
"\n"
"GLOBAL OPTIONS (before the command)\n"
"    --socket PATH  Talk to the manager at PATH instead of $AWG_MANAGER_SOCKET or\n"
"                   /run/awg-suite/manager.sock.\n"
"    --json         Machine-readable output for the read commands (list, status, log, role,\n"
"                   update --check): JSON with every string escaped. Other commands ignore it.\n"
"    -h, --help     Print this text and exit.\n"
"\n"
"COMMANDS\n"
"    list\n"
"        Every stored tunnel with its state (started, stopped, starting, stopping, unknown)\n"
"        and whether it is enabled (started again when the manager starts). --json: an array\n"
"        of {\"name\", \"state\", \"enabled\"}.\n"
"\n"
"    status [NAME]\n"
"        For NAME, or for every tunnel: state, interface, public key, listening port, and per\n"
"        peer the endpoint, allowed IPs, latest handshake, transfer and persistent keepalive,\n"
"        in the style of `awg show`, and the kill switch (on or persistent; active while\n"
"        the tunnel is started). Keys an operator may not see print as \"(hidden)\".\n"
"        --json: an array with one object per tunnel.\n"
"\n"
"    import FILE... [--name NAME] [--force]\n"
"        Stores each FILE as a tunnel. A FILE.conf becomes the tunnel FILE (the base name\n"
"        without .conf); a FILE.zip imports every *.conf inside it (directories flattened,\n"
"        other entries skipped with a note); \"-\" reads one configuration from standard input\n"
"        and needs --name. Each configuration is checked locally first (awg-quick syntax);\n"
"        errors print as FILE:LINE:COLUMN: MESSAGE. An existing tunnel of the same name is\n"
"        replaced only with --force. Administrators only.\n"
"\n"
"    export NAME [FILE] [--force]\n"
"        Writes the stored configuration of NAME to FILE (created with mode 0600; an existing\n"
"        FILE is replaced only with --force) or to standard output. For administrators it\n"
"        contains the private key: keep it safe.\n"
"\n"
"    add NAME\n"
"        Generates a private key and opens an awg-quick template in your editor (the public\n"
"        key is shown in a comment). After the editor exits the text is checked; on an error\n"
"        you are asked \"Edit again? [Y/n]\" when standard input is a terminal. A template left\n"
"        unchanged is not stored (nothing is created). The tunnel is created only when NAME\n"
"        does not exist yet. Administrators only.\n"
"\n"
"    edit NAME\n"
"        Opens the stored configuration of NAME in your editor, checks it as add does, and\n"
"        stores it (replacing the old one) unless nothing changed (\"no changes\").\n"
"        Administrators only. The running tunnel keeps its old settings until restarted.\n"
"\n"
"    delete NAME\n"
"        Stops the tunnel and removes its configuration. Administrators only.\n"
"\n"
"    start NAME\n"
"        Enables and starts the tunnel. Running tunnels whose addresses or routes intersect\n"
"        it are stopped first.\n"
"\n"
"    stop NAME\n"
"        Disables and stops the tunnel.\n"
"\n"
"    wait NAME\n"
"        Blocks until the tunnel is stopped.\n"
"\n"
"    log [--follow]\n"
"        Prints the shared log of the manager and the tunnels, one line per message\n"
"        (\"YYYY-MM-DD HH:MM:SS.ffffff: [TAG] text\", local time). --follow keeps printing new\n"
"        lines (checked every 100 ms) until interrupted. --json: one object per line,\n"
"        {\"time\", \"time_ns\", \"text\"}.\n"
"\n"
"    update [--check]\n"
"        --check prints whether the manager knows of an update (\"no update known\", \"update\n"
"        available\", \"updates disabled in this build\"). Without --check asks the manager to\n"
"        update itself and prints its progress until it completes or fails. Administrators\n"
"        only.\n"
"\n"
"    role\n"
"        Prints who the manager thinks you are: \"admin\" or \"operator\", and your uid.\n"
"        --json: {\"role\", \"uid\"}.\n"
"\n"
"    help\n"
"        The same as --help.\n"
"\n"
"ENVIRONMENT\n"
"    AWG_MANAGER_SOCKET  The manager socket when --socket is not given.\n"
"    VISUAL, EDITOR      The editor for add and edit, run through /bin/sh with the file name\n"
"                        as its last argument; the first one set wins, else vi.\n"
"    XDG_RUNTIME_DIR     Where add and edit keep their temporary file (mode 0600; wiped\n"
"                        and removed afterwards); /tmp when unset.\n"
"\n"
"EXIT STATUS\n"
"    0  success\n"
"    1  failure: the manager refused or failed the request, could not be reached, or a\n"
"       configuration was invalid\n"
"    2  usage error: unknown command or option, missing or extra arguments\n"
"\n"
"EXAMPLES\n"
"    awgctl list\n"
"    awgctl import ~/office.conf && awgctl start office\n"
"    awgctl import --force tunnels.zip\n"
"    awgctl import - --name vpn < vpn.conf\n"
"    awgctl export office office-backup.conf\n"
"    awgctl status office\n"
"    awgctl --json status | jq '.[] | select(.state == \"started\") | .name'\n"
"    EDITOR=nano awgctl edit office\n"
"    awgctl stop office && awgctl wait office\n"
"    awgctl log --follow\n";

void awg_ctl_err(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG_NAME ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage_hint(void)
{
	fputs("Try '" PROG_NAME " --help' for more information.\n", stderr);
}

int awg_ctl_args(int argc, char **argv, const struct ctl_opt *opts, const char **pos,
		 int min_pos, int max_pos)
{
	bool dashdash = false;
	int n = 0;

	for (int i = 1; i < argc; i++) {
		const struct ctl_opt *o = NULL;
		const char *a = argv[i];

		if (!dashdash && !strcmp(a, "--")) {
			dashdash = true;
			continue;
		}
		if (!dashdash && (!strcmp(a, "-h") || !strcmp(a, "--help"))) {
			/* A CLI may die here: nothing is open yet. */
			fputs(usage_text, stdout);
			exit(fflush(stdout) ? CTL_FAIL : CTL_OK);
		}
		if (dashdash || a[0] != '-' || !strcmp(a, "-")) {
			if (n == max_pos) {
				awg_ctl_err("%s: unexpected argument '%s'", argv[0], a);
				goto usage;
			}
			pos[n++] = a;
			continue;
		}
		for (const struct ctl_opt *p = opts; p && p->name; p++) {
			if (!strcmp(a, p->name))
				o = p;
		}
		if (!o) {
			awg_ctl_err("%s: unknown option '%s'", argv[0], a);
			goto usage;
		}
		if (o->flag) {
			*o->flag = true;
		} else if (i + 1 < argc) {
			*o->value = argv[++i];
		} else {
			awg_ctl_err("%s: option '%s' needs a value", argv[0], a);
			goto usage;
		}
	}
	if (n < min_pos) {
		awg_ctl_err("%s: missing argument", argv[0]);
		goto usage;
	}
	return n;

usage:
	usage_hint();
	return -1;
}

static void print_transport_error(const struct ctl *ctl, int err)
{
	switch (err) {
	case -EPROTO:
		awg_ctl_err("the manager sent a malformed or unexpected message");
		break;
	case -ECONNRESET:
	case -EPIPE:
		awg_ctl_err("the manager closed the connection");
		break;
	case -E2BIG:
		awg_ctl_err("the request is too large for the manager protocol");
		break;
	case -EINVAL:
		awg_ctl_err("the request cannot be encoded (a name or text too long?)");
		break;
	default:
		awg_ctl_err("lost the connection to the manager at %s: %s", ctl->socket,
			    strerror(-err));
	}
}

int awg_ctl_call(struct ctl *ctl, const struct awg_mgr_msg *req, struct awg_mgr_msg *reply,
		 int *fd)
{
	int ret;

	memset(reply, 0, sizeof(*reply));
	if (fd)
		*fd = -1;
	if (ctl->conn_err)
		return ctl->conn_err;
	if (!ctl->connected) {
		ret = awg_client_connect(&ctl->client, ctl->socket);
		if (ret) {
			awg_ctl_err("cannot reach the manager at %s: %s (is awg-manager running?)",
				    ctl->socket, strerror(-ret));
			ctl->conn_err = ret;
			return ret;
		}
		ctl->connected = true;
	}
	ret = awg_client_call(&ctl->client, req, reply, fd);
	if (ret) {
		print_transport_error(ctl, ret);
		/* Encoding errors leave the stream usable; anything else breaks it. */
		if (ctl->client.broken)
			ctl->conn_err = ret;
		return ret;
	}
	if (reply->status) {
		/* The manager's sentence never holds a secret; it is meant for people. */
		awg_ctl_printable(reply->error);
		awg_ctl_err("%s", reply->error[0] ? reply->error : strerror((int)reply->status));
		return reply->status > 0x7fffffff ? EPROTO : (int)reply->status;
	}
	return 0;
}

int awg_ctl_simple(struct ctl *ctl, unsigned method, const char *name)
{
	struct awg_mgr_msg req = { .code = (uint8_t)method }, reply;
	int ret;

	if (name && !awg_ctl_name_ok(name))
		return CTL_FAIL;
	if (name)
		snprintf(req.name, sizeof(req.name), "%s", name);
	ret = awg_ctl_call(ctl, &req, &reply, NULL);
	awg_mgr_msg_free(&reply);
	return ret ? CTL_FAIL : CTL_OK;
}

const char *awg_ctl_state_text(unsigned state)
{
	static const char *const names[] = {
		[AWG_MGR_UNKNOWN] = "unknown", [AWG_MGR_STARTED] = "started",
		[AWG_MGR_STOPPED] = "stopped", [AWG_MGR_STARTING] = "starting",
		[AWG_MGR_STOPPING] = "stopping",
	};

	return state < AWG_MGR_STATES ? names[state] : "unknown";
}

bool awg_ctl_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (!len || len > AWG_MGR_NAME_MAX) {
		awg_ctl_err("tunnel name '%.*s' must be 1 to %d characters long",
			    AWG_MGR_NAME_MAX + 8, name, AWG_MGR_NAME_MAX);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_=+.-",
			    name[i])) {
			awg_ctl_err("tunnel name '%s' is invalid: use letters, digits and _=+.-",
				    name);
			return false;
		}
	}
	return true;
}

/*
 * read(2), not stdio: a configuration holds keys, and a FILE buffer would keep a copy we
 * cannot wipe. The buffer is copied (and the old one wiped) as it grows, for the same reason.
 */
int awg_ctl_read_file(const char *path, size_t max, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1), *p;
	int fd = 0, ret = 0;

	if (!buf)
		return -ENOMEM;
	if (strcmp(path, "-")) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			ret = -errno;
			goto out;
		}
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap > max) {
				ret = -EFBIG;
				goto out;
			}
			p = malloc(cap * 2 + 1);
			if (!p) {
				ret = -ENOMEM;
				goto out;
			}
			memcpy(p, buf, n);
			awg_wipe(buf, n);
			free(buf);
			buf = p;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			goto out;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	if (n > max)
		ret = -EFBIG;
out:
	if (fd > 0)
		close(fd);
	if (ret) {
		awg_wipe(buf, n);
		free(buf);
		return ret;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static int cmd_start(struct ctl *ctl, int argc, char **argv)
{
	const char *name;

	if (awg_ctl_args(argc, argv, NULL, &name, 1, 1) < 0)
		return CTL_USAGE;
	return awg_ctl_simple(ctl, AWG_MGR_START, name);
}

static int cmd_stop(struct ctl *ctl, int argc, char **argv)
{
	const char *name;

	if (awg_ctl_args(argc, argv, NULL, &name, 1, 1) < 0)
		return CTL_USAGE;
	return awg_ctl_simple(ctl, AWG_MGR_STOP, name);
}

static int cmd_wait(struct ctl *ctl, int argc, char **argv)
{
	const char *name;

	if (awg_ctl_args(argc, argv, NULL, &name, 1, 1) < 0)
		return CTL_USAGE;
	return awg_ctl_simple(ctl, AWG_MGR_WAIT_FOR_STOP, name);
}

static int cmd_delete(struct ctl *ctl, int argc, char **argv)
{
	const char *name;

	if (awg_ctl_args(argc, argv, NULL, &name, 1, 1) < 0)
		return CTL_USAGE;
	return awg_ctl_simple(ctl, AWG_MGR_DELETE, name);
}

static int cmd_role(struct ctl *ctl, int argc, char **argv)
{
	static const char *const roles[] = {
		[AWG_MGR_ROLE_NONE] = "none", [AWG_MGR_ROLE_ADMIN] = "admin",
		[AWG_MGR_ROLE_OPERATOR] = "operator",
	};
	struct awg_mgr_msg req = { .code = AWG_MGR_ROLE }, reply;
	const char *role;

	if (awg_ctl_args(argc, argv, NULL, NULL, 0, 0) < 0)
		return CTL_USAGE;
	if (awg_ctl_call(ctl, &req, &reply, NULL)) {
		awg_mgr_msg_free(&reply);
		return CTL_FAIL;
	}
	role = reply.state < AWG_MGR_ROLES ? roles[reply.state] : "unknown";
	if (ctl->json) {
		fputs("{\"role\":", stdout);
		awg_json_string(stdout, role);
		printf(",\"uid\":%u}\n", reply.value);
	} else {
		printf("%s (uid %u)\n", role, reply.value);
	}
	awg_mgr_msg_free(&reply);
	return CTL_OK;
}

static int cmd_help(struct ctl *ctl, int argc, char **argv)
{
	(void)ctl;
	(void)argc;
	(void)argv;
	fputs(usage_text, stdout);
	return CTL_OK;
}

static const struct {
	const char *name;
	int (*fn)(struct ctl *ctl, int argc, char **argv);
} commands[] = {
	{ "list", awg_ctl_cmd_list },
	{ "status", awg_ctl_cmd_status },
	{ "import", awg_ctl_cmd_import },
	{ "export", awg_ctl_cmd_export },
	{ "add", awg_ctl_cmd_add },
	{ "edit", awg_ctl_cmd_edit },
	{ "delete", cmd_delete },
	{ "start", cmd_start },
	{ "stop", cmd_stop },
	{ "wait", cmd_wait },
	{ "log", awg_ctl_cmd_log },
	{ "update", awg_ctl_cmd_update },
	{ "role", cmd_role },
	{ "help", cmd_help },
};

/* stdout may be a closed pipe (awgctl log | head): the reader is gone, end quietly. */
static int finish_stdout(int status)
{
	if (fflush(stdout) || ferror(stdout)) {
		if (errno == EPIPE)
			return status;
		awg_ctl_err("writing the output: %s", strerror(errno));
		return status ? status : CTL_FAIL;
	}
	return status;
}

int main(int argc, char **argv)
{
	static const struct option global[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct ctl ctl = { 0 };
	int c, status;

	/* A closed stdout shows up as EPIPE from write, not as a fatal signal. */
	signal(SIGPIPE, SIG_IGN);
	/* '+': stop at the command, whose own options follow it. */
	while ((c = getopt_long(argc, argv, "+h", global, NULL)) != -1) {
		switch (c) {
		case 's':
			ctl.socket = optarg;
			break;
		case 'j':
			ctl.json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return finish_stdout(CTL_OK);
		default:
			usage_hint();
			return CTL_USAGE;
		}
	}
	if (optind == argc) {
		awg_ctl_err("no command given");
		usage_hint();
		return CTL_USAGE;
	}
	ctl.socket = awg_client_socket_path(ctl.socket);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name))
			continue;
		status = commands[i].fn(&ctl, argc - optind, argv + optind);
		if (ctl.connected)
			awg_client_close(&ctl.client);
		return finish_stdout(status);
	}
	awg_ctl_err("unknown command '%s'", argv[optind]);
	usage_hint();
	return CTL_USAGE;
}
