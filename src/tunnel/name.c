// SPDX-License-Identifier: MIT
/* Owns the tunnel name rules and the argument-to-config-path resolution of name.h. */
#include "name.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("_=+.-", c);
}

static bool reserved(const char *name)
{
	static const char *const words[] = { "CON", "PRN", "AUX", "NUL" };

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcasecmp(name, words[i]))
			return true;
	return strlen(name) == 4 && (!strncasecmp(name, "COM", 3) || !strncasecmp(name, "LPT", 3)) &&
	       name[3] >= '1' && name[3] <= '9';
}

bool awg_tunnel_name_valid(const char *name, const char **why)
{
	size_t n = strlen(name);
	const char *w = NULL;

	if (!n)
		w = "the name is empty";
	else if (n > AWG_TUNNEL_NAME_MAX)
		w = "the name is longer than 15 bytes (the interface name limit)";
	else if (name[0] == '.' || name[n - 1] == '.')
		w = "the name starts or ends with '.'";
	else if (reserved(name))
		w = "the name is reserved (CON, PRN, AUX, NUL, COM1-9, LPT1-9)";
	for (size_t i = 0; !w && i < n; i++)
		if (!name_char(name[i]))
			w = "the name has a character other than a-z A-Z 0-9 _ = + . -";
	if (why)
		*why = w;
	return !w;
}

int awg_tunnel_name_resolve(const char *arg, const char *conf_dir, char *path, char *name,
			    const char **why)
{
	size_t n = strlen(arg);
	bool is_path = strchr(arg, '/') || (n > 5 && !strcmp(arg + n - 5, ".conf"));
	const char *base = strrchr(arg, '/');
	size_t blen;

	base = base ? base + 1 : arg;
	blen = strlen(base);
	if (is_path) {
		if (blen <= 5 || strcmp(base + blen - 5, ".conf")) {
			*why = "a config path must end in <name>.conf";
			return -EINVAL;
		}
		blen -= 5;
	}
	if (blen > AWG_TUNNEL_NAME_MAX) {
		*why = "the name is longer than 15 bytes (the interface name limit)";
		return -EINVAL;
	}
	memcpy(name, base, blen);
	name[blen] = 0;
	if (!awg_tunnel_name_valid(name, why))
		return -EINVAL;
	if (is_path)
		snprintf(path, 4096, "%s", arg);
	else
		snprintf(path, 4096, "%s/%s.conf", conf_dir ? conf_dir : AWG_TUNNEL_CONF_DIR, name);
	return 0;
}
