// SPDX-License-Identifier: MIT
/* Tunnel names and config-path resolution of awg-tunnel (src/tunnel/name.c). */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "name.h"

static void name_rules(void)
{
	static const char *const good[] = { "wg0", "awg-home", "a", "x_y=z+1.2", "123456789012345" };
	static const char *const bad[] = { "", "1234567890123456", ".hidden", "trail.", "a b",
					   "a/b", "tun$0", "CON", "nul", "com7", "LPT1", "ünï" };
	const char *why = NULL;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(awg_tunnel_name_valid(good[i], &why) && !why);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		CHECK(!awg_tunnel_name_valid(bad[i], &why) && why);
	}
	/* Only the exact reserved words: COM10 and CONSOLE are fine. */
	CHECK(awg_tunnel_name_valid("COM10", NULL));
	CHECK(awg_tunnel_name_valid("CONSOLE", NULL));
}

static void resolve(void)
{
	char path[4096], name[AWG_TUNNEL_NAME_MAX + 1];
	const char *why;

	CHECK_INT(awg_tunnel_name_resolve("home", NULL, path, name, &why), 0);
	CHECK(!strcmp(path, "/etc/amneziawg/home.conf") && !strcmp(name, "home"));
	CHECK_INT(awg_tunnel_name_resolve("home", "/tmp/c", path, name, &why), 0);
	CHECK(!strcmp(path, "/tmp/c/home.conf"));
	CHECK_INT(awg_tunnel_name_resolve("/x/y/wg1.conf", NULL, path, name, &why), 0);
	CHECK(!strcmp(path, "/x/y/wg1.conf") && !strcmp(name, "wg1"));
	CHECK_INT(awg_tunnel_name_resolve("wg2.conf", NULL, path, name, &why), 0);
	CHECK(!strcmp(path, "wg2.conf") && !strcmp(name, "wg2"));
	/* A path must end in .conf; its base name must be a valid name. */
	CHECK_INT(awg_tunnel_name_resolve("/x/y/wg1.txt", NULL, path, name, &why), -EINVAL);
	CHECK_INT(awg_tunnel_name_resolve("/x/.conf", NULL, path, name, &why), -EINVAL);
	CHECK_INT(awg_tunnel_name_resolve("/x/waytoolongname123.conf", NULL, path, name, &why),
		  -EINVAL);
	CHECK(why && strstr(why, "15 bytes"));
	CHECK_INT(awg_tunnel_name_resolve("bad name", NULL, path, name, &why), -EINVAL);
}

TEST_MAIN("tunnel-name", T(name_rules), T(resolve))
